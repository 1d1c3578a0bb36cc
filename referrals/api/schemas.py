"""What the HR side's operations answer and take, and how a referral account, a reward or a
payout run becomes its answer, masked for the key that reads it; the filters' and bodies' text
types, and the tenants a key sees."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, Field

from hireops.api.pagination import PageParams
from hireops.api.schemas import Moment, Text128, Timestamp, admin_words
from hireops.core.models import CallStatus
from hireops.core.privacy import personal

from ..admin.payouts import OUTCOMES
from ..models import (
    STALE,
    AccountStatus,
    ExternalReferralReward,
    PayoutLine,
    PayoutRun,
    PayoutRunStatus,
    ReferralAccount,
    RewardBonusType,
    RewardRuleType,
    RewardStage,
)
from ..payouts.services import payroll
from ..rewards import services as rewards
from .scopes import PERSONAL

# --- shared -----------------------------------------------------------------------------------


def _storable(value: str) -> str:
    """PostgreSQL keeps no NUL character and UTF-8 no lone surrogate: refused as input."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]
# A filter's text, as long as the column it filters (tenant keys and employee ids: 128), bounded
# in the document so the longest request line a partner may send is known (gunicorn.conf.py).
Filter128 = Annotated[Text, Field(max_length=128)]


def _limited(queryset, request, field: str = "tenant_key"):
    """The rows of the tenants the key may see (all of them for a key limited to none)."""
    keys = request.api_key.tenant_keys
    return queryset.filter(**{f"{field}__in": keys}) if keys else queryset


def _utc(moment: dt.datetime) -> dt.datetime:
    """An ``updated_after`` PostgreSQL can compare: in UTC (it refuses offsets beyond ±16 h,
    which ISO 8601 allows); a time without offset is the deployment's, as the admin's are."""
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):  # within a day of year 1 or 9999: as far as it goes
        edge = dt.datetime.min if moment.year < 5000 else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC)


def _full(request) -> bool:
    return PERSONAL in request.api_key.scopes


def _shown(obj, name: str, full: bool) -> str | None:
    """A personal field as the admin shows it to someone with (or without) the permission."""
    return personal.answered(obj, name, full=full) or None


def _text(value) -> str | None:
    """A stored reason or error in English (the API's language), or None when empty."""
    return str(value) if value else None


def _moment(ms: int | None) -> dt.datetime | None:
    """A millisecond timestamp as stored from Feishu (None for one no datetime holds)."""
    try:
        return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None


class CashOut(Schema):
    currency: str
    amount: str  # a decimal with two places and a point, "1234.50": never a float


def _cash(amounts: dict) -> list[CashOut]:
    return [CashOut(currency=c, amount=a) for c, a in sorted(amounts.items())]


CallState = Literal["queued", "sent", "failed"]
_STATE: dict[str, CallState] = {
    CallStatus.QUEUED: "queued",
    CallStatus.SUCCEEDED: "sent",
    CallStatus.FAILED: "failed",
}
CALL_WORDS = admin_words(
    [(_STATE[value], label) for value, label in CallStatus.choices],
    "`queued`: waiting to be sent, being sent, or to be sent again.",
)


# --- referral accounts ------------------------------------------------------------------------


class AccountOut(Schema):
    id: int
    feishu_account_id: str | None
    employee_id: str
    name: str
    mobile: str | None  # "+86 138****8000" without referrals:personal_data, as the admin shows it
    email: str | None  # "l***@example.com" without referrals:personal_data
    tenant: str
    status: AccountStatus = Field(description=admin_words(AccountStatus.choices))
    points: int
    cash: list[CashOut]
    balance_as_of: Moment | None  # Feishu's time of the balance held
    balance_confirmed_at: Moment | None  # how fresh: when Feishu last pushed or was pulled
    balance_stale: bool  # not confirmed for 24 h (or never): the admin shows it as old
    balance_error: str | None  # why the last pull or event could not be kept
    created_at: Moment
    updated_at: Moment


class AccountFilters(PageParams):
    updated_after: Timestamp | None = None
    status: AccountStatus | None = None
    tenant: Filter128 | None = None
    employee_id: Filter128 | None = None


