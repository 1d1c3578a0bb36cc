"""Operations that run item by item, inline for a few rows or as a background job.

An app declares its operations in ``<app>/bulk.py`` (found like admin.py is, the first time
an operation is looked up, so processes that run none never import them):

    cancel = register(Operation(
        "exams.cancel", _("Cancel exams"), run=..., model=Exam,
        refusals=(CancelRefused,),
    ))

Each job acts on one tenant's rows: ``tenant_field`` is the model's lookup of its rows'
tenant (e.g. ``account__tenant_key``); an operation without a model takes its tenant from
``params["tenant_key"]``.

``run(target, params, user)`` does one item and returns its outcome for staff; it raises
one of ``refusals`` (its message is shown) when the item cannot be done. The target is
the model instance, or, for an operation without a model (an import), the item's data.
Each item runs in its own transaction with its outcome, so an item is never done twice.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hireops.core import discovery

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Operation:
    kind: str
    title: "StrOrPromise"
    run: Callable[..., str]
    model: type[Any] | None = None  # a models.Model
    refusals: tuple[type[Exception], ...] = field(default=(ValidationError,))
    label: Callable[[Any], str] = str  # how an item is named on screen (masked)
    tenant_field: str = "tenant_key"

    def tenants(self, targets, params: dict) -> dict[str, list]:
        """The targets by tenant (one query), in their order."""
        if self.model is None:
            return {params.get("tenant_key", ""): list(targets)} if targets else {}
        rows = self.model.objects.filter(pk__in=[t.pk for t in targets])
        tenant_of = dict(rows.values_list("pk", self.tenant_field))
        grouped: dict[str, list[Any]] = {}
        for target in targets:
            grouped.setdefault(tenant_of.get(target.pk) or "", []).append(target)
        return grouped

    def refusal_message(self, exc: Exception) -> str:
        if isinstance(exc, ValidationError):
            return " ".join(exc.messages)
        return str(exc)


_OPERATIONS: dict[str, Operation] = {}


_Op = TypeVar("_Op", bound=Operation)


def register(op: _Op) -> _Op:
    if op.kind in _OPERATIONS and _OPERATIONS[op.kind] is not op:
        raise ValueError(f"bulk operation {op.kind!r} is registered twice")
    _OPERATIONS[op.kind] = op
    return op


def kinds() -> list[str]:
    discovery.require("bulk")  # every app's bulk.py (hireops.jobs.apps)
    return sorted(_OPERATIONS)


def operation(kind: str) -> Operation:
    """The registered operation; a stand-in that refuses every item for an unknown kind
    (e.g. a job queued by a release that had an operation this one dropped)."""
    discovery.require("bulk")  # every app's bulk.py (hireops.jobs.apps)
    try:
        return _OPERATIONS[kind]
    except KeyError:
        return Operation(kind, kind, run=_unknown)


def _unknown(target, params, user):
    raise ValidationError(_("This operation no longer exists."))
