"""Whether calls to Feishu are stopped for the monthly API call quota (99991403), and lifting it."""

from datetime import UTC, datetime

from hireops.core.management.base import HireopsCommand
from hireops.feishu import get_client


class Command(HireopsCommand):
    help = (
        "Show whether calls to Feishu are stopped because the app's monthly API call quota is used "
        "up; --resume lifts the stop (after the quota was raised in the Feishu console)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--resume", action="store_true", help="send calls to Feishu again now")

    def handle(self, *args, resume, **options):
        quota = get_client().quota
        if resume:
            quota.resume()
            self.stdout.write("calls to Feishu resumed")
            return
        until = quota.stopped_until()
        if until is None:
            self.stdout.write("calls to Feishu are not stopped")
        else:
            self.stdout.write(
                f"calls to Feishu are stopped until {datetime.fromtimestamp(until, UTC):%Y-%m-%d %H:%M} UTC"
            )
