"""Every outbound kind is swept: a row whose task was lost (a broker restarted, a worker killed
before it claimed the row) stays queued until a scheduled task sends it again, so each kind
names that task (``swept_by``), or None where a person asks again."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error

from hireops.core.schedules.registry import schedules

from . import kinds


def every_kind_is_swept(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    scheduled = {schedule.task for schedule in schedules()}
    errors = []
    for kind in kinds():
        if kind.swept_by is None or kind.swept_by in scheduled:
            continue
        if kind.swept_by:
            problem = f"is swept by {kind.swept_by!r}, which no schedule runs"
        else:
            problem = "names no sweep"
        errors.append(
            Error(
                f"The outbound kind {kind.name!r} {problem}: a row whose task was lost would stay queued.",
                hint="Set swept_by to the scheduled task that sends its stale rows again "
                "(outbound.resume or outbound.stale), or to None where a person asks again.",
                id="hireops.E034",
            )
        )
    return errors
