"""Reads of the vendor orders worth naming: the work queue, overdue orders, what failed.

An order is **overdue** when it is still open longer than its package's or paper's
turnaround (``turnaround_days`` in the catalogue; ``ORDER_DEFAULT_TURNAROUND_DAYS`` for an id
the catalogue no longer has). The catalogue has tens of entries, so the condition is one OR
term per entry over the (state, received_at) index, on any database.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hireops.core.models import CallStatus

from .catalogue.models import CataloguePush
from .catalogue.turnarounds import turnarounds
from .models import (
    OPEN_CHECK_STATES,
    OPEN_EXAM_STATES,
    BackgroundCheck,
    Exam,
    OrderWrite,
)


def _late(field: str, turnarounds: dict[str, int], now) -> Q:
    """Orders received longer ago than their entry's turnaround: one term per turnaround (the
    entries sharing one are named together), not one per entry. Forty packages take a few
    distinct turnarounds; each term is compiled on every dashboard and overdue list."""
    default = timedelta(days=settings.ORDER_DEFAULT_TURNAROUND_DAYS)
    late = Q(**{f"{field}__in": list(turnarounds)}, _negated=True) & Q(received_at__lt=now - default)
    by_days: dict[int, list[str]] = {}
    for code, days in turnarounds.items():
        by_days.setdefault(days, []).append(code)
    for days, codes in sorted(by_days.items()):
        late |= Q(**{f"{field}__in": codes}, received_at__lt=now - timedelta(days=days))
    return late


def overdue_checks(now=None):
    late = _late("package_id", turnarounds()["packages"], now or timezone.now())
    return BackgroundCheck.objects.filter(late, state__in=OPEN_CHECK_STATES)


def overdue_exams(now=None):
    late = _late("paper_id", turnarounds()["papers"], now or timezone.now())
    return Exam.objects.filter(late, state__in=OPEN_EXAM_STATES)


def checks_in(state: str):
    return BackgroundCheck.objects.filter(state=state)


def exams_in(state: str):
    return Exam.objects.filter(state=state)


def writes_failed(days: int = 7):
    since = timezone.now() - timedelta(days=days)
    return OrderWrite.objects.filter(status=CallStatus.FAILED, requested_at__gte=since)


def pushes_failed(days: int = 7):
    since = timezone.now() - timedelta(days=days)
    return CataloguePush.objects.filter(status=CallStatus.FAILED, requested_at__gte=since)
