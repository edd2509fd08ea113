"""Mutation testing of the modules that carry the product's safety promises (`make mutation`).

Each module is mutated by mutmut (pinned in requirements-mutation.txt; the shared settings are
``[tool.mutmut]`` in pyproject.toml) and its mutants are run against the test files that cover it,
on the default SQLite settings, with one worker. A mutant is *killed* when a test fails (or the
tests time out) with it in place; one that *survives* is a change no test notices. Prints each
module's killed / total and writes the survivors' diffs to var/mutation/MODULE.txt (mutmut's
folder of the run is kept as var/mutation/MODULE/).

Usage: scripts/mutation.py [MODULE ...] [--minutes N] [--again]   (no MODULE: all, in order)
``--again`` reruns, in the kept folder, only the mutants of the last run that survived, had no
test or were not reached (after adding tests, or after a run stopped at its time limit).

Not part of `make test` or CI: on two shared cores policy, ledger and topics took 10-15 minutes
each; with every module's time limit reached a full run stops after about 1 3/4 hours.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "var" / "mutation"


@dataclasses.dataclass(frozen=True)
class Module:
    path: str
    tests: tuple[str, ...]
    minutes: float  # the time limit of its run; mutants not reached by then count as not run
    # Its tests run the engine's models (MediaPipe, torch): fork each mutant from a fork server
    # (see run_one). Slower, as every mutant loads the models again, so only where needed.
    renders: bool = False


# Fast safety modules first, then the ones whose tests render video.
MODULES = {
    "policy": Module(
        "consent/policy.py",
        (
            "tests/consent/test_policy.py",
            "tests/consent/test_template_policy.py",
            "tests/consent/test_spoken_approval.py",
            # authorize_render's screening and campaign-template branches
            "tests/studio/test_screening.py",
            "tests/campaigns/test_campaigns.py",
        ),
        35,
        renders=True,  # the campaign tests synthesise speech (torch) and build avatars
    ),
    "ledger": Module(
        "consent/ledger.py",
        ("tests/consent/test_ledger.py", "tests/consent/test_ledger_checkpoints.py"),
        20,
    ),
    "topics": Module(
        "engine/text/topics.py",
        # The screening asks _Topic.found_in with the text's words (a filter no topic test uses).
        ("tests/engine/test_topics.py", "tests/engine/test_screening.py"),
        15,
    ),
    "spoken": Module(
        "engine/voice/spoken.py",
        (
            "tests/engine/test_spoken.py",
            "tests/engine/test_markup.py",
            "tests/consent/test_spoken_approval.py",
        ),
        10,
    ),
    "scheduler": Module(
        "rendering/scheduler.py", ("tests/rendering/test_farm.py",), 15, renders=True
    ),
    "provenance": Module(
        "provenance/services.py",
        (
            "tests/provenance/test_verify.py",
            "tests/provenance/test_verify_hostile.py",
            "tests/provenance/test_records.py",
            "tests/provenance/test_verify_lineage.py",
            "tests/provenance/test_verify_upload.py",
        ),
        15,
        renders=True,
    ),
    "watermark": Module(
        "engine/watermark/coding.py",
        (
            "tests/engine/test_watermark.py::test_coded_payload_survives_noisy_soft_bits",
            "tests/engine/test_watermark.py::test_the_checksum_is_crc16_ccitt",
            "tests/engine/test_watermark.py::test_a_single_one_bit_encodes_as_the_generator_polynomials",
            "tests/engine/test_watermark.py::test_known_leading_bits_bind_the_decoder",
            "tests/engine/test_watermark.py::test_errors_in_the_first_coded_bits_are_corrected_as_anywhere_else",
            "tests/engine/test_watermark.py::test_the_agreement_is_the_correlation_with_the_decoded_codeword",
            "tests/engine/test_watermark.py::test_unmarked_video_yields_no_payload",
            "tests/engine/test_watermark.py::test_unmarked_audio_yields_no_payload",
            "tests/engine/test_watermark.py::test_a_wrong_audio_prefix_never_makes_a_wrong_payload",
            "tests/engine/test_watermark.py::test_the_payload_is_read_from_an_h264_encode",
        ),
        10,
    ),
}
CAUGHT = {"killed", "timeout"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULES))
    parser.add_argument("--minutes", type=float, help="time limit per module (default: its own)")
    parser.add_argument("--again", action="store_true", help="rerun the last run's survivors")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        return run_one(MODULES[args.run_one], mutants=args.modules)
    if unknown := [name for name in args.modules if name not in MODULES]:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(MODULES)}")

    os.chdir(ROOT)
    REPORTS.mkdir(parents=True, exist_ok=True)
    rows = []
    started = time.monotonic()
    for name in args.modules or list(MODULES):
        module = MODULES[name]
        minutes = args.minutes or module.minutes
        print(f"==> {name}: mutating {module.path}, tests {' '.join(module.tests)}", flush=True)
        module_started = time.monotonic()
        kept = REPORTS / name  # each module's mutants/ is kept here between runs
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        if args.again and kept.exists():
            kept.rename(ROOT / "mutants")
        finished = run_module(name, minutes, again=args.again)
        counts, survivors = results(module)
        write_report(name, module, counts, survivors)
        shutil.rmtree(kept, ignore_errors=True)
        if (ROOT / "mutants").exists():
            (ROOT / "mutants").rename(kept)
        rows.append((name, counts, finished, time.monotonic() - module_started))
        print_table(rows[-1:])
    print(f"\nMutation testing, {(time.monotonic() - started) / 60:.1f} minutes in all:")
    print_table(rows)
    print(f"Surviving mutants' diffs: {REPORTS.relative_to(ROOT)}/MODULE.txt")
    return 0


def run_module(name: str, minutes: float, *, again: bool = False) -> bool:
    """Run mutmut on one module in mutants/ (fresh: its copies of the code must be current), or
    `again` on the survivors of the run kept there; stop it at the time limit, keeping what it
    checked. True when it checked every mutant."""
    command = [sys.executable, str(Path(__file__).resolve()), "--run-one", name]
    if again:
        _, unkilled = results(MODULES[name], statuses={"survived", "not checked", "no tests"})
        if not unkilled:
            return True
        command += unkilled
    # Its own process group, so the time limit interrupts mutmut and the workers it forked.
    process = subprocess.Popen(command, start_new_session=True)
    try:
        process.wait(timeout=minutes * 60)
        return process.returncode == 0
    except subprocess.TimeoutExpired:
        print(f"==> {name}: {minutes:g} minutes are up; stopping", flush=True)
        os.killpg(process.pid, signal.SIGINT)  # mutmut saves what it checked and stops
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False


def run_one(module: Module, *, mutants: list[str]) -> int:
    """mutmut's `run`, with the shared settings from pyproject.toml narrowed to one module and
    its tests (mutmut reads one configuration; this run's differs only in these settings)."""
    os.chdir(ROOT)
    from mutmut import configuration
    from mutmut.__main__ import cli
    from mutmut.runners.harness import PytestRunner

    configuration._config = dataclasses.replace(
        configuration.config(),
        only_mutate=[module.path],
        pytest_add_cli_args_test_selection=list(module.tests),
    )
    if module.renders:
        # Fork mutants from a fork server that has only collected the tests, not from mutmut's
        # own process, which has run them: a render leaves MediaPipe's threads running there,
        # and a fork of that process deadlocks or dies with SIGSEGV as soon as a test renders
        # again (the scheduler's "hang" and provenance's 17 "segfaults" of the first runs).
        configuration._config = dataclasses.replace(
            configuration._config, process_isolation=configuration.ProcessIsolation.FORKSERVER
        )
    PytestRunner.run_tests = _with_test_timeouts(PytestRunner.run_tests)
    # The fork server logs after pytest's capture closed its stderr: not an error worth a trace.
    logging.raiseExceptions = False
    return cli.main(["run", "--max-children", "1", *mutants], standalone_mode=False) or 0


TIMED_OUT = 36  # mutmut's exit code for a timeout
TEST_TIMEOUT_FLOOR_S = 60  # fixtures (a signed render) are not in mutmut's measured durations
TEST_TIMEOUT_FACTOR = 10


def _with_test_timeouts(run_tests):
    """`run_tests` with a time limit on each test: max(60 s, 10 x its clean duration). mutmut's
    own limit is 15 x the duration of all of a function's tests together (14 minutes for the
    render farm's), so one mutant that turns a wait loop endless would use up a module's time.
    The test is interrupted (its `finally` blocks still stop the workers it started); one that
    does not stop 30 s later ends the process. Either way the mutant counts as a timeout."""

    def run_tests_with_timeouts(self, *, mutant_name, tests):
        from mutmut.state import state

        expired = []

        def on_alarm(signum, frame):
            expired.append(True)
            if len(expired) > 1:
                os._exit(TIMED_OUT)
            signal.setitimer(signal.ITIMER_REAL, 30)
            raise TimeoutError("the test ran past its time limit in the mutation run")

        class PerTestTimeout:
            def pytest_runtest_logstart(self, nodeid, location):
                clean_s = state().duration_by_test.get(nodeid, 0)
                limit = max(TEST_TIMEOUT_FLOOR_S, TEST_TIMEOUT_FACTOR * clean_s)
                signal.setitimer(signal.ITIMER_REAL, limit)

            def pytest_runtest_logfinish(self, nodeid, location):
                if not expired:
                    signal.setitimer(signal.ITIMER_REAL, 0)

        signal.signal(signal.SIGALRM, on_alarm)
        original_execute = self.execute_pytest
        self.execute_pytest = lambda params, **kwargs: original_execute(
            params, plugins=[*kwargs.pop("plugins", []), PerTestTimeout()], **kwargs
        )
        try:
            exit_code = run_tests(self, mutant_name=mutant_name, tests=tests)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            del self.execute_pytest
        return TIMED_OUT if expired else exit_code

    return run_tests_with_timeouts


def results(
    module: Module, statuses: frozenset[str] | set[str] = frozenset({"survived"})
) -> tuple[dict[str, int], list[str]]:
    """How many of the module's mutants ended in each status, and the names of those in
    `statuses` (the survivors)."""
    from mutmut.stats import status_by_exit_code

    meta = ROOT / "mutants" / f"{module.path}.meta"
    exit_codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    counts: dict[str, int] = {}
    survivors = []
    for mutant, exit_code in sorted(exit_codes.items()):
        status = status_by_exit_code[exit_code]
        counts[status] = counts.get(status, 0) + 1
        if status in statuses:
            survivors.append(mutant)
    return counts, survivors


def write_report(name: str, module: Module, counts: dict[str, int], survivors: list[str]) -> None:
    """The survivors' diffs, as `mutmut show` prints them, in var/mutation/MODULE.txt."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    lines = [f"# {module.path}: {json.dumps(counts, sort_keys=True)}", ""]
    for mutant in survivors:
        lines += [f"# {mutant}: survived", get_diff_for_mutant(mutant, path=module.path), ""]
    (REPORTS / f"{name}.txt").write_text("\n".join(lines))


def print_table(rows) -> None:
    for name, counts, finished, seconds in rows:
        total = sum(counts.values())
        caught = sum(counts.get(status, 0) for status in CAUGHT)
        share = f"{caught / total:.0%}" if total else "-"
        others = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in CAUGHT)
        note = "" if finished else "  (did not finish: time limit or error above)"
        print(
            f"  {name:<11} killed {caught:>4} / {total:<4} {share:>5}   "
            f"{others or 'none survived'}; {seconds / 60:.1f} min{note}"
        )


if __name__ == "__main__":
    sys.exit(main())
