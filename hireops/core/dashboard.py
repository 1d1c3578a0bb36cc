"""The admin index's "Needs attention" box: each app contributes its own items.

An app lists what needs attention in its ``dashboard.py`` (found like admin.py is, the first
time the box is drawn), reading through its own selectors::

    from hireops.core import dashboard

    @dashboard.contribute
    def orders_waiting(request):
        if request.user.has_perm("orders.view_order"):
            yield dashboard.Item(_("Orders waiting"), selectors.orders_waiting(), url)

A contribution takes the request (so it shows each role only its own part) and yields
``Item``s (a count linked to its list) and ``Fact``s (a figure worth seeing).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from hireops.feishu import get_client


@dataclass
class Item:
    label: str
    count: int
    url: str = ""


@dataclass
class Fact:
    label: str
    value: object


Contribution = Callable[[object], Iterable[Item | Fact]]
_contributions: list[Contribution] = []


def contribute(fn: Contribution) -> Contribution:
    if fn not in _contributions:
        _contributions.append(fn)
    return fn


@cache
def _discover() -> None:
    autodiscover_modules("dashboard")


def changelist_url(model, **filters) -> str:
    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return base + ("?" + "&".join(f"{k}={v}" for k, v in filters.items()) if filters else "")


def can_view(user, model) -> bool:
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def board(request) -> tuple[list[Item], list[Fact]]:
    """Every contribution's items and facts for this request, in app order."""
    _discover()
    items, facts = [], []
    for contribution in _contributions:
        for entry in contribution(request):
            (items if isinstance(entry, Item) else facts).append(entry)
    return items, facts


@contribute
def feishu_calls_stopped(request):
    """Everyone's work stops when the app's monthly API quota is used up (99991403)."""
    until = get_client().quota.stopped_until()
    if until:
        day = timezone.localtime(datetime.fromtimestamp(until, UTC)).date()
        label = _(
            "Calls to Feishu are stopped: the app's monthly API call quota is used up until %(day)s "
            "(manage.py feishu_quota --resume lifts the stop once the quota is raised)."
        ) % {"day": day}
        yield Item(label, 1)
