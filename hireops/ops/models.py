"""What the operations status remembers: which processes are alive, and open incidents."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField, MessageTextField

from . import link_state


class ProcessKind(models.TextChoices):
    WORKER = "worker", _("Celery worker")
    BEAT = "beat", _("Celery beat")
    LISTENER = "listener", _("Long-connection listener")


class ProcessHeartbeat(models.Model):
    """A worker, beat or listener process that says it is alive, every ``HEARTBEAT_EVERY``
    seconds (hireops.ops.heartbeat). One row per process name; a clean stop deletes its row."""

    name = models.CharField(_("process"), max_length=200, unique=True)  # celery@host, beat@host:pid
    kind = models.CharField(_("kind"), max_length=16, choices=ProcessKind.choices)
    queues = models.CharField(_("queues"), max_length=200, blank=True)  # what a worker consumes
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("last seen"))
    # A listener's link to Feishu: "connected", or why not, and since when.
    state = models.CharField(_("state"), max_length=200, blank=True)
    state_since = models.DateTimeField(_("state since"), null=True, blank=True)

    class Meta:
        verbose_name = _("process heartbeat")
        verbose_name_plural = _("process heartbeats")
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    @property
    def state_text(self) -> str:
        """The listener's state as the reader says it (``state`` stays for machines)."""
        return link_state.describe(self.state)


class AlertIncident(models.Model):
    """One stretch of time a status check needed a person: staff are told once when it
    opens (hireops.ops.alerts), and it closes when the check is fine again."""

    key = models.CharField(_("check"), max_length=200)
    # In each language (hireops.core.messages.in_each_language): the reader's; the alert said
    # them in LANGUAGE_CODE's.
    title = MessageField(_("title"), max_length=1000)
    value = MessageField(_("value"), max_length=1000, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("staff told at"), null=True, blank=True)
    notify_attempts = models.PositiveSmallIntegerField(_("attempts to tell staff"), default=0)
    notify_error = MessageTextField(_("last error telling staff"), blank=True)
    told = models.CharField(_("channels told"), max_length=100, blank=True)  # "email,feishu_bot"

    class Meta:
        verbose_name = _("alert incident")
        verbose_name_plural = _("alert incidents")
        ordering = ["-opened_at"]
        permissions = [("view_status", _("Can see the operations status"))]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(resolved_at=None), name="one_open_incident_per_check"
            )
        ]
        indexes = [models.Index(fields=["-opened_at"], name="incident_recent_idx")]

    def __str__(self):
        return self.title
