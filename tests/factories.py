"""Rows as the tests need them, built in one place: a test names what matters to it
(``a_binding("t1", status=BindingStatus.NEEDS_REVIEW)``) and the builder fills in the rest
with plausible values, unique where the model wants them unique.

Plain functions over the models' managers (no factory library: the builders are few, the
models' required fields change rarely, and a reader sees here exactly what a row holds). New
tests and tests being changed take their rows from here; a builder is added here rather
than in a test module as soon as a second module needs it.
"""

import itertools
import uuid

from bindings.models import BindingStatus, CustomerIdentifier, EcoAccountBinding, Scope, VendorCustomer
from orders.models import BackgroundCheck, Exam
from referrals.models import (
    AccountStatus,
    ExternalReferralReward,
    PayoutLine,
    PayoutRun,
    ReferralAccount,
    RewardBonusType,
)

_serial = itertools.count(1)


# --- vendor side: bindings and customers --------------------------------------------------------


def a_binding(
    tenant_key="t1",
    account_id=None,
    *,
    scope=Scope.BACKGROUND_CHECK,
    status=BindingStatus.BOUND,
    customer=None,
    values=None,
) -> EcoAccountBinding:
    """An account a Feishu customer added, in ``tenant_key``; ``values``: what they filled in."""
    values = values or {}
    return EcoAccountBinding.objects.create(
        app_id="cli_test",
        tenant_key=tenant_key,
        account_id=account_id or f"acc-{EcoAccountBinding.objects.count() + 1}-{tenant_key}",
        scope=scope,
        account_name="背调账号",
        usage_list=[1, 2],
        custom_field_values=[{"key": k, "value": v} for k, v in values.items()],
        status=status,
        customer=customer,
    )


def a_customer(name="Acme", identifiers=(), tenant_key=None) -> VendorCustomer:
    """A vendor's customer with its identifiers; with ``tenant_key``, seen in that tenant
    through an account bound to it there."""
    customer = VendorCustomer.objects.create(name=name)
    for key, value in identifiers:
        CustomerIdentifier.objects.create(customer=customer, key=key, value=value)
    if tenant_key is not None:
        a_binding(tenant_key, customer=customer)
    return customer


# --- vendor side: orders ------------------------------------------------------------------------


def a_background_check(tenant_key="t1", **fields) -> BackgroundCheck:
    """A background check as Feishu orders it, personal data included."""
    n = next(_serial)
    values = {
        "app_id": "cli_test",
        "tenant_key": tenant_key,
        "account_id": "acc-1",
        "background_check_id": f"bgc-feishu-{n}",
        "package_id": "pkg-basic",
        "candidate_name": "王二",
        "candidate_first_name": "二",
        "candidate_last_name": "王",
        "candidate_mobile_code": "86",
        "candidate_mobile": "18900001111",
        "candidate_email": "wang@example.com",
        "contact_name": "李四",
        "contact_email": "hr@example.com",
        "custom_field_values": [{"key": "id_card", "value": "110101199001011234"}],
        "comment": "请尽快",
        **fields,
    }
    return BackgroundCheck.objects.create(**values)


def an_exam(tenant_key="t1", **fields) -> Exam:
    """An exam as Feishu orders it."""
    n = next(_serial)
    values = {
        "app_id": "cli_test",
        "tenant_key": tenant_key,
        "account_id": "acc-2",
        "exam_id": f"exam-feishu-{n}",
        "paper_id": "paper001",
        "candidate_name": "张三",
        "candidate_email": "zhang@example.com",
        **fields,
    }
    return Exam.objects.create(**values)


# --- HR side ----------------------------------------------------------------------------------


def a_referral_account(tenant_key: str = "", n: int | None = None, **fields) -> ReferralAccount:
    """An active referral account, registered with Feishu (it has its account id); the n-th
    one of a test is employee ``emp<n>``."""
    n = n if n is not None else ReferralAccount.objects.count() + 1
    values = {
        "tenant_key": tenant_key,
        "name": f"员工{n}",
        "email": f"person{n}-{uuid.uuid4().hex[:6]}@example.com",
        "account_id": f"acc-{uuid.uuid4().hex[:12]}",
        "employee_id": f"emp{n}",
        "status": AccountStatus.ACTIVE,
        **fields,
    }
    return ReferralAccount.objects.create(**values)


def a_reward_row(tenant_key: str = "", **fields) -> ExternalReferralReward:
    """A reward from outside as the import keeps it (no call made)."""
    values = {
        "tenant_key": tenant_key,
        "external_id": f"ext-{uuid.uuid4().hex[:10]}",
        "employee_id": "emp1",
        "talent_id": "talent-1",
        "rule_type": 1,
        "stage": 2,
        "bonus_type": RewardBonusType.POINTS,
        "points": 100,
        **fields,
    }
    return ExternalReferralReward.objects.create(**values)


def a_payout_run(tenant_key: str = "") -> PayoutRun:
    """A prepared run of one line (1.00 CNY) for a new account."""
    account = a_referral_account(tenant_key)
    run = PayoutRun.objects.create(title="run", totals={"CNY": "1.00"}, line_count=1)
    PayoutLine.objects.create(
        run=run,
        account=account,
        tenant_key=tenant_key,
        external_order_id=uuid.uuid4().hex,
        cash={"CNY": "1.00"},
    )
    return run
