"""Channel coding shared by the video and audio watermarks: CRC-16 + a K=7, rate-1/2 convolutional
code (the NASA/Voyager generators 171, 133) decoded by soft-decision Viterbi.

Soft values follow one convention everywhere: positive means bit 1, negative bit 0, magnitude is
confidence.
"""

from __future__ import annotations

import numpy as np

CONSTRAINT = 7
GENERATORS = (0o171, 0o133)
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


def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """For each state and input bit: the next state and the two output bits."""
    next_state = np.zeros((_STATES, 2), np.int64)
    outputs = np.zeros((_STATES, 2, 2), np.int8)
    for state in range(_STATES):
        for bit in (0, 1):
            register = (bit << TAIL) | state  # newest bit on top, K bits in all
            next_state[state, bit] = register >> 1
            for g, generator in enumerate(GENERATORS):
                outputs[state, bit, g] = _parity(register & generator)
    return next_state, outputs


_NEXT, _OUT = _trellis()


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Encode ``bits`` followed by K-1 zero tail bits: 2 * (len(bits) + 6) coded bits."""
    state = 0
    coded = []
    for bit in list(np.asarray(bits, np.uint8)) + [0] * TAIL:
        coded.extend(_OUT[state, int(bit)])
        state = _NEXT[state, int(bit)]
    return np.array(coded, np.uint8)


def viterbi_decode(soft: np.ndarray, n_bits: int) -> np.ndarray:
    """Maximum-likelihood ``n_bits`` from 2 * (n_bits + 6) soft values (positive = 1)."""
    soft = np.asarray(soft, np.float64).reshape(-1, 2)
    steps = n_bits + TAIL
    if len(soft) != steps:
        raise ValueError(f"expected {2 * steps} soft values, got {2 * len(soft)}")
    signs = 2.0 * _OUT - 1.0  # (state, bit, 2) in ±1
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    history = np.zeros((steps, _STATES), np.int64)  # previous state of each survivor
    decided = np.zeros((steps, _STATES), np.uint8)
    states = np.arange(_STATES)
    for step in range(steps):
        gain = signs @ soft[step]  # (state, bit)
        candidates = metric[:, None] + gain
        new_metric = np.full(_STATES, -np.inf)
        new_prev = np.zeros(_STATES, np.int64)
        new_bit = np.zeros(_STATES, np.uint8)
        for bit in (0, 1):
            targets = _NEXT[:, bit]
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


def encode_payload(payload: int, n_bits: int) -> np.ndarray:
    """payload bits + CRC-16, convolutionally coded: 2 * (n_bits + 22) bits of 0/1."""
    bits = int_to_bits(payload, n_bits)
    return conv_encode(np.concatenate([bits, crc16(bits)]))


def coded_length(n_bits: int) -> int:
    return 2 * (n_bits + 16 + TAIL)


def decode_payload(soft: np.ndarray, n_bits: int) -> tuple[int | None, float]:
    """(payload or None when the CRC fails, agreement -1..1 of the soft values with the codeword).

    ``agreement`` is the normalised correlation between the soft values and the re-encoded best
    codeword: near 0 for noise, near 1 for a clean mark.
    """
    decoded = viterbi_decode(soft, n_bits + 16)
    data, check = decoded[:n_bits], decoded[n_bits:]
    codeword = 2.0 * conv_encode(decoded) - 1.0
    soft = np.asarray(soft, np.float64)
    norm = np.linalg.norm(soft) * np.linalg.norm(codeword)
    agreement = float(soft @ codeword / norm) if norm > 0 else 0.0
    if not np.array_equal(crc16(data), check):
        return None, agreement
    return bits_to_int(data), agreement
