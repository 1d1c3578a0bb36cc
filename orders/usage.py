"""Monthly usage per customer, for invoicing: orders Feishu sent in the month, and those that
ended in it (background checks completed, canceled by the customer or terminated by us; exams
whose score reached Feishu).

One aggregate query per kind of order, over the month's rows only (received_at, ended_at
indexes); a customer appears when it has any figure that month. Orders not linked to a
customer yet (their account's binding undecided) are one row with no customer.

Only the kinds of order asked for are counted: a person who may view exams but not background
checks learns nothing of the checks, not even which customers had one that month.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q
from django.utils import timezone

from .models import BackgroundCheck, CheckState, Exam

CHECK_FIGURES = ("checks_created", "checks_completed", "checks_canceled")
EXAM_FIGURES = ("exams_created", "exams_scored")


def counted_figures(*, checks: bool, exams: bool) -> tuple[str, ...]:
    """The figures of the kinds of order counted, in the export's order."""
    return (CHECK_FIGURES if checks else ()) + (EXAM_FIGURES if exams else ())


@dataclass
class UsageRow:
    month: str
    customer: str | None  # None: orders not linked to a customer yet
    figures: dict[str, int]  # the figures of the kinds counted (CHECK_FIGURES, EXAM_FIGURES)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime(month.year, month.month, 1))
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, timezone.make_aware(datetime(following.year, following.month, 1))


def monthly_usage(month: date, *, checks: bool = True, exams: bool = True) -> list[UsageRow]:
    """The month's figures per customer, for the kinds of order asked for (``checks``,
    ``exams``); a row's figures of a kind not asked for are absent, not zero."""
    start, end = month_bounds(month)
    figures = counted_figures(checks=checks, exams=exams)
    received = Q(received_at__gte=start, received_at__lt=end)
    ended = Q(ended_at__gte=start, ended_at__lt=end)
    counted_checks = (
        BackgroundCheck.objects.filter(received | ended)
        .values("customer_id", "customer__name")
        .annotate(
            checks_created=Count("pk", filter=received),
            checks_completed=Count("pk", filter=ended & Q(state=CheckState.COMPLETED)),
            checks_canceled=Count(
                "pk", filter=ended & Q(state__in=(CheckState.CANCELED, CheckState.TERMINATED))
            ),
        )
        .order_by()
    )
    counted_exams = (
        Exam.objects.filter(received | ended)
        .values("customer_id", "customer__name")
        .annotate(
            exams_created=Count("pk", filter=received), exams_scored=Count("pk", filter=ended & ~Q(score=""))
        )
        .order_by()
    )
    label = f"{month.year:04d}-{month.month:02d}"
    rows: dict = {}
    found_rows = (*(counted_checks if checks else ()), *(counted_exams if exams else ()))
    for found in found_rows:
        row = rows.setdefault(
            found["customer_id"], UsageRow(label, found["customer__name"], dict.fromkeys(figures, 0))
        )
        for name in figures:
            row.figures[name] += found.get(name, 0)
    return sorted(rows.values(), key=lambda r: (r.customer is None, r.customer or ""))
