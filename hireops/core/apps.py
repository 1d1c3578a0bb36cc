from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "hireops.core"
    label = "core"
    verbose_name = _("Audit trail")

    def ready(self):
        from django.db.models.signals import post_migrate
        from django.utils.translation import gettext_noop

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .admin import library_names
        from .auth import roles
        from .secrets import secret_urls

        library_names.name_rows()  # libraries' rows named in the reader's language
        from . import no_answer

        no_answer.upgrade()  # rows stored with an exception's name read as the fact

        from django.utils.module_loading import autodiscover_modules

        from . import discovery

        # Every app's tasks.py (its outbound kinds' tasks: hireops.outbound.kinds) and
        # dashboard.py (hireops.core.admin.dashboard), imported on the registry's first use.
        discovery.provide("tasks", lambda: autodiscover_modules("tasks"))
        discovery.provide("dashboard", lambda: autodiscover_modules("dashboard"))

        # ``<secret:token>`` in any app's urls.py: a segment logs never show (secret_urls).
        secret_urls.register_converter()

        # The platform's part of every role: its own background jobs and exports, and the change history
        # (each entry shown only to whoever may view what it is about).
        perms = roles.model_permissions
        jobs = [
            p for model in ("bulkjob", "bulkjobitem", "exportjob") for p in perms(f"jobs.{model}", "view")
        ]
        for role in roles.STAFF_ROLES:
            roles.grant(role, *jobs)
        for role in (roles.VENDOR_OPS, roles.HR):
            roles.grant(role, *perms("core.changehistoryentry", "view"))
        roles.audit("core", "jobs", "django_celery_beat")
        post_migrate.connect(roles.sync_roles, dispatch_uid="hireops.core.sync_roles")
        # The schedules the apps declare (hireops.core.schedules.registry), once django-celery-beat's
        # tables exist.
        from django.apps import apps

        from .schedules.registry import register_schedule, sync_schedules

        # The trends' rollups (hireops.core.trends) follow the rows marked dirty within a minute.
        register_schedule(
            gettext_noop("Trends: recompute the hours whose rows changed"),
            task="core.trends_recompute",
            every=(60, "seconds"),
        )
        # The dashboards' trends kept drawn from them (hireops.core.trends.sections).
        register_schedule(
            gettext_noop("Trends: draw the dashboards' charts anew"),
            task="core.trends_refresh",
            every=(60, "seconds"),
        )

        beat = apps.get_app_config("django_celery_beat")
        post_migrate.connect(sync_schedules, sender=beat, dispatch_uid="hireops.core.sync_schedules")
