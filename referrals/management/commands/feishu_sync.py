from datetime import timedelta

from hireops.core.management.base import HireopsCommand
from referrals.sync import GRACE, sync_pending


class Command(HireopsCommand):
    help = (
        "One pass of every pending outbound job (registrations, withdrawals, enable/deactivate) "
        "and a balance pull, in this process. For cron users."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-pull", action="store_true", help="skip the balance pull")
        parser.add_argument(
            "--grace-seconds",
            type=int,
            default=int(GRACE.total_seconds()),
            help="leave jobs younger than this to the Celery worker that is probably running them "
            "(0 when no worker runs)",
        )

    def handle(self, *args, no_pull, grace_seconds, **options):
        report = sync_pending(pull=not no_pull, grace=timedelta(seconds=grace_seconds))
        for job, (done, later) in report.items():
            label = "pulled / failed" if job == "balances" else "done / to retry"
            self.stdout.write(f"{job:15} {done} / {later}  ({label})")
