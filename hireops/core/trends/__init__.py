"""Trends: how many rows of each kind fell in each hour and day, kept as things happen.

A page never counts raw rows. Each metric's rows are summed into ``TrendRollup`` rows (hour
buckets, and day buckets made of them), recomputed from the raw rows of one hour at a time:

1. a service that writes a metric's rows (an insert, a status change, a deletion) marks the
   hours they fall in dirty (``mark``), in the same transaction: if the change commits, so does
   the mark;
2. ``recompute`` (a beat task, every minute) deletes a batch of marks, recomputes those hours
   from their raw rows (an indexed range query, ``Metric.count``) and their days from the
   hours, and commits all of it at once. A killed worker rolls back: the marks are still there
   and the next run does the work. A writer that marks an hour while it is being recomputed
   waits for the deletion of the mark and marks it again, so its change is counted next run.

Retention is not forgetting: a service that prunes old rows calls ``prune`` with them in the
transaction that deletes them, which keeps their counts as the hour's "pruned" rollup, added
to what is left whenever the hour is recomputed. Any other deletion takes the rows out of the
trend.

The result depends on the rows (and the pruned counts) alone, never on the order of changes: replays,
reprocessing, events that arrive late and deletions leave the rollups equal to a GROUP BY over
the rows (``tests/test_trends.py`` checks this on PostgreSQL after random changes).
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import Aggregate, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncHour
from django.utils import timezone

from .models import Grain, TrendDirtyBucket, TrendRollup

HOUR = timedelta(hours=1)
BATCH = 200  # hours recomputed per transaction
# One recomputation at a time: two workers summing the same day from its hours could each miss
# the other's uncommitted hour. Another run finds the lock taken and leaves the work to it.
_LOCK = 0x7472656E6473  # "trends"


@dataclass(frozen=True)
class Metric:
    """``count(start, end)``: (dimension, outcome, n) of the raw rows in [start, end)."""

    name: str
    count: Callable[[datetime, datetime], Iterable[tuple[str, str, int]]]
    monthly: bool = False  # month rollups too, the sums of the days
    # How far past now its rows' moments may fall (an order's due moment): the backfill marks
    # those hours too, which no write will mark later.
    ahead: Callable[[], timedelta] | None = None
    # Where its rows begin, for a level whose every hour from the first row counts (what the
    # referral accounts hold): the backfill starts there when that is earlier than its days.
    since: Callable[[], datetime | None] | None = None
    # ``count`` for a batch of hours at once, (hour, dimension, outcome, n), where counting
    # hour by hour costs much more (a metric whose every hour reads more than its own rows).
    count_hours: Callable[[list[datetime]], Iterable[tuple[datetime, str, str, int]]] | None = None


_metrics: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    _metrics[metric.name] = metric
    return metric


def metrics() -> dict[str, Metric]:
    return dict(_metrics)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> datetime:
    """The local midnight that starts ``moment``'s day."""
    day = timezone.localtime(moment).date()
    return timezone.make_aware(datetime.combine(day, time.min))


def month_of(moment: datetime) -> datetime:
    """The local midnight that starts ``moment``'s month."""
    day = timezone.localtime(moment).date().replace(day=1)
    return timezone.make_aware(datetime.combine(day, time.min))


# A batch's dirty hours further apart than this are read in separate queries: a batch of
# scattered hours reads the rows of at most a day between two of them (for the orders, about
# 550 in a busy vendor's year of 200,000: cheaper to read than the queries they save), never
# those of the months between.
SPAN_GAP = timedelta(days=1)


def spans(hours: Iterable[datetime], gap: timedelta = SPAN_GAP) -> list[tuple[datetime, datetime]]:
    """[start, end) ranges covering ``hours``, one for each run of hours at most ``gap`` apart:
    a metric's ``count_hours`` reads each range in one query, never the months between two
    scattered hours."""
    ranges: list[list[datetime]] = []
    for hour in sorted(hours):
        if ranges and hour - ranges[-1][1] <= gap:
            ranges[-1][1] = hour
        else:
            ranges.append([hour, hour])
    return [(first, last + HOUR) for first, last in ranges]


Counts = Iterable[tuple[str, str, int]]
HourCounts = Iterable[tuple[datetime, str, str, int]]
# A metric's ``count`` and ``count_hours``, built together so they cannot disagree.
Counters = tuple[Callable[[datetime, datetime], Counts], Callable[[list[datetime]], HourCounts]]
R = TypeVar("R")  # a row as ``summed`` reads it


