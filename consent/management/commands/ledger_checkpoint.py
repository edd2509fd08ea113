import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from consent import checkpoints


class Command(BaseCommand):
    help = (
        "Sign the consent ledger's heads (site-wide and per workspace) with the site's key and "
        "store them as a checkpoint outside the ledger, for verify_ledger to compare against. "
        "Signs nothing when no event was appended since the latest checkpoint (unless --force). "
        "Production: run it hourly (--every 3600, or cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Sign even if nothing is new.")
        parser.add_argument(
            "--out",
            type=Path,
            help="Also write the signed checkpoint file here (keep a copy off-site).",
        )
        parser.add_argument(
            "--every", type=float, help="Run forever, one checkpoint every this many seconds."
        )

    def handle(self, *args, force: bool, out: Path | None, every: float | None, **options):
        while True:
            self._checkpoint(force=force, out=out)
            if every is None:
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:
                return
            close_old_connections()  # a long-running loop: drop a connection the server closed

    def _checkpoint(self, *, force: bool, out: Path | None) -> None:
        try:
            checkpoint = checkpoints.make_checkpoint(force=force)
        except checkpoints.LedgerDiverged as error:
            raise CommandError(f"{error} No checkpoint was signed.") from error
        except checkpoints.CheckpointInvalid as error:
            raise CommandError(str(error)) from error
        if checkpoint is None:
            self.stdout.write("Nothing new since the latest checkpoint; nothing signed.")
            checkpoint = checkpoints.latest()
        else:
            self.stdout.write(
                f"Checkpoint #{checkpoint.pk}: {checkpoint.length} entries, "
                f"head {checkpoint.head_hash}, signed."
            )
        if out is not None and checkpoint is not None:
            out.write_text(json.dumps(checkpoints.checkpoint_file(checkpoint), indent=1))
