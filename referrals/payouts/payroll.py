"""What a payout run's payroll file holds (docs/payroll.md), for every reader that says it: the
CSV and the workbook (``referrals.admin.payouts``) and the partner API (``referrals.api``).

One row per line of the run and currency: what Feishu withdrew for a paid line, the approved
amount for the others, whose ``outcome`` says they were not paid. The keys below are a
contract with payroll systems: a key is never renamed or removed; a new one is only added at
the end."""

from datetime import UTC, datetime

from django.utils import timezone

from hireops.core.models import CallStatus

from .amounts import BATCH, normalised
from .models import PayoutLine, PayoutRun, PayoutRunStatus

# The row's keys (the CSV's header), in order.
KEYS = (
    "employee_id",
    "employee_name",
    "feishu_account_id",
    "amount",
    "currency",
    "outcome",
    "external_order_id",
    "transaction_time",
    "prepared_by",
    "approved_by",
)
# A line's outcome, as a fixed key (staff's words for each: referrals.admin.payouts.OUTCOMES).
OUTCOME_KEYS = ("paid", "held", "not_paid", "waiting_for_approval", "to_pay")


def outcome_key(line: PayoutLine) -> str:
    if line.status == CallStatus.SUCCEEDED:
        return "paid"
    if line.held:
        return "held"
    if line.status == CallStatus.FAILED:
        return "not_paid"
    if line.run.status == PayoutRunStatus.AWAITING_APPROVAL:
        return "waiting_for_approval"
    return "to_pay"


def prepared_by(run: PayoutRun) -> str:
    """The preparer's username; "" for a run the schedule prepared."""
    return run.prepared_by.get_username() if run.prepared_by else ""


def approved_by(run: PayoutRun) -> str:
    """The approver's username; "" until then, and for a rejected or cancelled run."""
    approved = run.status in (PayoutRunStatus.PAYING, PayoutRunStatus.FINISHED)
    return run.decided_by.get_username() if approved and run.decided_by else ""


def line_amounts(line: PayoutLine) -> dict[str, str]:
    """{currency: amount} of the line's rows: withdrawn if paid, else approved (or prepared)."""
    paid = line.withdrawn_cash if line.status == CallStatus.SUCCEEDED else None
    return normalised(paid if paid is not None else line.cash)


def employee_id(line: PayoutLine) -> str:
    """As Feishu answered the withdrawal; before, the one last known for the account."""
    return line.employee_id or line.account.employee_id


def transaction_time(line: PayoutLine) -> datetime | None:
    """When Feishu withdrew, to the second, in the deployment's time zone; None until paid."""
    if line.trans_time is None:
        return None
    return timezone.localtime(datetime.fromtimestamp(line.trans_time // 1000, UTC))


def payroll_rows(run: PayoutRun, lines=None):
    """(line, currency, amount) of ``lines`` (by default the run's, in order), for a file."""
    if lines is None:
        lines = run.lines.select_related("account", "run").order_by("pk").iterator(chunk_size=BATCH)
    for line in lines:
        for currency, amount in line_amounts(line).items():
            yield (line, currency, amount)
