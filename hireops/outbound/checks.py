"""What every outbound kind must hold for a row to be sent once and never lost, checked at start:
its task's hard time limit ends within its rows' lease (a worker still calling when the lease
ends would see the row claimed and sent again beside it), and it is swept (a row whose task was
lost, a broker restarted or a worker killed before it claimed the row, stays queued until a
scheduled task sends it again, so each kind names that task, ``swept_by``, or None where a
person asks again)."""

from collections.abc import Sequence
from datetime import timedelta
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


def attempts_end_within_their_lease(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    errors = []
    for kind in kinds():
        _soft, hard = kind.time_limits()  # the settings of this process, as its workers read them
        if timedelta(seconds=hard) < kind.lease:
            continue
        lease = int(kind.lease.total_seconds())
        errors.append(
            Error(
                f"The outbound kind {kind.name!r} may run {hard:g} s (its task's hard time limit), "
                f"past its rows' lease of {lease} s: a row still being sent could be sent a second "
                "time beside it.",
                hint=f"Keep the hard limit under {lease} s: OUTBOUND_TASK_TIME_LIMIT for a call to "
                "Feishu, WEBHOOK_TIMEOUT (+ 30 s) for a delivery to a partner's webhook.",
                id="hireops.E040",
            )
        )
    return errors
