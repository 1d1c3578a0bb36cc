"""What the engine keeps of the calls it makes, beside each kind's own rows."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("answered")
    RETRIED = "retried", _("failed, tried again")
    FAILED = "failed", _("failed for good")
    # Not a call: the retries ran out after the last one failed, and the row closed failed.
    GAVE_UP = "gave_up", _("given up")


class CallMade(models.Model):
    """One call the engine made to another system, and what came of it; or the end of the retries
    of a row it gave up on. Written by the engine in the transaction that records the call
    (``hireops.calls_made.record``), never changed afterwards: the raw rows of the trends "calls to
    Feishu per kind" and "deliveries per partner endpoint". A kind's own row keeps only its last
    attempt, and other services close or requeue rows without a call: what was called, and
    when, is kept here."""

    metric = models.CharField(_("trend"), max_length=64)  # the callee's trend
    dimension = models.CharField(_("counted under"), max_length=128)  # the kind, or the endpoint
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("call made")
        verbose_name_plural = _("calls made")
        default_permissions = ()  # read through the trends' charts
        # A trend's hour is recomputed from its calls: one metric, a range of moments.
        indexes = [models.Index(fields=["metric", "at"], name="outbound_call_metric_at")]

    def __str__(self):
        return f"{self.metric} {self.dimension} {self.outcome} {self.at:%Y-%m-%d %H:%M}"