def placed(
    rows_at: Callable[[datetime, datetime], Iterable[tuple[datetime, str, str]]], gap: timedelta = SPAN_GAP
) -> Counters:
    """A metric's ``count`` and ``count_hours`` from one rule: ``rows_at(start, end)`` gives
    (moment, dimension, outcome) of each row counting in [start, end), placed at its moment (a
    metric whose rows are judged in Python, or counted at two moments). ``summed`` with each
    row counting one: a batch of hours is read a span at a time (``spans``, hours at most
    ``gap`` apart)."""

    def each(start: datetime, end: datetime) -> Iterable[tuple[datetime | None, tuple[str, str]]]:
        return ((moment, (d, o)) for moment, d, o in rows_at(start, end))

    def counted(rows: Iterable[tuple[str, str]]) -> Counts:
        return [(d, o, n) for (d, o), n in Counter(rows).items()]

    return summed(each, counted, gap)


def summed(
    rows_at: Callable[[datetime, datetime], Iterable[tuple[datetime | None, R]]],
    sums: Callable[[Iterable[R]], Counts],
    gap: timedelta = SPAN_GAP,
) -> Counters:
    """A metric's ``count`` and ``count_hours`` for rows added up in Python (a JSON object of
    amounts per row): ``rows_at(start, end)`` gives (moment, row) of each row counting in
    [start, end), ``sums(rows)`` the (dimension, outcome, n) of a group of them. A batch of
    hours is read a span at a time (``spans``) and its rows summed by the hour of their moment."""

    def count(start: datetime, end: datetime) -> Counts:
        return sums(row for _moment, row in rows_at(start, end))

    def count_hours(hours: list[datetime]) -> HourCounts:
        wanted = set(hours)
        found: list[tuple[datetime, str, str, int]] = []
        for start, end in spans(hours, gap):
            by_hour: dict[datetime, list[R]] = defaultdict(list)
            for moment, row in rows_at(start, end):
                # A row found in a range has its moment (None only as the column's type allows).
                if moment is not None and (hour := hour_of(moment)) in wanted:
                    by_hour[hour].append(row)
            found += [(hour, d, o, n) for hour, rows in by_hour.items() for d, o, n in sums(rows)]
        return found

    return count, count_hours


@dataclass(frozen=True)
class Counted:
    """Rows a metric counts in SQL: ``rows()`` (the metric's own filter, not the moment's),
    ``at`` the column of the moment they count at, ``dimension`` and ``outcome`` each a column
    (``"status"``) or a fixed value (``Value("check")``), and ``n`` what a row adds (its number, or
    ``Sum("count")`` for rows that are counts already). ``hourly``: ``at`` holds whole hours."""

    rows: Callable[[], QuerySet]
    at: str
    dimension: str | Value
    outcome: str | Value
    n: Aggregate = field(default_factory=lambda: Count("pk"))
    hourly: bool = False


def grouped(*parts: Counted) -> Counters:
    """A metric's ``count`` and ``count_hours`` from the rows of ``parts``, grouped in SQL: an
    hour's counts in one query a part, a batch's in one query a part and span (``spans``) grouped
    by hour, where counting its hours one by one made a year's backfill some 9,000 queries."""

    def read(part: Counted, start: datetime, end: datetime, by_hour: bool) -> Iterable[tuple]:
        """(hour, dimension, outcome, n) of ``part``'s rows in [start, end); hour None unless
        ``by_hour``."""
        rows = part.rows().filter(**{f"{part.at}__gte": start, f"{part.at}__lt": end}).order_by()
        columns = [c for c in (part.dimension, part.outcome) if isinstance(c, str)]
        if by_hour and not part.hourly:
            rows, columns = rows.annotate(trend_hour=TruncHour(part.at, tzinfo=UTC)), ["trend_hour", *columns]
        elif by_hour:
            columns = [part.at, *columns]
        if not columns:  # one count for the range: no GROUP BY
            found = [(rows.aggregate(trend_n=part.n)["trend_n"] or 0,)]
        else:
            found = rows.values_list(*columns).annotate(trend_n=part.n).values_list(*columns, "trend_n")
        for values in found:
            given = iter(values)
            hour = next(given) if by_hour else None
            d = part.dimension.value if isinstance(part.dimension, Value) else next(given)
            o = part.outcome.value if isinstance(part.outcome, Value) else next(given)
            yield hour, d, o, next(given)

    def count(start: datetime, end: datetime) -> Counts:
        return [(d, o, n) for part in parts for _hour, d, o, n in read(part, start, end, by_hour=False)]

    def count_hours(hours: list[datetime]) -> HourCounts:
        wanted = set(hours)
        return [
            (hour, d, o, n)
            for start, end in spans(hours)
            for part in parts
            for hour, d, o, n in read(part, start, end, by_hour=True)
            if hour in wanted
        ]

    return count, count_hours


