"""What the other sub-packages, the app's shared modules (admin, API, tasks, dashboard) and the tests
use of payout runs: preparing a run, deciding it, paying its lines, reporting on it."""

from . import payroll
from .amounts import PayoutRefused, cash_text
from .approval import (
    APPROVE,
    LinesChanged,
    causers,
    causes,
    check_approver,
    may_decide,
    payout_approve,
    payout_cancel,
    payout_refresh,
    payout_reject,
    payout_release,
)
from .chats import MESSAGE, send_owed_emails
from .dispatch import payout_dispatch
from .notices import payout_notify, payout_notify_again, told_again_from, told_how
from .payment import PAY_LINE
from .preparation import (
    cash_promised,
    payable_accounts,
    payout_prepare,
    payout_prepare_lines,
    payout_prepare_scheduled,
    preview,
    select_accounts,
)
from .reports import lines_needing_a_person, paid_totals, run_progress

__all__ = [
    "APPROVE",
    "MESSAGE",
    "PAY_LINE",
    "LinesChanged",
    "PayoutRefused",
    "cash_promised",
    "cash_text",
    "causers",
    "causes",
    "check_approver",
    "lines_needing_a_person",
    "may_decide",
    "paid_totals",
    "payable_accounts",
    "payout_approve",
    "payout_cancel",
    "payout_dispatch",
    "payout_notify",
    "payout_notify_again",
    "payout_prepare",
    "payout_prepare_lines",
    "payout_prepare_scheduled",
    "payout_refresh",
    "payout_reject",
    "payout_release",
    "payroll",
    "preview",
    "run_progress",
    "select_accounts",
    "send_owed_emails",
    "told_again_from",
    "told_how",
]
