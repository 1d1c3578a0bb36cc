from django.conf import settings
from django.core.checks import Error, Warning, register


@register(deploy=True)
def secret_key_is_not_the_dev_default(app_configs, **kwargs):
    """The embedded default key is public (it is in this repository)."""
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the built-in development key.",
                hint="Set SECRET_KEY to a long random string in the environment.",
                id="hireops.E001",
            )
        ]
    return []


@register(deploy=True)
def feishu_credentials_are_set(app_configs, **kwargs):
    """Production has no default credentials (only the emulator's demo app has some): a
    deployment without its own would fail every call to Feishu, so it is refused up front."""
    missing = [n for n in ("FEISHU_APP_ID", "FEISHU_APP_SECRET") if not getattr(settings, n)]
    if not missing:
        return []
    return [
        Error(
            f"{' and '.join(missing)} not set: every call to Feishu would fail.",
            hint="Copy them from the app's Credentials & Basic Info page on the Feishu open platform.",
            id="hireops.E002",
        )
    ]


@register(deploy=True)
def the_emulator_is_not_deployed(app_configs, **kwargs):
    """The Feishu sandbox is for development, demos, tests and benchmarks; a deployment that
    installs it also gets its demo app's credentials as defaults."""
    if not settings.FEISHU_SANDBOX:
        return []
    return [
        Warning(
            "FEISHU_SANDBOX is on: the Feishu emulator is installed.",
            hint="Unset FEISHU_SANDBOX in production (the production image does not contain it).",
            id="hireops.W002",
        )
    ]


@register(deploy=True)
def webhooks_go_to_public_https_only(app_configs, **kwargs):
    """``WEBHOOK_ALLOW_PRIVATE_URLS`` lets partners' webhooks go to http:// and to this host or
    a private network (hireops.webhooks.addresses): for ./dev run and the tests only."""
    if not getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False):
        return []
    return [
        Warning(
            "WEBHOOK_ALLOW_PRIVATE_URLS is on: webhooks may be sent over http:// and to private addresses.",
            hint="Unset it in production: an endpoint could reach this host's own services.",
            id="hireops.W003",
        )
    ]


@register()
def declared_schedules(app_configs, **kwargs):
    """Each declared schedule (hireops.core.schedules.registry) is one name, a task Celery knows, one
    valid timing, and a permission of an installed app's model."""
    from .schedules.registry import Schedule, schedules

    errors: list[Error] = []
    seen: dict[str, Schedule] = {}
    for schedule in schedules():
        first = seen.setdefault(schedule.name, schedule)
        if first is not schedule:
            errors.append(
                Error(
                    f"The schedule {schedule.name!r} is declared twice, differently.",
                    hint="One register_schedule() per name.",
                    id="hireops.E030",
                )
            )
        if schedule.task not in _celery_tasks():
            errors.append(
                Error(
                    f"The schedule {schedule.name!r} runs {schedule.task!r}: no such task.", id="hireops.E031"
                )
            )
        problem = _timing_problem(schedule)
        if problem:
            errors.append(Error(f"The schedule {schedule.name!r}: {problem}", id="hireops.E032"))
        if schedule.managed_with not in _model_permissions():
            errors.append(
                Error(
                    f"The schedule {schedule.name!r} is managed with {schedule.managed_with!r}, which is "
                    "no permission of an installed app's model.",
                    hint="Declare it in a model's Meta.permissions, or leave managed_with out "
                    "(the platform's: superusers).",
                    id="hireops.E033",
                )
            )
    return errors


def _celery_tasks() -> set[str]:
    """The tasks of every app's ``tasks`` module (imported as Celery's autodiscovery would,
    without its loader, which sets Django up again)."""
    from importlib import import_module

    from celery import current_app as app  # hireops' app (config/__init__.py makes it current)
    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "tasks"):
            import_module(f"{config.name}.tasks")
    return set(app.tasks)


def _timing_problem(schedule) -> str:
    from django.core.exceptions import ValidationError
    from django_celery_beat import validators

    from .schedules.registry import PERIODS

    if bool(schedule.every) == bool(schedule.crontab):
        return "declare exactly one of every=(n, period) and crontab='m h dom mon dow'."
    if schedule.every:
        every, period = schedule.every
        if not (isinstance(every, int) and every > 0 and period in PERIODS):
            return f"every={schedule.every!r} is not (a positive number, one of {', '.join(PERIODS)})."
        return ""
    if len(schedule.crontab.split()) != 5:
        return f"crontab={schedule.crontab!r} is not five fields (minute hour day-of-month month weekday)."
    try:
        validators.crontab_validator(schedule.crontab)
    except (ValidationError, ValueError) as exc:
        return f"crontab={schedule.crontab!r} is not a crontab: {exc}"
    return ""


def _model_permissions() -> set[str]:
    from django.apps import apps

    known: set[str] = set()
    for model in apps.get_models():
        opts = model._meta
        codenames = [f"{action}_{opts.model_name}" for action in opts.default_permissions]
        codenames += [codename for codename, _ in opts.permissions]
        known.update(f"{opts.app_label}.{codename}" for codename in codenames)
    return known
