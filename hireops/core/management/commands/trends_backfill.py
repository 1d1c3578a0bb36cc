"""Build the trends' rollups from the rows already stored (after a deployment that adds a
metric, or to repair): a day of hours at a time, resumable where it stopped."""

from datetime import timedelta

from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from hireops.core import trends
from hireops.core.management.base import HireopsCommand
from hireops.core.trends.models import TrendBackfill

STEP = timedelta(days=1)


class Command(HireopsCommand):
    help = (
        "Recompute the trends' rollups of the last --days days from the stored rows (a level's from "
        "its first row), a day at a time. "
        "Stopped, it resumes where it got to (--restart starts over)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=365, help="How far back (default: 365 days).")
        parser.add_argument("--metric", action="append", help="Only this metric (repeatable).")
        parser.add_argument("--restart", action="store_true", help="Forget where a previous run got to.")

    def handle(self, *args, **options):
        known = trends.metrics()
        names = options["metric"] or sorted(known)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise CommandError(f"Unknown metric: {', '.join(unknown)} (known: {', '.join(sorted(known))}).")
        for name in names:
            self.backfill(name, options["days"], options["restart"])

    def backfill(self, metric: str, days: int, restart: bool) -> None:
        now = timezone.now()
        # Rows written from now on are marked by the services that write them: the backfill
        # stops at the hour it started in (marked too, for what was written before it), or as
        # far ahead as the metric's moments may fall.
        found = trends.metrics()[metric]
        ahead = found.ahead() if found.ahead else timedelta(0)
        start, end = trends.hour_of(now - timedelta(days=days)), trends.hour_of(now + ahead) + trends.HOUR
        first = found.since() if found.since else None
        if first is not None:  # a level: every hour from its first row, however old
            start = min(start, trends.hour_of(first))
        state = TrendBackfill.objects.filter(metric=metric).first()
        if state is None or restart:
            state, _created = TrendBackfill.objects.update_or_create(
                metric=metric, defaults={"start": start, "end": end, "done_until": start}
            )
        elif state.done_until >= state.end:
            self.stdout.write(f"{metric}: done already (--restart to build it again).")
            return
        else:
            self.stdout.write(
                f"{metric}: resuming from {timezone.localtime(state.done_until):%Y-%m-%d %H:%M}."
            )
        while state.done_until < state.end:
            until = min(state.done_until + STEP, state.end)
            with transaction.atomic():  # the marks and the watermark together
                trends.mark_range(metric, state.done_until, until)
                state.done_until = until
                state.save(update_fields=["done_until"])
            trends.recompute()
        self.stdout.write(f"{metric}: rollups rebuilt from {timezone.localtime(state.start):%Y-%m-%d %H:%M}.")
