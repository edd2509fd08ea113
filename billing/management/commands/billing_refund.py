"""Give back the seconds a finished render was charged (a bad render, a goodwill gesture): once
per render, with the reason and who decided, into the workspace's credit ledger."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from billing import services
from billing.models import CreditEntry
from rendering.models import RenderJob


class Command(BaseCommand):
    help = "Refund the seconds a render was charged; prints the workspace's new balance."

    def add_arguments(self, parser):
        parser.add_argument("render_id", type=int)
        parser.add_argument("--reason", required=True, help="Why (kept in the ledger)")
        parser.add_argument("--by", required=True, help="Username of who decided")

    def handle(self, *args, render_id, reason, by, **options):
        job = RenderJob.objects.filter(pk=render_id).first()
        if job is None:
            raise CommandError(f"No render #{render_id}.")
        user = get_user_model().objects.filter(username=by).first()
        if user is None:
            raise CommandError(f"No user named “{by}”.")
        try:
            entry = services.refund_job(job, user=user, reason=reason)
        except services.CorrectionRefused as error:
            raise CommandError(str(error)) from error
        balance = CreditEntry.balance_of(job.workspace_id) / 1000
        self.stdout.write(
            f"Refunded {entry.milliseconds / 1000:g} s of render #{job.pk} to {job.workspace}; "
            f"its balance is {balance:g} s."
        )
