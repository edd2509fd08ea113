from django.core.management.base import BaseCommand, CommandError

from consent import ledger


class Command(BaseCommand):
    help = "Check the consent ledger's hash chain; print the head hash, or the first bad entry."

    def handle(self, *args, **options):
        status = ledger.verify()
        if not status.intact:
            raise CommandError(
                f"The consent ledger is broken at seq {status.first_bad_seq}: {status.problem}."
            )
        self.stdout.write(f"{status.head_hash} ({status.length} entries, intact)")
