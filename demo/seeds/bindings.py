"""The vendor side of ./dev run's demo (manage.py bootstrap_demo): what a vendor has after a week.

Custom fields per scope, customers with the identifiers their accounts carry and a matching
rule, so an account the sandbox binds with a known ``org_id`` is bound by itself; and the
bindings of the accounts the sandbox's demo directory has (sandbox/data/demo.json,
``eco_accounts``): Acme's two, bound, and one with an unknown ``org_id`` waiting for review.
They come from that file alone, so every account the back-office shows is one Feishu knows:
binding it sends it the catalogue, and the sandbox has it to receive it. Idempotent; the
fields are published whenever the sandbox starts from its seed (./dev run's keeps its state
across restarts, and has them then).
"""

from django.conf import settings
from django.db import transaction

from bindings.matching import binding_upsert_from_event
from bindings.models import (
    CustomerIdentifier,
    CustomFieldDefinition,
    EcoAccountBinding,
    MatchingRule,
    Scope,
    VendorCustomer,
)
from bindings.publishing import fields_publish_request, scope_touch
from hireops.tenants.mode import store_app

from .. import feishu as demo_feishu

FIELDS = [
    # scope, key, name_zh, name_en, required, description_zh, description_en
    (
        Scope.BACKGROUND_CHECK,
        "org_id",
        "机构编号",
        "Organisation ID",
        True,
        "在供应商后台“设置”页查看",
        "Shown under Settings in our portal",
    ),
    (Scope.BACKGROUND_CHECK, "api_token", "接口令牌", "API token", False, "由客户成功经理提供", ""),
    (
        Scope.EXAM,
        "exam_org",
        "考试机构编号",
        "Exam organisation ID",
        True,
        "",
        "Shown under Settings in our portal",
    ),
]
CUSTOMERS = [
    ("Acme 科技", "李经理 li@acme.example", [("org_id", "ACME-001"), ("exam_org", "EX-ACME")]),
    ("Globex 集团", "Ms Chen", [("org_id", "GLX-002")]),
    ("Initech 软件", "", [("org_id", "INI-003"), ("exam_org", "EX-INI")]),
]
RULES = {Scope.BACKGROUND_CHECK: ["org_id"], Scope.EXAM: ["exam_org"]}


def seed() -> None:
    with transaction.atomic():
        for scope, key, name_zh, name_en, required, desc_zh, desc_en in FIELDS:
            _, created = CustomFieldDefinition.objects.get_or_create(
                scope=scope,
                key=key,
                defaults={
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "is_required": required,
                    "description_zh": desc_zh,
                    "description_en": desc_en,
                },
            )
            if created:
                scope_touch(scope)
        for name, contact, identifiers in CUSTOMERS:
            customer, _ = VendorCustomer.objects.get_or_create(name=name, defaults={"contact": contact})
            for key, value in identifiers:
                _, added = CustomerIdentifier.objects.get_or_create(
                    key=key, value=value, defaults={"customer": customer}
                )
                if added:  # the customer changed: a partner syncing by updated_at sees it
                    customer.save(update_fields=["updated_at"])
        for scope, keys in RULES.items():
            MatchingRule.objects.get_or_create(scope=scope, defaults={"keys": keys})
        for account in _feishu_accounts():
            if not EcoAccountBinding.objects.filter(account_id=account["account_id"]).exists():
                binding_upsert_from_event(
                    app_id=settings.FEISHU_APP_ID,
                    tenant_key=account["tenant_key"],
                    event_id=f"demo-binding-{account['account_id']}",
                    event={
                        key: account[key]
                        for key in ("scope", "account_id", "account_name", "usage_list", "custom_field_list")
                    },
                )
    if store_app():
        return  # each tenant gets the fields when it enables the app (the sandbox's app_open at start)
    if demo_feishu.feishu_keeps_state():
        return  # the sandbox kept the fields published before
    for scope in RULES:
        fields_publish_request(scope)  # the sandbox starts from its seed, without them


def _feishu_accounts() -> list[dict]:
    """The vendor's accounts that customers added in the demo's Feishu, as its sandbox has
    them (none where no sandbox is installed: no demo Feishu to mirror)."""
    directory = demo_feishu.directory()
    return directory["eco_accounts"] if directory is not None else []
