"""Time limits a worker reads from its settings when it starts, not when the task was made.

Celery keeps a task's ``soft_time_limit`` and ``time_limit`` as attributes fixed where the task
is made (the tasks module's import), and copies them into every message it sends (the sender's
values, cached at its first send); a worker applies a message's limits before its own. A limit
that follows a setting (``OUTBOUND_TASK_TIME_LIMIT``, ``WEBHOOK_TIMEOUT``) would then be the one
some other process imported, while the lease and the call's timeout it must fit are the
worker's. A ``SettingsTimeLimits`` task asks its ``time_limits()`` whenever its limits are read,
and sends none in its messages: the worker's pool reads them from the task (Celery's request
class, made when the worker starts), so the worker's own settings decide.
"""

from collections.abc import Callable
from typing import Any

from celery import Task
from celery.result import AsyncResult


class SettingsTimeLimits(Task[Any, Any]):
    """A task whose soft and hard limits are ``time_limits()``, read at each look; ``celery
    control time_limit`` sets them as on any other task."""

    # Set by the task's factory (a staticmethod in the task's class): soft and hard seconds.
    time_limits: Callable[[], tuple[float, float]]
    _set_limits: tuple[float | None, float | None] = (None, None)  # celery control time_limit's

    @property  # type: ignore[override]  # Celery's is a plain attribute
    def soft_time_limit(self) -> float:
        return self._set_limits[0] or self.time_limits()[0]

    @soft_time_limit.setter
    def soft_time_limit(self, value: float | None) -> None:
        self._set_limits = (value, self._set_limits[1])

    @property  # type: ignore[override]
    def time_limit(self) -> float:
        return self._set_limits[1] or self.time_limits()[1]

    @time_limit.setter
    def time_limit(self, value: float | None) -> None:
        self._set_limits = (self._set_limits[0], value)

    def apply_async(
        self,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        task_id: str | None = None,
        producer: Any = None,
        link: Any = None,
        link_error: Any = None,
        shadow: str | None = None,
        **options: Any,
    ) -> AsyncResult[Any]:
        # An explicit None leaves the limits out of the message (Celery's send_task): the worker
        # that runs it applies its own.
        options.update(soft_time_limit=None, time_limit=None)
        return super().apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)