def mark(metric: str, moments: Iterable[datetime | None]) -> None:
    """Mark the hours of ``moments`` dirty, in the caller's transaction (call it from inside
    the one that changes the rows)."""
    hours = {hour_of(m) for m in moments if m is not None}
    if hours:
        TrendDirtyBucket.objects.bulk_create(
            [TrendDirtyBucket(metric=metric, bucket=h) for h in sorted(hours)], ignore_conflicts=True
        )


def mark_range(metric: str, start: datetime, end: datetime) -> None:
    """Every hour from ``start`` up to ``end`` (the backfill, a deletion of a whole range)."""
    hour, hours = hour_of(start), []
    while hour < end:
        hours.append(hour)
        hour += HOUR
    mark(metric, hours)


def prune(metric: str, rows: Iterable[tuple[datetime, str, str]]) -> None:
    """Keep the counts of ``rows`` ((moment, dimension, outcome) of each row about to be deleted
    by retention), in the deleting transaction."""
    counted: dict[tuple[datetime, str, str], int] = defaultdict(int)
    for moment, dimension, outcome in rows:
        counted[hour_of(moment), dimension, outcome] += 1
    for (hour, dimension, outcome), n in sorted(counted.items()):
        kept = TrendRollup.objects.filter(
            metric=metric, grain=Grain.PRUNED, bucket=hour, dimension=dimension, outcome=outcome
        )
        if not kept.update(count=F("count") + n):
            TrendRollup.objects.create(
                metric=metric, grain=Grain.PRUNED, bucket=hour, dimension=dimension, outcome=outcome, count=n
            )
    mark(metric, (hour for hour, _d, _o in counted))


def recompute(batch: int = BATCH, limit: int | None = None) -> int:
    """Recompute dirty hours, a batch per transaction, until none is left (or ``limit``
    hours were done); returns how many."""
    done = 0
    while limit is None or done < limit:
        n = _recompute_batch(batch if limit is None else min(batch, limit - done))
        if n <= 0:
            break
        done += n
    return done


def _recompute_batch(batch: int) -> int:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
                if not cursor.fetchone()[0]:
                    return -1
        pks = list(TrendDirtyBucket.objects.order_by("bucket").values_list("pk", flat=True)[:batch])
        if not pks:
            return 0
        # Deleted first: a writer marking one of these hours now waits for this transaction
        # and marks it again after it, so a change this recomputation cannot see is not lost.
        marks = _delete_returning(pks)
        hours: dict[str, set[datetime]] = defaultdict(set)
        for metric, hour in marks:
            if metric in _metrics:
                hours[metric].add(hour)
        # A metric's hours, then their days and months, each in a few statements for the whole
        # batch rather than a few per hour: a backfill's year is ~9,000 hours a metric.
        for metric, dirty in hours.items():
            _recompute_hours(_metrics[metric], sorted(dirty))
            starts = sorted({day_of(hour) for hour in dirty})
            _recompute_days(metric, starts)
            if _metrics[metric].monthly:
                _recompute_months(metric, sorted({month_of(start) for start in starts}))
        return len(marks)


def _delete_returning(pks: list[int]) -> list[tuple[str, datetime]]:
    table = connection.ops.quote_name(TrendDirtyBucket._meta.db_table)
    marks = [connection.ops.quote_name(c) for c in ("metric", "bucket")]
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(pks))
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN ({placeholders}) RETURNING {marks[0]}, {marks[1]}",  # noqa: S608
            pks,
        )
        rows = cursor.fetchall()
    field = TrendDirtyBucket._meta.get_field("bucket")
    converters = field.get_db_converters(connection)
    out = []
    for metric, bucket in rows:
        for convert in converters:
            bucket = convert(bucket, field, connection)
        if isinstance(bucket, str):  # SQLite's RETURNING hands back text
            bucket = datetime.fromisoformat(bucket)
        if timezone.is_naive(bucket):
            bucket = bucket.replace(tzinfo=UTC)
        out.append((metric, bucket))
    return out


