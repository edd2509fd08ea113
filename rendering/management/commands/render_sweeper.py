import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from rendering.scheduler import sweep_expired_leases


class Command(BaseCommand):
    help = (
        "Requeue renders whose worker went silent (lease expired), with backoff, or fail them "
        "after RENDER_MAX_ATTEMPTS. Runs forever (one per site is enough) unless --once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=10.0, help="Seconds between sweeps.")
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")

    def handle(self, *args, every: float, once: bool, **options):
        while True:
            close_old_connections()
            for job_id in sweep_expired_leases():
                self.stdout.write(f"render #{job_id}: its worker went silent; requeued or failed")
            if once:
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:
                return
