"""Monthly usage per customer, for invoicing: orders Feishu sent in the month, and those that
ended in it (background checks completed, canceled by the customer or terminated by us; exams
whose score reached Feishu).

One aggregate query per kind of order, over the month's rows only (received_at, ended_at
indexes); a customer appears when it has any figure that month. Orders not linked to a
customer yet (their account's binding undecided) are one row with no customer.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Q
from django.utils import timezone

from .models import BackgroundCheck, CheckState, Exam

FIGURES = ("checks_created", "checks_completed", "checks_canceled", "exams_created", "exams_scored")


@dataclass
class UsageRow:
    month: str
    customer: str | None  # None: orders not linked to a customer yet
    figures: dict = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime(month.year, month.month, 1))
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, timezone.make_aware(datetime(following.year, following.month, 1))


def monthly_usage(month: date) -> list[UsageRow]:
    start, end = month_bounds(month)
    received = Q(received_at__gte=start, received_at__lt=end)
    ended = Q(ended_at__gte=start, ended_at__lt=end)
    checks = (
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
    exams = (
        Exam.objects.filter(received | ended)
        .values("customer_id", "customer__name")
        .annotate(
            exams_created=Count("pk", filter=received), exams_scored=Count("pk", filter=ended & ~Q(score=""))
        )
        .order_by()
    )
    label = f"{month.year:04d}-{month.month:02d}"
    rows: dict = {}
    for found in (*checks, *exams):
        row = rows.setdefault(found["customer_id"], UsageRow(label, found["customer__name"]))
        for name in FIGURES:
            row.figures[name] += found.get(name, 0)
    return sorted(rows.values(), key=lambda r: (r.customer is None, r.customer or ""))
