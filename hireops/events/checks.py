import logging

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Warning, register

from . import registry


@register(deploy=True)
def webhook_secrets(app_configs, **kwargs):
    """Without these the webhook accepts events it cannot authenticate. A deployment check
    (``check --deploy``, the release's first step) and a warning in the log of each server that
    answers the pushes (``warn_servers``): not on every ``manage.py`` command, which has no
    webhook to protect (a second shell without ./dev run's secrets printed it on each)."""
    if settings.DEBUG:
        return []
    missing = [n for n in ("FEISHU_ENCRYPT_KEY", "FEISHU_VERIFICATION_TOKEN") if not getattr(settings, n)]
    if not missing:
        return []
    return [
        Warning(
            f"{' and '.join(missing)} not set: /feishu/events/ cannot authenticate Feishu's pushes.",
            hint="Copy them from the app's Events & Callbacks settings on the Feishu open platform.",
            id="hireops.W001",
        )
    ]


def warn_servers() -> None:
    """At a server's start (each gunicorn worker of the admin's, which answers /feishu/events/
    too, and of the ingest server's: ``post_worker_init`` in gunicorn.conf.py): the webhook's
    missing secrets, in its log."""
    for warning in webhook_secrets(None):
        logging.getLogger("hireops.events").warning("%s (%s) %s", warning.msg, warning.id, warning.hint)


@register()
def event_handlers(app_configs, **kwargs):
    """Every registered handler imports, each event type has one owner, and each
    registration's permission names an installed app."""
    errors: list[Error] = []
    owners: dict[str, registry.EventType] = {}
    labels = {config.label for config in apps.get_app_configs()}
    for claim in registry.claims():
        first = owners.setdefault(claim.event_type, claim)
        if first is not claim:
            errors.append(
                Error(
                    f"Feishu event type {claim.event_type!r} is claimed twice: by {first.handler} "
                    f"and by {claim.handler}.",
                    hint="One app handles an event type; remove one of the register_event() calls.",
                    id="hireops.E010",
                )
            )
        try:
            handler = registry.import_handler(claim.handler)
        except ImportError as exc:
            errors.append(
                Error(
                    f"The handler of {claim.event_type!r}, {claim.handler}, cannot be imported: {exc}",
                    id="hireops.E011",
                )
            )
        else:
            if not callable(handler):
                errors.append(Error(f"The handler {claim.handler} is not callable.", id="hireops.E011"))
        app_label, _, codename = claim.visible_with.partition(".")
        if not codename or app_label not in labels:
            errors.append(
                Error(
                    f"{claim.event_type!r} is shown with the permission {claim.visible_with!r}, "
                    "which is not 'app_label.codename' of an installed app.",
                    id="hireops.E012",
                )
            )
    return errors


TRANSPORTS = ("webhook", "long_connection", "both")


@register()
def event_transport(app_configs, **kwargs):
    """Feishu offers the long connection to self-built apps only (docs/feishu.md §12.1)."""
    transport = settings.FEISHU_EVENT_TRANSPORT
    if transport not in TRANSPORTS:
        return [
            Error(
                f"FEISHU_EVENT_TRANSPORT={transport!r} is not one of {', '.join(TRANSPORTS)}.",
                id="hireops.E013",
            )
        ]
    if transport != "webhook" and settings.FEISHU_APP_TYPE == "store":
        return [
            Error(
                f"FEISHU_EVENT_TRANSPORT={transport} with a store app: Feishu delivers a store app's "
                "events (app_ticket, tenants' installs) by webhook only.",
                hint="Set FEISHU_EVENT_TRANSPORT=webhook for a store app.",
                id="hireops.E014",
            )
        ]
    return []


@register()
def request_read_timeout(app_configs, **kwargs):
    """At 0 the ingest server would cut off every request before its first byte."""
    if settings.REQUEST_READ_TIMEOUT > 0:
        return []
    return [
        Error(
            f"REQUEST_READ_TIMEOUT={settings.REQUEST_READ_TIMEOUT}: a request needs some time to arrive.",
            hint="Leave it unset (5 s) or give a number of seconds above 0 (docs/deployment.md).",
            id="hireops.E015",
        )
    ]
