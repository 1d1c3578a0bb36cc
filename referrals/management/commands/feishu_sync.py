from django.core.management.base import BaseCommand

from referrals.sync import sync_pending


class Command(BaseCommand):
    help = (
        "One pass of every pending outbound job (registrations, withdrawals, enable/deactivate) "
        "and a balance pull, in this process. For cron users."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-pull", action="store_true", help="skip the balance pull")

    def handle(self, *args, no_pull, **options):
        report = sync_pending(pull=not no_pull)
        for job, (done, later) in report.items():
            label = "pulled / failed" if job == "balances" else "done / to retry"
            self.stdout.write(f"{job:15} {done} / {later}  ({label})")
