"""The trends' rollups, and the marks of the buckets whose rollups are stale."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grain(models.TextChoices):
    HOUR = "h", _("hour")
    DAY = "d", _("day")
    # The rows deleted by retention, per hour: history, which the hour's recomputation adds to
    # the rows still there (a trend over a year outlives a month's retention).
    PRUNED = "p", _("pruned rows")
    # A month from its local first day, the sum of its days: kept for the metrics that ask
    # (``Metric.monthly``), whose charts read a year by month across many dimensions.
    MONTH = "m", _("month")


class TrendRollup(models.Model):
    """How many rows of a metric fell in one bucket, per dimension (an event type, a package)
    and outcome (a status): recomputed from the raw rows whenever the bucket is marked dirty.
    Hour buckets start on the UTC hour; day buckets at local midnight (``TIME_ZONE``) and are
    the sums of their hours."""

    metric = models.CharField(_("metric"), max_length=64)
    grain = models.CharField(_("grain"), max_length=1, choices=Grain.choices)
    bucket = models.DateTimeField(_("bucket start"))
    dimension = models.CharField(_("dimension"), max_length=128, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)
    count = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("trend rollup")
        verbose_name_plural = _("trend rollups")
        default_permissions = ()  # read through the dashboards' own permission checks
        # Its index serves the charts' reads too: one metric, one grain, a range of buckets.
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "grain", "bucket", "dimension", "outcome"], name="trend_rollup_unique"
            )
        ]

    def __str__(self):
        return f"{self.metric} {self.grain} {self.bucket:%Y-%m-%d %H:%M} {self.dimension} {self.outcome}"


class TrendDirtyBucket(models.Model):
    """An hour of a metric whose rows changed since its rollup was computed: written in the
    transaction that changed them, deleted in the one that recomputes the rollup."""

    metric = models.CharField(_("metric"), max_length=64)
    bucket = models.DateTimeField(_("hour"))

    class Meta:
        verbose_name = _("stale trend bucket")
        verbose_name_plural = _("stale trend buckets")
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["metric", "bucket"], name="trend_dirty_unique")]

    def __str__(self):
        return f"{self.metric} {self.bucket:%Y-%m-%d %H:%M}"


class TrendBackfill(models.Model):
    """Where ``manage.py trends_backfill`` got to for a metric: hours before ``done_until``
    (from ``start``) are marked for recomputation; a stopped backfill resumes from there."""

    metric = models.CharField(_("metric"), max_length=64, unique=True)
    start = models.DateTimeField(_("backfill start"))
    end = models.DateTimeField(_("backfill end"))
    done_until = models.DateTimeField(_("marked until"))

    class Meta:
        verbose_name = _("trend backfill")
        verbose_name_plural = _("trend backfills")
        default_permissions = ()

    def __str__(self):
        return f"{self.metric} {self.done_until:%Y-%m-%d %H:%M}"
