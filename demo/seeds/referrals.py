"""The HR side of ./dev run's demo (manage.py bootstrap_demo): referral accounts with balances,
one failed event to look at, and a colleague who approves payout runs, linked to Feishu.

The accounts are the ones the sandbox's demo directory (sandbox/data/demo.json)
creates at every start, with the same fixed ids, so pulls, withdrawals and bonus events
work on them. Idempotent.
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from hireops.core.auth import roles
from hireops.core.messages import Message
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import RETRY_BACKOFF
from hireops.feishu import hire
from hireops.signin import identities
from hireops.tenants.mode import store_app
from referrals.accounts.services import NOT_REGISTERED_YET, balance_apply
from referrals.models import AccountStatus, BalanceSource, ReferralAccount

from .. import feishu as demo_feishu

FAILED_EVENT_ID = "demo-failed-event-1"
# Earlier demos' failed event named an account nobody has: failed for good, it opened an
# incident ("Events failed after their last retry") at every start. Replaced by the one below.
FOR_GOOD_BEFORE = "7300000000000009999"


def seed() -> None:
    directory = demo_feishu.directory()
    # A store app's demo: the accounts live in the sandbox's default tenant, one of those that
    # enable the app at start (SANDBOX_INSTALL_TENANTS); a self-built app's are its own ("").
    tenant_key = directory["default_tenant"] if store_app() else ""
    people = {e["user_id"]: e for e in directory["employees"]}
    for seeded in directory["accounts"]:
        person = people[seeded["user_id"]]
        mobile = person.get("mobile") or {}
        account, created = ReferralAccount.objects.get_or_create(
            account_id=seeded["account_id"],
            defaults={
                "tenant_key": tenant_key,
                "name": person["name"]["zh_cn"],
                "email": person.get("email") or "",
                "mobile_code": mobile.get("code", ""),
                "mobile_number": mobile.get("number", ""),
                "status": AccountStatus.ACTIVE if seeded.get("status", 1) == 1 else AccountStatus.DEACTIVATED,
            },
        )
        if created:
            cash = [hire.Cash(cur, Decimal(amount)) for cur, amount in (seeded.get("cash") or {}).items()]
            balance = hire.Bonus(point_bonus=int(seeded.get("points", 0)), cash=cash)
            balance_apply(account.pk, balance, modify_time=None, source=BalanceSource.REGISTRATION)
    _failed_event(next(a for a in directory["accounts"] if a["user_id"] == "u1002"))
    if not store_app():  # a store app's messages cannot name the people who sign in
        _approver(people[APPROVER_IN_FEISHU])


APPROVER = "approver"
APPROVER_IN_FEISHU = "u1006"  # 刘洋, who has no referral account in the demo's runs


def _approver(person: dict) -> None:
    """The demo's second person: in HR and HR payout approvals, linked to the sandbox's 刘洋, so
    a payout run the demo admin prepares reaches her chat with the app in Feishu (the sandbox's
    page http://127.0.0.1:8765/im/). No password: he signs in with Feishu as 刘洋, sets up his
    second factor then, and decides the run from the card's button."""
    user, created = get_user_model().objects.get_or_create(
        username=APPROVER, defaults={"is_staff": True, "email": person.get("enterprise_email") or ""}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(*Group.objects.filter(name__in=[roles.HR, roles.HR_PAYOUT_APPROVALS]))
    identities.link_identity(user, person["open_id"], person["tenant_key"])


def _failed_event(seeded: dict) -> None:
    """The failed event to look at, and an honest one: 李娜's balance event that Feishu pushed
    before her account was registered here (a push can overtake a registration). Each of its
    attempts so far failed ("not registered here yet"), 30 s, 2 min and 10 min apart, as the
    inbox retries, and its last retry is due in an hour (RETRY_BACKOFF). An event that still
    has a retry is no alarm (the status counts events failed after their last retry), so the
    demo starts without an incident; that retry, or *Reprocess* before it, finds her account
    and applies the balance she has (the sandbox's, unchanged). Created once: a restart finds
    it as it was left."""
    FeishuEvent.objects.filter(event_id=FAILED_EVENT_ID, account_id=FOR_GOOD_BEFORE).delete()
    account_id, points = seeded["account_id"], int(seeded.get("points", 0))
    now = timezone.now()
    received = now - sum(RETRY_BACKOFF[:-1], timedelta())  # four attempts: now the fourth
    modify_time = str(int(received.timestamp() * 1000))
    with transaction.atomic():
        event, created = FeishuEvent.objects.get_or_create(
            event_id=FAILED_EVENT_ID,
            defaults={
                "schema": "2.0",
                "event_type": "hire.referral_account.assets_update_v1",
                "tenant_key": "demo-tenant",
                "account_id": account_id,
                "create_time": modify_time,
                "payload": {
                    "schema": "2.0",
                    "header": {
                        "event_id": FAILED_EVENT_ID,
                        "event_type": "hire.referral_account.assets_update_v1",
                        "create_time": modify_time,
                        "tenant_key": "demo-tenant",
                    },
                    "event": {
                        "account_id": account_id,
                        "modify_time": modify_time,
                        "assets": {"confirmed_bonus": {"point_bonus": points, "cash_bonus": []}},
                    },
                },
                "status": EventStatus.FAILED,
                "attempts": len(RETRY_BACKOFF),
                "next_attempt_at": now + RETRY_BACKOFF[-1],
                "last_error": Message(NOT_REGISTERED_YET, account_id=account_id),
            },
        )
        if created:  # received_at is set on insert: put it where its first attempt was
            FeishuEvent.objects.filter(pk=event.pk).update(received_at=received)
