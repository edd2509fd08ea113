"""Queue again webhook deliveries whose task was lost (a dropped message, a worker that died
mid-try). Run it every few minutes; a delivery found by it keeps its place in the schedule."""

from django.core.management.base import BaseCommand

from api import webhooks


class Command(BaseCommand):
    help = "Queue again pending webhook deliveries whose task was lost."

    def handle(self, *args, **options):
        self.stdout.write(f"Queued {webhooks.requeue_lost()} lost webhook deliveries again.")
