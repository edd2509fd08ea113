"""Erase the campaigns past CAMPAIGN_RETENTION_DAYS (run it daily, e.g. from cron)."""

from django.core.management.base import BaseCommand

from campaigns import retention


class Command(BaseCommand):
    help = "Erase recipients' data and videos of campaigns past CAMPAIGN_RETENTION_DAYS."

    def handle(self, *args, **options):
        totals = {"campaigns": 0, "recipients": 0, "videos": 0, "files": 0}
        for campaign in retention.expired():
            erased = retention.erase(campaign, reason="The campaign's retention period is over.")
            totals["campaigns"] += 1
            for key, count in erased.items():
                totals[key] += count
        self.stdout.write(
            "Erased {campaigns} campaigns: {recipients} recipients, {videos} videos, "
            "{files} files.".format(**totals)
        )
