import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from consent import checkpoints, ledger


class Command(BaseCommand):
    help = (
        "Check the consent ledger's hash chain, then compare it with the latest signed checkpoint "
        "(or --checkpoint FILE): print the head hash, or the first bad entry and what differs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            type=Path,
            help="A downloaded checkpoint file to compare with, instead of the latest stored one.",
        )

    def handle(self, *args, checkpoint: Path | None = None, **options):
        status = ledger.verify()
        if not status.intact:
            raise CommandError(
                f"The consent ledger is broken at seq {status.first_bad_seq}: {status.problem}."
            )
        try:
            if checkpoint is not None:
                comparison = checkpoints.compare(checkpoints.verify_file(_read(checkpoint)))
            else:
                comparison = checkpoints.compare_latest()
        except checkpoints.CheckpointInvalid as error:
            raise CommandError(str(error)) from error
        if comparison is not None and not comparison.matches:
            raise CommandError(
                f"The consent ledger does not match {comparison.checkpoint}: "
                + "; ".join(comparison.differences)
                + "."
            )
        against = (
            f"matches {comparison.checkpoint}"
            if comparison is not None
            else "no signed checkpoint yet: run manage.py ledger_checkpoint"
        )
        self.stdout.write(f"{status.head_hash} ({status.length} entries, intact; {against})")


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read the checkpoint file {path}: {error}") from error
