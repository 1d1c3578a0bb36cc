from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "hireops.api"
    label = "api"
    verbose_name = _("Partner API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hireops.core.auth import roles
        from hireops.signin.second_factor import require_second_factor

        # No role makes keys by default: a superuser, or whoever an administrator gives
        # "add API key" (and the permissions behind the scopes they will grant). Auditors see
        # which keys exist (never a key: only its hash is kept).
        roles.audit("api")

        from importlib import import_module

        from hireops.core import discovery

        from . import trend  # noqa: F401  (the requests' trend and its charts)

        # The whole API, every app's api.py in it, imported when first needed (the scopes, the
        # middleware's routes), not at start-up: the ingest server runs ready() too.
        discovery.provide("api", lambda: import_module("hireops.api.served"))

        # A key acts for a partner's system without a person: making one is as sensitive as
        # granting a role (a fresh second factor, hireops.api.admin).
        require_second_factor("api.add_apikey", "api.change_apikey")

        from django.utils.translation import gettext_noop

        from hireops.core.schedules.registry import register_schedule

        # The platform's schedule: superusers manage it (no managed_with).
        register_schedule(
            gettext_noop("Partner API: write the requests counted in the hours now over"),
            task="api.flush_request_counts",
            every=(1, "minutes"),
        )
        register_schedule(
            gettext_noop("Partner API: prune the old hourly counts of requests"),
            task="api.prune_request_counts",
            crontab="50 3 * * *",
        )
        register_schedule(
            gettext_noop("Partner API: forget idempotency keys past their time"),
            task="api.forget_idempotency_keys",
            every=(1, "hours"),
        )
