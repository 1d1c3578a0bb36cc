"""External referral rewards: posted (idempotent on their external id), listed, read and
deleted in Feishu, through the rewards' services as the key's maker may (money)."""

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from ninja import Query, Router, Status
from pydantic import Field

from hireops.api.pagination import page
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Page
from hireops.api.site import operation, register
from hireops.tenants.mode import store_app
from hireops.tenants.models import Tenant, TenantStatus

from ..models import ExternalReferralReward, ExternalRewardDeletion
from ..rewards import services as rewards
from .schemas import _STATE, RewardFilters, RewardIn, RewardOut, Text, _full, _limited, _reward, _utc
from .scopes import READ, WRITE

router = Router(tags=["Referrals"])


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


register(router)
