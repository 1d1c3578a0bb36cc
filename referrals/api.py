"""An HR team's payroll and HRIS talk to hireops (``/api/v1/``): referral accounts and their
balances, external rewards posted and deleted, and payout runs with their payroll lines.

Everything goes through what the admin uses: the rewards' service (a ``rewards.RewardInput``
built from the typed body, then ``rewards.reward_add``: the same checks and words as the import
and the add form, the same row, the same outbound call, the same change-history entry) and the
deletion's (``reward_delete_request``), the payroll file's own definitions
(``referrals.payouts.payroll``: the CSV's keys and outcomes), and the admin's masking
(``hireops.core.privacy.personal``) for keys without ``referrals:personal_data``.
No operation approves, rejects, releases or pays a payout run: money leaves with two people
and the second factor, in the admin.

**Money through a key.** Importing a reward and deleting one are money permissions
(``require_second_factor(..., money=True)``): ``rewards.reward_add`` and
``reward_delete_request`` ask ``second_factor.may_move_money`` of whoever calls them. A key's
own user (``ApiKey.actor``) is inactive and holds no permission, so the gate would refuse it,
rightly: it is not a person and has no second factor. Giving that user the permission, or
letting ``None`` (the system) through for keys, would open the gate to anything holding a key
and lose who stands behind it. Instead the API calls the services with an explicit
``rewards.KeyAuthority(actor=key's user, maker=who made the key)``: the row and the change
history name the key (``actor``), and the gate asks the *maker*, at every request, exactly
what it asks a person in the admin (the permission, and a second factor set up). So:

- a key gets ``rewards:write`` only from a person holding ``referrals.add_externalreferralreward``
  (the scope's ``permission``, checked when the key is made);
- it moves money only while its maker still may (losing the permission, being deactivated or
  having their factor reset stops the key at once); deleting also needs the maker to hold
  ``referrals.delete_in_feishu_externalreferralreward``;
- a key made by ``manage.py create_api_key`` has no person behind it and moves no money (403):
  a shell is not a second factor;
- nothing changes for people: the gate they pass is the same code, unchanged.

Posting a reward is idempotent on ``(tenant, external_id)``, with or without an
``Idempotency-Key``: the first post answers 201 with the new row (``queued``); the same
external id with the same values answers 200 with the row already kept (whatever its state)
and calls Feishu no more; with other values, 409, nothing changed. ``GET /referral-rewards``
lists them as the other lists do (by ``updated_at``, which every writer of a reward moves:
its call, its deletion's, ``rewards.services.touch``), filtered by ``external_id``, status,
tenant or referrer.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field

from hireops.api.pagination import PageParams, page
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Moment, Page, Text128, Timestamp, admin_words
from hireops.api.scopes import declare
from hireops.api.site import operation, register
from hireops.core.models import CallStatus
from hireops.core.privacy import personal
from hireops.tenants.mode import store_app
from hireops.tenants.models import Tenant, TenantStatus

from .admin.payouts import OUTCOMES
from .models import (
    STALE,
    AccountCash,
    AccountStatus,
    ExternalReferralReward,
    ExternalRewardDeletion,
    PayoutLine,
    PayoutRun,
    PayoutRunStatus,
    ReferralAccount,
    RewardBonusType,
    RewardRuleType,
    RewardStage,
)
from .payouts.services import payroll
from .rewards import services as rewards

READ, PERSONAL, WRITE, PAYOUTS = "referrals:read", "referrals:personal_data", "rewards:write", "payouts:read"
declare(
    READ,
    _("See referral accounts (balances, how fresh, status) and external rewards"),
    permission="referrals.view_referralaccount",
)
declare(
    PERSONAL,
    _("See referrers' mobile numbers and emails, and rewards' free text, unmasked"),
    permission=personal.PERMISSION,
)
declare(
    WRITE,
    _("Import external referral rewards and delete them in Feishu (moves money)"),
    permission=rewards.ADD_PERMISSION,
)
declare(
    PAYOUTS, _("See payout runs and their lines (the payroll file)"), permission="referrals.view_payoutrun"
)
router = Router(tags=["Referrals"])


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


def _accounts(request):
    cash = Prefetch("cash", queryset=AccountCash.objects.order_by("currency"))
    return _limited(ReferralAccount.objects.prefetch_related(cash), request)


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


@operation(
    router.get,
    "/referral-accounts",
    "listReferralAccounts",
    scope=READ,
    summary="List referral accounts with their balances",
    response=Page[AccountOut],
)
def list_accounts(request, filters: Query[AccountFilters]):
    rows = _accounts(request)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=_utc(filters.updated_after))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.tenant is not None:
        rows = rows.filter(tenant_key=filters.tenant)
    if filters.employee_id:
        rows = rows.filter(employee_id=filters.employee_id)
    full = _full(request)
    return page(rows, filters, serialize=lambda a: _account(a, full))


@operation(
    router.get,
    "/referral-accounts/{id}",
    "getReferralAccount",
    scope=READ,
    summary="A referral account with its balance",
    response=AccountOut,
)
def get_account(request, id: int):
    account = _accounts(request).filter(pk=id).first()
    if account is None:
        raise not_found()
    return _account(account, _full(request))


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


def _authority(request) -> rewards.KeyAuthority:
    key = request.api_key
    return rewards.KeyAuthority(actor=key.actor, maker=key.created_by)


def _refused(exc: rewards.RewardRefused, status: int, kind: str, field: str | None = None) -> Problem:
    if isinstance(exc, rewards.MoneyRefused):
        return Problem(403, str(exc), kind="money-not-authorised")
    return Problem(status, str(exc), kind=kind, errors=[(field, str(exc))] if field else None)


def _write_tenant(request, tenant: str) -> str:
    """The tenant a posted reward belongs to, checked as the import's form checks it; one the
    key may not see is refused exactly like one that does not exist."""
    if store_app():
        installed = Tenant.objects.filter(tenant_key=tenant, status=TenantStatus.INSTALLED)
        ok = bool(tenant) and request.api_key.allows_tenant(tenant) and installed.exists()
        why = "No tenant that installed the app has this tenant key (GET /tenants lists them)."
    else:
        ok = tenant == "" and request.api_key.allows_tenant(tenant)
        why = "A self-built app has one tenant: leave the tenant empty."  # the admin's words
    if not ok:
        raise Problem(422, "The request is not valid.", kind="invalid-request", errors=[("tenant", why)])
    return tenant


def _reward_input(body: RewardIn, tenant: str) -> rewards.RewardInput:
    """The body as the services' own type, checked there (the import's and the admin's checks
    and words); a 422 naming every field at fault."""
    values: dict[str, Any] = {
        **body.model_dump(exclude={"tenant", "rule_type", "stage", *rewards.TIMES}),
        **{name: _ms(getattr(body, name)) for name in rewards.TIMES},
    }
    try:
        return rewards.RewardInput(
            **values,
            tenant_key=tenant,
            rule_type=rewards.RULE_WORDS[body.rule_type],
            stage=rewards.STAGE_WORDS[body.stage],
        )
    except ValidationError as exc:
        errors = [(field, " ".join(messages)) for field, messages in exc.message_dict.items()]
        raise Problem(422, "The request is not valid.", kind="invalid-request", errors=errors) from None


def _ms(moment: dt.datetime | None) -> int | None:
    return None if moment is None else rewards.moment_ms(moment)


@operation(
    router.post,
    "/referral-rewards",
    "createReward",
    scope=WRITE,
    summary="Import an external referral reward (idempotent on its external id)",
    response={201: RewardOut, 200: RewardOut},
    write=True,
    created="/referral-rewards/{id}",
)
def post_reward(request, body: RewardIn):
    """201 with the new reward (``queued``: sent to Feishu after the answer); 200 with the one
    already kept when this external id was posted before with the same values; 409 when it
    was posted with other values."""
    given = _reward_input(body, _write_tenant(request, body.tenant))
    try:
        reward, created = rewards.reward_add(given, _authority(request))
    except rewards.RewardRefused as exc:
        raise _refused(exc, 409, "external-id-taken", "external_id") from None
    reward.refresh_from_db()
    return Status(201 if created else 200, _reward(reward, _full(request)))


_STATUS_OF = {word: status for status, word in _STATE.items()}


class RewardFilters(PageParams):
    updated_after: Timestamp | None = None
    status: CallState | None = None
    external_id: Text128 | None = None  # your system's id: one reward per tenant
    tenant: Text128 | None = None
    employee_id: Text128 | None = None


@operation(
    router.get,
    "/referral-rewards",
    "listRewards",
    scope=READ,
    summary="List external referral rewards and where each stands in Feishu",
    response=Page[RewardOut],
)
def list_rewards(request, filters: Query[RewardFilters]):
    rows = _limited(ExternalReferralReward.objects.prefetch_related("deletions"), request)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=_utc(filters.updated_after))
    if filters.status:
        rows = rows.filter(status=_STATUS_OF[filters.status])
    if filters.external_id is not None:
        rows = rows.filter(external_id=filters.external_id)
    if filters.tenant is not None:
        rows = rows.filter(tenant_key=filters.tenant)
    if filters.employee_id is not None:
        rows = rows.filter(employee_id=filters.employee_id)
    full = _full(request)
    return page(rows, filters, serialize=lambda reward: _reward(reward, full))


def _reward_of(request, id: int) -> ExternalReferralReward:
    reward = _limited(ExternalReferralReward.objects.all(), request).filter(pk=id).first()
    if reward is None:
        raise not_found()
    return reward


@operation(
    router.get,
    "/referral-rewards/{id}",
    "getReward",
    scope=READ,
    summary="An external referral reward and where it stands in Feishu",
    response=RewardOut,
)
def get_reward(request, id: int):
    return _reward(_reward_of(request, id), _full(request))


# The longest reason a deletion keeps (its column), in the document too.
DELETE_REASON_LENGTH: int = ExternalRewardDeletion._meta.get_field("reason").max_length  # type: ignore[assignment]


@operation(
    router.delete,
    "/referral-rewards/{id}",
    "deleteReward",
    scope=WRITE,
    summary="Delete an external referral reward in Feishu, with the reason",
    response=RewardOut,
    write=True,
)
def delete_reward(request, id: int, reason: Annotated[Text, Field(max_length=DELETE_REASON_LENGTH)]):
    """The reward with its deletion ``queued`` (sent to Feishu after the answer); the row stays,
    with the reason, as in the admin. 409 for a reward not in Feishu, already deleted or being
    deleted."""
    reason = reason.strip()
    if not reason or len(reason) > DELETE_REASON_LENGTH:
        why = "Give the reason for the deletion." if not reason else "At most 500 characters."
        raise Problem(422, "The request is not valid.", kind="invalid-request", errors=[("reason", why)])
    reward = _reward_of(request, id)
    try:
        rewards.reward_delete_request(reward, reason, _authority(request))
    except rewards.RewardRefused as exc:
        raise _refused(exc, 409, "reward-not-deletable") from None
    reward.refresh_from_db()
    return _reward(reward, _full(request))


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


def _runs(request):
    runs = PayoutRun.objects.select_related("prepared_by", "decided_by")
    keys = request.api_key.tenant_keys
    if keys:
        runs = runs.filter(Exists(PayoutLine.objects.filter(run=OuterRef("pk"), tenant_key__in=keys)))
    return runs


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


@operation(
    router.get,
    "/payout-runs",
    "listPayoutRuns",
    scope=PAYOUTS,
    summary="List payout runs",
    response=Page[PayoutRunOut],
)
def list_runs(request, filters: Query[PayoutRunFilters]):
    rows = _runs(request)
    if filters.updated_after:
        rows = rows.filter(updated_at__gt=_utc(filters.updated_after))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.tenant is not None:
        if not request.api_key.allows_tenant(filters.tenant):
            rows = rows.none()  # which other tenants a run pays is theirs to know
        rows = rows.filter(Exists(PayoutLine.objects.filter(run=OuterRef("pk"), tenant_key=filters.tenant)))
    return page(rows, filters, serialize=lambda run: PayoutRunOut(**_run(run, request)))


def _lines_the_key_sees(lines, request):
    """A run's lines for the key: ``_limited``, with one tenant as a range of one value instead
    of an equality. With the tenant fixed by an equality, PostgreSQL reads the order (tenant,
    id) as the primary key's and, for a run holding most of the table's lines, walks that key
    past every earlier run's lines (24.7 ms at 1M); the range leaves it the run's index
    (run, tenant, id), which starts at the run's first line (0.3 ms; docs/benchmarks.md,
    Partner API lists). Equal strings are equal bytes under PostgreSQL's deterministic
    collations and SQLite's, so the range holds exactly the tenant's lines."""
    keys = request.api_key.tenant_keys
    if len(keys) == 1:
        return lines.filter(tenant_key__gte=keys[0], tenant_key__lte=keys[0])
    return _limited(lines, request)


@operation(
    router.get,
    "/payout-runs/{id}",
    "getPayoutRun",
    scope=PAYOUTS,
    summary="A payout run with its payroll lines, page by page",
    response=PayoutRunDetailOut,
)
def get_run(request, id: int, filters: Query[PageParams]):
    run = _runs(request).filter(pk=id).first()
    if run is None:
        raise not_found()
    lines = _lines_the_key_sees(run.lines.select_related("account"), request)
    found = page(lines, filters, order=(("tenant_key", str), ("id", int)), serialize=lambda line: line)
    for line in found["data"]:
        line.run = run  # the outcome reads the run's status: no query per line
    rows = [row for line in found["data"] for row in _rows(line)]
    return PayoutRunDetailOut(**_run(run, request), lines=rows, next_cursor=found["next_cursor"])


register(router)
