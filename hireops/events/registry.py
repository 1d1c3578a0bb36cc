"""Which app handles which Feishu event type, and who on the staff may see those events.

Each app registers its own event types from its ``AppConfig.ready()``::

    from hireops.events.registry import register_event

    register_event(
        "hire.eco_exam.created_v1",
        handler="exams.handlers.exam_created",
        visible_with="exams.view_feishu_events",
    )

The handler is a dotted path, imported only when an event of that type is processed: the
ingest server (which runs every app's ``ready()``) learns whether a type has a handler
without importing any app's code. ``visible_with`` is the permission that shows a user
these events in the event log (the model's own view permission shows them all).

A handler takes the ``FeishuEvent`` row, runs inside the transaction that marks it
processed, must be idempotent (Feishu delivers at least once; staff can reprocess), and
must not call Feishu: it records what to do and queues it on commit.
System checks (``checks.py``) refuse to start when two apps claim one type or a handler
cannot be imported.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class EventType:
    event_type: str
    handler: str  # dotted path to ``handler(event) -> None``
    visible_with: str  # "app_label.codename"
    label: "StrOrPromise" = (
        ""  # how staff read the type: the app names its own (hireops.events.types, the platform's)
    )


_claims: list[EventType] = []


def register_event(
    event_type: str, *, handler: str, visible_with: str, label: "StrOrPromise" = ""
) -> EventType:
    """Claim ``event_type`` for ``handler``. Registering the same claim again is harmless
    (``ready()`` may run twice in tests); a second, different claim is reported by the
    system checks, and the first one stays in force meanwhile."""
    claim = EventType(event_type, handler, visible_with, label)
    if claim not in _claims:
        _claims.append(claim)
    return claim


def claims() -> list[EventType]:
    return list(_claims)


def _registered() -> dict[str, EventType]:
    registered: dict[str, EventType] = {}
    for claim in _claims:
        registered.setdefault(claim.event_type, claim)
    return registered


def handles(event_type: str) -> bool:
    """Whether a handler is registered for the type (imports nothing)."""
    return event_type in _registered()


def label(event_type: str) -> "StrOrPromise":
    claim = _registered().get(event_type)
    return claim.label if claim else ""


def handled_types() -> list[str]:
    return sorted(_registered())


@cache
def import_handler(path: str) -> Callable:
    return import_string(path)


def handler_for(event_type: str) -> Callable | None:
    claim = _registered().get(event_type)
    return import_handler(claim.handler) if claim else None


def visibility() -> dict[str, list[str]]:
    """Permission → the event types it shows."""
    shown: dict[str, list[str]] = {}
    for claim in _registered().values():
        shown.setdefault(claim.visible_with, []).append(claim.event_type)
    return shown


def types_visible_to(user) -> list[str]:
    """The registered types whose events ``user`` may see through their registration."""
    return sorted(t for perm, types in visibility().items() if user.has_perm(perm) for t in types)
