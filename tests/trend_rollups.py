"""What the trends' random-sequence tests compare: a metric's rollups as kept, against the
hours a GROUP BY over its rows gives (plus what retention pruned), summed into local days and,
for a monthly metric, months."""

from collections import Counter

from hireops.core import trends
from hireops.core.trends.models import Grain, TrendDirtyBucket, TrendRollup


def kept(metric: str, grain: str) -> Counter:
    """The metric's rollups of one grain: (bucket, dimension, outcome) → count."""
    rows = TrendRollup.objects.filter(metric=metric, grain=grain)
    return Counter(
        {(b, d, o): n for b, d, o, n in rows.values_list("bucket", "dimension", "outcome", "count")}
    )


def assert_kept_equals(metric: str, grouped: Counter) -> None:
    """The hour, day (and month) rollups equal ``grouped`` — (hour, dimension, outcome) → count,
    from the rows — with what retention pruned from each hour added."""
    hours = Counter(grouped)
    hours.update(kept(metric, Grain.PRUNED))  # added as update() adds: negative counts stay
    days: Counter = Counter()
    months: Counter = Counter()
    for (hour, dimension, outcome), n in hours.items():
        days[trends.day_of(hour), dimension, outcome] += n
        months[trends.month_of(hour), dimension, outcome] += n
    assert kept(metric, Grain.HOUR) == _nonzero(hours), metric
    assert kept(metric, Grain.DAY) == _nonzero(days), metric
    if trends.metrics()[metric].monthly:
        assert kept(metric, Grain.MONTH) == _nonzero(months), metric


def _nonzero(counted: Counter) -> Counter:
    """What is kept: every count but 0 (a level's changes go down too, so not a Counter's +,
    which drops the negative ones as well)."""
    return Counter({key: n for key, n in counted.items() if n})


class Killed(Exception):
    """A worker killed in the middle of a recomputation."""


def killed_recompute(monkeypatch, *metrics: str) -> None:
    """A recomputation killed halfway through a batch: nothing it did is kept, every mark and
    every hour rollup of ``metrics`` stays as it was."""
    marks = TrendDirtyBucket.objects.count()
    before = [kept(metric, Grain.HOUR) for metric in metrics]

    def die(*args):
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(trends, "_recompute_days", die)
        try:
            trends.recompute(batch=3)
        except Killed:
            assert TrendDirtyBucket.objects.count() == marks
            assert [kept(metric, Grain.HOUR) for metric in metrics] == before


def months_shown(period: str) -> int:
    """How many months a monthly chart lists over ``period`` today: those its days touch (a
    year of 364 days touches 13 months, or 12 when it starts on the 1st of one)."""
    from hireops.core.trends.charts import PERIODS, days_of

    return len({(day.year, day.month) for day in days_of(PERIODS[period])[2]})