def _account(account: ReferralAccount, full: bool) -> AccountOut:
    synced = account.balance_synced_at
    return AccountOut(
        id=account.pk,
        feishu_account_id=account.account_id,
        employee_id=account.employee_id,
        name=account.name,
        mobile=_shown(account, "mobile_number", full),
        email=_shown(account, "email", full),
        tenant=account.tenant_key,
        status=account.status,  # type: ignore[arg-type]  # the stored value: pydantic reads it as the enum
        points=account.points,
        cash=_cash({c.currency: str(c.amount.quantize(Decimal("0.01"))) for c in account.cash.all()}),
        balance_as_of=_moment(account.assets_modify_time),
        balance_confirmed_at=synced,
        balance_stale=bool(account.account_id) and (synced is None or synced < timezone.now() - STALE),
        balance_error=_text(account.balance_error),
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


# --- external rewards -------------------------------------------------------------------------

RuleType = Literal["onboard", "process", "activity", "open_source", "other"]
Stage = Literal["to_be_confirmed", "confirmed", "paid"]
_RULE_OF = {number: word for word, number in rewards.RULE_WORDS.items()}
_STAGE_OF = {number: word for word, number in rewards.STAGE_WORDS.items()}
RULE_WORDS = admin_words([(_RULE_OF[value], label) for value, label in RewardRuleType.choices])
STAGE_WORDS = admin_words(
    [(_STAGE_OF[value], label) for value, label in RewardStage.choices],
    "Feishu's stage of the reward: the admin's “reward status”.",
)


class RewardIn(Schema):
    """The import file's columns (docs/feishu.md §4.1), typed. ``external_id`` is your
    system's id of the reward: posting it again changes nothing."""

    external_id: Text
    employee_id: Text  # the referrer's Feishu user id
    tenant: Text = ""  # a store app's customer tenant; "" for a self-built app
    name: Text = ""
    application_id: Text = ""
    talent_id: Text = ""
    job_id: Text = ""
    rule_type: RuleType = Field(description=RULE_WORDS)
    stage: Stage = Field(description=STAGE_WORDS)
    points: int | None = None  # points, or amount with currency
    currency: Text = ""
    amount: Decimal | None = None
    reason: Text = ""
    comment: Text = ""
    create_time: Timestamp | None = None
    confirm_time: Timestamp | None = None
    pay_time: Timestamp | None = None
    onboard_time: Timestamp | None = None
    conversion_time: Timestamp | None = None


class DeletionOut(Schema):
    status: CallState = Field(description=CALL_WORDS)
    requested_at: Moment
    finished_at: Moment | None
    error: str | None
    error_code: int | None


class RewardOut(Schema):
    id: int
    external_id: str
    tenant: str
    employee_id: str
    account_id: int | None  # the referral account, when hireops knows it
    name: str
    application_id: str
    talent_id: str
    job_id: str
    rule_type: RuleType = Field(description=RULE_WORDS)
    stage: Stage = Field(description=STAGE_WORDS)
    points: int | None
    currency: str | None
    amount: str | None
    reason: str | None  # free text: masked without referrals:personal_data
    comment: str | None
    create_time: Moment | None
    confirm_time: Moment | None
    pay_time: Moment | None
    onboard_time: Moment | None
    conversion_time: Moment | None
    status: CallState = Field(description=CALL_WORDS)  # sent: Feishu has it; failed: see error
    feishu_reward_id: str | None
    error: str | None  # why it failed or waits, with Feishu's code and message
    error_code: int | None
    log_id: str | None
    requested_at: Moment
    finished_at: Moment | None
    deletion: DeletionOut | None  # the last deletion asked for, if any
    delete_reason: str | None
    deleted_at: Moment | None  # when Feishu confirmed the deletion
    updated_at: Moment  # when any of this last changed (the list's updated_after)


def _reward(reward: ExternalReferralReward, full: bool) -> RewardOut:
    # The last one asked for: the deletions' own order (newest first), prefetched by a list.
    deletion = next(iter(reward.deletions.all()), None)
    cash = reward.bonus_type == RewardBonusType.CASH
    return RewardOut(
        id=reward.pk,
        external_id=reward.external_id,
        tenant=reward.tenant_key,
        employee_id=reward.employee_id,
        account_id=reward.account_id,
        name=reward.name,
        application_id=reward.application_id,
        talent_id=reward.talent_id,
        job_id=reward.job_id,
        rule_type=_RULE_OF[reward.rule_type],  # type: ignore[arg-type]  # one of the Literal's values
        stage=_STAGE_OF[reward.stage],  # type: ignore[arg-type]
        points=reward.points,
        currency=reward.currency if cash else None,
        amount=str(Decimal(reward.amount).quantize(Decimal("0.01"))) if cash else None,  # type: ignore[arg-type]
        reason=_shown(reward, "reason", full),
        comment=_shown(reward, "comment", full),
        **{name: _moment(getattr(reward, name)) for name in rewards.TIMES},
        status=_STATE[reward.status],
        feishu_reward_id=reward.reward_id or None,
        error=_text(reward.error),
        error_code=reward.error_code,
        log_id=reward.log_id or None,
        requested_at=reward.requested_at,
        finished_at=reward.finished_at,
        deletion=None
        if deletion is None
        else DeletionOut(
            status=_STATE[deletion.status],
            requested_at=deletion.requested_at,
            finished_at=deletion.finished_at,
            error=_text(deletion.error),
            error_code=deletion.error_code,
        ),
        delete_reason=_shown(reward, "delete_reason", full),
        deleted_at=reward.deleted_at,
        updated_at=reward.updated_at,
    )


class RewardFilters(PageParams):
    updated_after: Timestamp | None = None
    status: CallState | None = None
    external_id: Text128 | None = None  # your system's id: one reward per tenant
    tenant: Text128 | None = None
    employee_id: Text128 | None = None


# --- payout runs ------------------------------------------------------------------------------

Outcome = Literal["paid", "held", "not_paid", "waiting_for_approval", "to_pay"]


class PayrollRowOut(Schema):
    """One row of the payroll file (docs/payroll.md): a line of the run in one currency."""

    employee_id: str
    employee_name: str
    feishu_account_id: str | None
    amount: str
    currency: str
    outcome: Outcome = Field(description=admin_words(OUTCOMES.items(), "The payroll file's outcome."))
    external_order_id: str
    transaction_time: Moment | None
    tenant: str


class PayoutRunOut(Schema):
    id: int
    title: str
    status: PayoutRunStatus = Field(description=admin_words(PayoutRunStatus.choices))
    # The run's totals and line count, currency by currency; null for a key limited to tenants
    # (a run may pay several tenants' employees; such a key sees only its own lines).
    totals: list[CashOut] | None
    line_count: int | None
    scheduled: bool
    prepared_by: str  # the payroll file's: "" for a run the schedule prepared
    approved_by: str  # "" until approved, and for a rejected or cancelled run
    prepared_at: Moment
    decided_at: Moment | None
    finished_at: Moment | None
    updated_at: Moment


class PayoutRunDetailOut(PayoutRunOut):
    """The run with a page of its payroll rows (by tenant, then line); ``next_cursor`` asks
    for the next page of rows (``?cursor=``), null: the last."""

    lines: list[PayrollRowOut]
    next_cursor: str | None


class PayoutRunFilters(PageParams):
    updated_after: Timestamp | None = None
    status: PayoutRunStatus | None = None
    tenant: Filter128 | None = None  # runs paying at least one line of this tenant


def _run(run: PayoutRun, request=None, *, whole: bool | None = None) -> dict:
    """The run as a key reads it: its totals only for a key of every tenant (``whole``)."""
    whole = not request.api_key.tenant_keys if whole is None else whole
    return {
        "id": run.pk,
        "title": run.title,
        "status": run.status,
        "totals": _cash(run.totals) if whole else None,
        "line_count": run.line_count if whole else None,
        "scheduled": run.scheduled,
        "prepared_by": payroll.prepared_by(run),
        "approved_by": payroll.approved_by(run),
        "prepared_at": run.prepared_at,
        "decided_at": run.decided_at,
        "finished_at": run.finished_at,
        "updated_at": run.updated_at,
    }


def _rows(line: PayoutLine) -> list[PayrollRowOut]:
    return [
        PayrollRowOut(
            employee_id=payroll.employee_id(line),
            employee_name=line.account.name,
            feishu_account_id=line.account.account_id,
            amount=amount,
            currency=currency,
            outcome=payroll.outcome_key(line),  # type: ignore[arg-type]  # one of the Literal's values
            external_order_id=line.external_order_id,
            transaction_time=payroll.transaction_time(line),
            tenant=line.tenant_key,
        )
        for _line, currency, amount in payroll.payroll_rows(line.run, [line])
    ]
