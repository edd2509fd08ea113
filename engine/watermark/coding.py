"""Channel coding shared by the video and audio watermarks: CRC-16 + a K=7 convolutional code
decoded by soft-decision Viterbi. Rate 1/2 uses the NASA/Voyager generators (171, 133); rate 1/3
adds 165 (the 3GPP set, free distance 15), which the video mark uses.

Soft values follow one convention everywhere: positive means bit 1, negative bit 0, magnitude is
confidence; 0 marks an erased (punctured) position.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CONSTRAINT = 7
RATE_HALF = (0o171, 0o133)
RATE_THIRD = (0o133, 0o171, 0o165)
GENERATORS = RATE_HALF
TAIL = CONSTRAINT - 1
_STATES = 1 << TAIL


def crc16(bits: np.ndarray) -> np.ndarray:
    """CRC-16/CCITT (polynomial 0x1021, init 0xFFFF) of a bit array, as 16 bits, MSB first."""
    register = 0xFFFF
    for bit in np.asarray(bits, np.uint8):
        top = ((register >> 15) & 1) ^ int(bit)
        register = (register << 1) & 0xFFFF
        if top:
            register ^= 0x1021
    return int_to_bits(register, 16)


def int_to_bits(value: int, count: int) -> np.ndarray:
    return np.array([(value >> (count - 1 - i)) & 1 for i in range(count)], np.uint8)


def bits_to_int(bits: np.ndarray) -> int:
    value = 0
    for bit in np.asarray(bits, np.uint8):
        value = (value << 1) | int(bit)
    return value


def _parity(value: int) -> int:
    return bin(value).count("1") & 1


@lru_cache(maxsize=4)
def _trellis(generators: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """For each state and input bit: the next state and the output bits."""
    next_state = np.zeros((_STATES, 2), np.int64)
    outputs = np.zeros((_STATES, 2, len(generators)), np.int8)
    for state in range(_STATES):
        for bit in (0, 1):
            register = (bit << TAIL) | state  # newest bit on top, K bits in all
            next_state[state, bit] = register >> 1
            for g, generator in enumerate(generators):
                outputs[state, bit, g] = _parity(register & generator)
    return next_state, outputs


def conv_encode(bits: np.ndarray, generators: tuple[int, ...] = GENERATORS) -> np.ndarray:
    """Encode ``bits`` followed by K-1 zero tail bits: r * (len(bits) + 6) coded bits."""
    nxt, out = _trellis(generators)
    state = 0
    coded = []
    for bit in list(np.asarray(bits, np.uint8)) + [0] * TAIL:
        coded.extend(out[state, int(bit)])
        state = nxt[state, int(bit)]
    return np.array(coded, np.uint8)


def viterbi_decode(
    soft: np.ndarray,
    n_bits: int,
    known: np.ndarray | None = None,
    generators: tuple[int, ...] = GENERATORS,
) -> np.ndarray:
    """Maximum-likelihood ``n_bits`` from r * (n_bits + 6) soft values (positive = 1).

    ``known``: leading bits already known from elsewhere (the audio mark carries the top 32 bits
    of the video's id); the trellis is then restricted to paths that start with them.
    """
    nxt, out = _trellis(generators)
    rate = len(generators)
    steps = n_bits + TAIL
    soft = np.asarray(soft, np.float64)
    if len(soft) != rate * steps:
        raise ValueError(f"expected {rate * steps} soft values, got {len(soft)}")
    soft = soft.reshape(steps, rate)
    signs = 2.0 * out - 1.0  # (state, bit, r) in ±1
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    history = np.zeros((steps, _STATES), np.int64)  # previous state of each survivor
    decided = np.zeros((steps, _STATES), np.uint8)
    states = np.arange(_STATES)
    for step in range(steps):
        gain = signs @ soft[step]  # (state, bit)
        candidates = metric[:, None] + gain
        if known is not None and step < len(known):
            candidates[:, 1 - int(known[step])] = -np.inf
        new_metric = np.full(_STATES, -np.inf)
        new_prev = np.zeros(_STATES, np.int64)
        new_bit = np.zeros(_STATES, np.uint8)
        for bit in (0, 1):
            targets = nxt[:, bit]
            values = candidates[:, bit]
            # Each target state is reached from exactly two states per input bit value.
            order = np.argsort(values)  # the larger value written last wins
            better = values[order] > new_metric[targets[order]]
            chosen = order[better]
            new_metric[targets[chosen]] = values[chosen]
            new_prev[targets[chosen]] = states[chosen]
            new_bit[targets[chosen]] = bit
        metric, history[step], decided[step] = new_metric, new_prev, new_bit
    state = 0  # the tail drives the encoder back to state 0
    bits = np.zeros(steps, np.uint8)
    for step in range(steps - 1, -1, -1):
        bits[step] = decided[step, state]
        state = history[step, state]
    return bits[:n_bits]


def encode_payload(
    payload: int, n_bits: int, generators: tuple[int, ...] = GENERATORS
) -> np.ndarray:
    """payload bits + CRC-16, convolutionally coded: r * (n_bits + 22) bits of 0/1."""
    bits = int_to_bits(payload, n_bits)
    return conv_encode(np.concatenate([bits, crc16(bits)]), generators)


def coded_length(n_bits: int, generators: tuple[int, ...] = GENERATORS) -> int:
    return len(generators) * (n_bits + 16 + TAIL)


def decode_payload(
    soft: np.ndarray, n_bits: int, generators: tuple[int, ...] = GENERATORS
) -> tuple[int | None, float]:
    """(payload or None when the CRC fails, agreement -1..1 of the soft values with the codeword).

    ``agreement`` is the normalised correlation between the soft values and the re-encoded best
    codeword: near 0 for noise, near 1 for a clean mark.
    """
    payload, agreement, _ = decode_payload_raw(soft, n_bits, generators=generators)
    return payload, agreement


def decode_payload_raw(
    soft: np.ndarray,
    n_bits: int,
    known: np.ndarray | None = None,
    generators: tuple[int, ...] = GENERATORS,
) -> tuple[int | None, float, int]:
    """As ``decode_payload``, plus the decoded data bits even when the CRC fails (for measuring
    bit accuracy; never to be reported as a payload). ``known``: see ``viterbi_decode``."""
    decoded = viterbi_decode(soft, n_bits + 16, known, generators)
    data, check = decoded[:n_bits], decoded[n_bits:]
    codeword = 2.0 * conv_encode(decoded, generators) - 1.0
    soft = np.asarray(soft, np.float64)
    norm = np.linalg.norm(soft) * np.linalg.norm(codeword)
    agreement = float(soft @ codeword / norm) if norm > 0 else 0.0
    raw = bits_to_int(data)
    if not np.array_equal(crc16(data), check):
        return None, agreement, raw
    return raw, agreement, raw