def _recompute_hours(metric: Metric, hours: list[datetime]) -> None:
    """Each hour's rollups: its raw rows counted (``Metric.count``, an indexed range each, or
    ``Metric.count_hours`` for all of them) and the counts retention pruned from it."""
    counted: dict[datetime, dict[tuple[str, str], int]] = {hour: defaultdict(int) for hour in hours}
    if metric.count_hours is not None:
        for hour, d, o, n in metric.count_hours(hours):
            counted[hour][d, o] += n
    else:
        for hour in hours:
            for d, o, n in metric.count(hour, hour + HOUR):
                counted[hour][d, o] += n
    pruned = TrendRollup.objects.filter(metric=metric.name, grain=Grain.PRUNED, bucket__in=hours)
    for bucket, d, o, n in pruned.values_list("bucket", "dimension", "outcome", "count"):
        counted[bucket][d, o] += n
    _replace(metric.name, Grain.HOUR, counted)


def _recompute_days(metric: str, starts: list[datetime]) -> None:
    """Each day's rollups (``starts``: local midnights), the sums of its hours; 36 hours on is
    in the next day, whatever a DST shift does."""
    _sum_into(metric, Grain.DAY, Grain.HOUR, starts, day_of, timedelta(hours=36))


def _recompute_months(metric: str, starts: list[datetime]) -> None:
    _sum_into(metric, Grain.MONTH, Grain.DAY, starts, month_of, timedelta(days=32))


def _sum_into(
    metric: str,
    grain: str,
    parts: str,
    starts: list[datetime],
    start_of: Callable[[datetime], datetime],
    into_next: timedelta,
) -> None:
    """The ``grain`` rollups starting at each of ``starts``: the sums of their ``parts``, read
    in one query. ``start_of`` is the start of a moment's bucket; ``into_next`` past a start is
    inside the next bucket."""
    within = Q()
    for start in starts:
        within |= Q(bucket__gte=start, bucket__lt=start_of(start + into_next))
    found = TrendRollup.objects.filter(within, metric=metric, grain=parts)
    summed: dict[datetime, dict[tuple[str, str], int]] = {start: defaultdict(int) for start in starts}
    start_of_part: dict[datetime, datetime] = {}  # a month's days are many rows, 30 buckets
    for bucket, d, o, n in found.values_list("bucket", "dimension", "outcome", "count"):
        if bucket not in start_of_part:
            start_of_part[bucket] = start_of(bucket)
        summed[start_of_part[bucket]][d, o] += n
    _replace(metric, grain, summed)


def _replace(metric: str, grain: str, counted: dict[datetime, dict[tuple[str, str], int]]) -> None:
    """The ``grain`` rollups of these buckets become ``counted`` (a count of 0 is not kept).

    Only what differs is written: a day's recomputation changes a few of its month's rows (the
    customers busy that day), and rewriting all of them was most of a backfill's time."""
    wanted = {(bucket, d, o): n for bucket, counts in counted.items() for (d, o), n in counts.items() if n}
    kept = TrendRollup.objects.filter(metric=metric, grain=grain, bucket__in=list(counted))
    gone, changed = [], []
    for pk, bucket, d, o, n in kept.values_list("pk", "bucket", "dimension", "outcome", "count"):
        now = wanted.pop((bucket, d, o), 0)
        if not now:
            gone.append(pk)
        elif now != n:
            changed.append(TrendRollup(pk=pk, count=now))
    if gone:
        TrendRollup.objects.filter(pk__in=gone).delete()
    if changed:
        TrendRollup.objects.bulk_update(changed, ["count"], batch_size=500)
    TrendRollup.objects.bulk_create(
        TrendRollup(metric=metric, grain=grain, bucket=bucket, dimension=d, outcome=o, count=n)
        for (bucket, d, o), n in wanted.items()
    )


def series(
    metric: str, grain: str, start: datetime, end: datetime, dimensions: Iterable[str] | None = None
) -> dict[tuple[datetime, str], int]:
    """{(bucket, outcome): count} of ``metric`` in [start, end), summed over ``dimensions``
    (all of them when None): one query on the rollups' index."""
    rows = TrendRollup.objects.filter(metric=metric, grain=grain, bucket__gte=start, bucket__lt=end)
    if dimensions is not None:
        rows = rows.filter(dimension__in=list(dimensions))
    summed = rows.order_by().values("bucket", "outcome").annotate(n=Sum("count"))
    return {(r["bucket"], r["outcome"]): r["n"] for r in summed}
