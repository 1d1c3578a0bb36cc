"""The HR side of ./dev run's demo (manage.py bootstrap_demo): referral accounts with balances
and one failed event to look at.

The accounts are the ones the sandbox's demo directory (hireops/sandbox/data/demo.json)
creates at every start, with the same fixed ids, so pulls, withdrawals and bonus events
work on them. Idempotent.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hireops.core.messages import Message
from hireops.events.models import EventStatus, FeishuEvent
from hireops.feishu import hire
from hireops.sandbox.state import DEMO_DIRECTORY, load_directory
from hireops.tenants.mode import store_app

from .balances import NOT_REGISTERED_YET, balance_apply
from .models import AccountStatus, BalanceSource, ReferralAccount

UNKNOWN_ACCOUNT = "7300000000000009999"


def seed() -> None:
    directory = load_directory(settings.SANDBOX_DIRECTORY_FILE or DEMO_DIRECTORY)
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
    with transaction.atomic():
        FeishuEvent.objects.get_or_create(
            event_id="demo-failed-event-1",
            defaults={
                "schema": "2.0",
                "event_type": "hire.referral_account.assets_update_v1",
                "tenant_key": "demo-tenant",
                "account_id": UNKNOWN_ACCOUNT,
                "payload": {
                    "schema": "2.0",
                    "header": {
                        "event_id": "demo-failed-event-1",
                        "event_type": "hire.referral_account.assets_update_v1",
                    },
                    "event": {
                        "account_id": UNKNOWN_ACCOUNT,
                        "modify_time": str(int(timezone.now().timestamp() * 1000)),
                        "assets": {"confirmed_bonus": {"point_bonus": 10, "cash_bonus": []}},
                    },
                },
                "status": EventStatus.FAILED,
                "attempts": 5,
                "last_error": Message(NOT_REGISTERED_YET, account_id=UNKNOWN_ACCOUNT),
            },
        )
