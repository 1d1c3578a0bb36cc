"""The busy admin pages make the same few queries whatever the number of rows they show.

Each page is opened twice for each role that sees it: once with a handful of rows, once after
more rows (with every relation a list shows: customers, requesting staff, balances, status
history) were added. A query per row would make the second count grow; a page over the
budget (12 queries, what a page may cost at production size) fails too. bench/admin.py times
the same pages at production size; this pins what a code change can break without anyone
running the benchmark.
"""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bindings.models import (
    BindingStatus,
    BindingStatusChange,
    CustomerIdentifier,
    EcoAccountBinding,
    VendorCustomer,
)
from hireops.core.models import CallStatus
from hireops.events.models import EventStatus, FeishuEvent, RejectedDelivery
from hireops.jobs.models import BulkJob, BulkJobItem, ExportJob, ExportStatus, ItemStatus, JobStatus
from hireops.tenants.models import Tenant, TenantNameLookup
from orders.catalogue.models import CataloguePush, CatalogueRollout, ExamPaper, FormField, Package
from orders.models import BackgroundCheck, Exam, OrderWrite, WriteKind
from referrals.models import (
    AccountCash,
    AccountRegistration,
    AccountStatus,
    AccountStatusChange,
    BalanceChange,
    BalanceSource,
    ExternalReferralReward,
    ExternalRewardDeletion,
    Leaver,
    LeaverHow,
    LeaverMatch,
    LeaverPolicy,
    LeaverState,
    PayoutLine,
    PayoutRun,
    PayoutRunStatus,
    ReconciliationRun,
    ReferralAccount,
    Withdrawal,
)

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
ROLES = [(), ("Vendor operations",), ("HR",), ("HR", "HR withdrawals"), ("Auditor",)]
EVENTS = "/admin/events/feishuevent/"
ACCOUNTS = "/admin/referrals/referralaccount/"
BINDINGS = "/admin/bindings/ecoaccountbinding/"
WITHDRAWALS = "/admin/referrals/withdrawal/"

# (page, the model whose admin decides who sees it, query string)
PAGES = [
    ("/admin/", None, ""),
    (EVENTS, FeishuEvent, ""),
    (EVENTS, FeishuEvent, "status__exact=failed"),
    (EVENTS, FeishuEvent, "q=evt-1"),
    (ACCOUNTS, ReferralAccount, ""),
    (ACCOUNTS, ReferralAccount, "status__exact=active"),
    (ACCOUNTS, ReferralAccount, "q=Employee"),
    (ACCOUNTS, ReferralAccount, "q=张三"),  # no trigram: the bigram index
    (WITHDRAWALS, Withdrawal, ""),
    (WITHDRAWALS, Withdrawal, "status__exact=failed"),
    (BINDINGS, EcoAccountBinding, ""),
    (BINDINGS, EcoAccountBinding, "status__exact=needs_review"),
    (BINDINGS, EcoAccountBinding, "q=Account"),
    (BINDINGS, EcoAccountBinding, "q=张三"),
    (BINDINGS, EcoAccountBinding, "q=ORG-1"),
    ("/admin/bindings/vendorcustomer/", VendorCustomer, ""),
    ("/admin/jobs/bulkjob/", BulkJob, ""),
    ("/admin/jobs/exportjob/", ExportJob, ""),
    ("/admin/core/changehistoryentry/", LogEntry, ""),
    ("/admin/referrals/reconciliationrun/", ReconciliationRun, ""),
    ("/admin/referrals/accountregistration/", AccountRegistration, "status__exact=failed"),
    ("/admin/referrals/accountstatuschange/", AccountStatusChange, ""),
    ("/admin/referrals/externalrewarddeletion/", ExternalRewardDeletion, "status__exact=failed"),
    ("/admin/tenants/tenant/", Tenant, ""),
    ("/admin/tenants/tenantnamelookup/", TenantNameLookup, ""),
    ("/admin/orders/backgroundcheck/", BackgroundCheck, ""),
    ("/admin/orders/backgroundcheck/", BackgroundCheck, "state__exact=new"),
    ("/admin/orders/backgroundcheck/", BackgroundCheck, "overdue=yes&age=older"),
    ("/admin/orders/exam/", Exam, ""),
    ("/admin/orders/orderwrite/", OrderWrite, ""),
    ("/admin/orders/package/", Package, ""),
    ("/admin/orders/formfield/", FormField, ""),
    ("/admin/orders/exampaper/", ExamPaper, ""),
    ("/admin/orders/cataloguepush/", CataloguePush, ""),
    ("/admin/orders/cataloguerollout/", CatalogueRollout, ""),
    ("/admin/events/rejecteddelivery/", RejectedDelivery, ""),
    ("/admin/events/rejecteddelivery/", RejectedDelivery, "kind__exact=decrypt_failed"),
]

_serial = itertools.count(1)


def add_rows(user, n: int) -> None:
    """``n`` rows of everything the busy pages list, each with the relations its row shows."""
    for _ in range(n):
        i = next(_serial)
        Tenant.objects.get_or_create(tenant_key=f"tenant-{i % 3}")
        quiet = Tenant.objects.create(tenant_key=f"quiet-{i}")  # a tenant with nothing of its own yet
        TenantNameLookup.objects.create(tenant=quiet, requested_by=user)
        for event_type, status in (
            ("hire.eco_account.created_v1", EventStatus.FAILED),
            ("hire.referral_account.assets_update_v1", EventStatus.PROCESSED),
        ):
            FeishuEvent.objects.create(
                event_id=f"evt-{i}-{event_type[5:8]}",
                schema="2.0",
                event_type=event_type,
                tenant_key=f"tenant-{i % 3}",
                account_id=f"acc-{i}",
                payload={},
                status=status,
            )
        RejectedDelivery.objects.create(
            received_at=timezone.now(), kind="decrypt_failed", reason="body does not decrypt", status=400
        )
        account = ReferralAccount.objects.create(
            name=f"Employee {i}",
            email=f"e{i}@example.com",
            mobile_number=f"1380000{i:04d}",
            status=AccountStatus.ACTIVE,
            account_id=f"ref-{i}",
            points=i,
            created_by=user,
        )
        AccountCash.objects.create(account=account, currency="CNY", amount=Decimal("1.50"))
        AccountRegistration.objects.create(account=account, status=CallStatus.FAILED, error="refused")
        AccountStatusChange.objects.create(account=account, action="deactivate", requested_by=user)
        BalanceChange.objects.create(account=account, source=BalanceSource.PULL, points=i)
        Withdrawal.objects.create(
            account=account,
            external_order_id=f"order-{i}",
            bonus_types=[1],
            status=CallStatus.FAILED,
            requested_by=user,
            error="refused",
        )
        ReconciliationRun.objects.create(start_ms=i, end_ms=i + 1, requested_by=user)
        run = PayoutRun.objects.create(
            prepared_by=user, status=PayoutRunStatus.FINISHED, totals={"CNY": "1.50"}, line_count=1
        )
        PayoutLine.objects.create(  # held: its balance moved after approval
            run=run,
            account=account,
            external_order_id=f"payout-{i}",
            cash={"CNY": "1.50"},
            held=True,
            feishu_cash={"CNY": "2.00"},
            status=CallStatus.FAILED,
            requested_by=user,
            error="held",
        )
        reward = ExternalReferralReward.objects.create(
            external_id=f"ext-{i}",
            employee_id=f"u{i}",
            account=account,
            name=account.name,
            talent_id=f"talent-{i}",
            rule_type=1,
            stage=2,
            bonus_type=1,
            points=i,
            status=CallStatus.SUCCEEDED,
            reward_id=f"rw-{i}",
            requested_by=user,
        )
        ExternalRewardDeletion.objects.create(
            reward=reward, reason="duplicate", status=CallStatus.FAILED, requested_by=user
        )
        for how, match in (
            (LeaverHow.RESIGNED, LeaverMatch.MATCHED),
            (LeaverHow.DELETED, LeaverMatch.SEVERAL),
        ):
            Leaver.objects.create(
                open_id=f"ou_{i}_{how}",
                user_id=f"u{i}",
                name=f"Leaver {i}",
                how=how,
                source_event_id=f"evt-{i}-{how}",
                match=match,
                account=account if match == LeaverMatch.MATCHED else None,
                candidates=[] if match == LeaverMatch.MATCHED else [account.pk],
                policy=LeaverPolicy.DEACTIVATE if match == LeaverMatch.MATCHED else "",
                points_then=i if match == LeaverMatch.MATCHED else None,
                cash_then={"CNY": "1.50"} if match == LeaverMatch.MATCHED else None,
                state=LeaverState.DEACTIVATING if match == LeaverMatch.MATCHED else LeaverState.NEEDS_PERSON,
            )
        customer = VendorCustomer.objects.create(name=f"Customer {i}")
        CustomerIdentifier.objects.create(customer=customer, key="org_id", value=f"ORG-{i}")
        for status in (BindingStatus.BOUND, BindingStatus.NEEDS_REVIEW):
            binding = EcoAccountBinding.objects.create(
                app_id="cli_a",
                tenant_key=f"tenant-{i % 3}",
                account_id=f"eco-{i}-{status}",
                scope=1,
                account_name=f"Account {i}",
                custom_field_values=[{"key": "org_id", "value": f"ORG-{i}"}],
                status=status,
                customer=customer if status == BindingStatus.BOUND else None,
            )
            BindingStatusChange.objects.create(
                binding=binding, from_status="", to_status=status, customer=binding.customer, actor=user
            )
            LogEntry.objects.create(
                user=user,
                content_type=ContentType.objects.get_for_model(EcoAccountBinding),
                object_id=str(binding.pk),
                object_repr=str(binding),
                action_flag=CHANGE,
                change_message="[]",
            )
        LogEntry.objects.create(
            user=user,
            content_type=ContentType.objects.get_for_model(ReferralAccount),
            object_id=str(account.pk),
            object_repr=str(account),
            action_flag=ADDITION,
            change_message="[]",
        )
        check = BackgroundCheck.objects.create(
            app_id="cli_a",
            tenant_key=f"tenant-{i % 3}",
            account_id=f"eco-{i}-bound",
            background_check_id=f"check-{i}",
            package_id=f"pkg-{i}",  # named from the catalogue on the list
            customer=customer,
            candidate_name=f"Candidate {i}",
        )
        exam = Exam.objects.create(
            app_id="cli_a",
            tenant_key=f"tenant-{i % 3}",
            account_id=f"eco-{i}",
            exam_id=f"exam-{i}",
            paper_id=f"paper-{i}",
            customer=customer,
        )
        OrderWrite.objects.create(
            kind=WriteKind.PROGRESS, background_check=check, stage_id="s1", stage_name="x", requested_by=user
        )
        OrderWrite.objects.create(kind=WriteKind.SCORE, exam=exam, result="60", requested_by=user)
        Package.objects.create(code=f"pkg-{i}", name=f"Package {i}").only_for.add(customer)
        FormField.objects.create(key=f"f{i}", type="text", name_zh=f"字段 {i}")
        ExamPaper.objects.create(code=f"paper-{i}", name=f"Paper {i}").only_for.add(customer)
        rollout = CatalogueRollout.objects.create(catalogue="packages", status="done", requested_by=user)
        CataloguePush.objects.create(
            binding=binding, catalogue="packages", reason="changed", rollout=rollout, requested_by=user
        )
        for status in (ExportStatus.RUNNING, ExportStatus.DONE):
            ExportJob.objects.create(
                source="referrals.referralaccount",
                file_format="xlsx",
                requested_by=user,
                status=status,
                rows_total=10,
                rows_written=5,
                download_name="referral-accounts.xlsx",
                expires_at=timezone.now() + timedelta(hours=24),
            )
        job = BulkJob.objects.create(
            kind="referrals.pull_balance", requested_by=user, status=JobStatus.RUNNING
        )
        for position, status in ((1, ItemStatus.SUCCEEDED), (2, ItemStatus.PENDING)):
            BulkJobItem.objects.create(
                job=job, position=position, object_id=str(account.pk), label="x", status=status
            )


def sees(user, model) -> bool:
    if model is None:
        return True
    if model is LogEntry:
        return user.has_perm("admin.view_logentry") or user.has_perm("core.view_changehistoryentry")
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def queries_for(client, url: str) -> int:
    """The queries of a warm request (the first one fills per-process caches: content
    types, the session, the dashboard's cached figures)."""
    cache.clear()
    assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("app_type", ["self_built", "store"])
@pytest.mark.parametrize("roles", ROLES, ids=lambda roles: "+".join(roles) or "superuser")
def test_busy_pages_make_a_fixed_number_of_queries(
    client, staff_user, django_user_model, roles, app_type, settings
):
    """For both kinds of app: a store app's lists show tenant columns and its dashboard
    groups by tenant."""
    settings.FEISHU_APP_TYPE = app_type
    superuser = django_user_model.objects.create_superuser
    user = staff_user(*roles) if roles else superuser("root", password="x")
    client.force_login(user)
    pages = [(path + ("?" + query if query else ""), model) for path, model, query in PAGES]
    pages = [(url, model) for url, model in pages if sees(user, model)]
    assert len(pages) >= 3, "each role sees the dashboard and some busy lists"

    add_rows(user, 2)
    few = {url: queries_for(client, url) for url, _model in pages}
    add_rows(user, 8)
    many = {url: queries_for(client, url) for url, _model in pages}

    grew = {url: (few[url], many[url]) for url in few if many[url] != few[url]}
    assert not grew, f"a page's queries grow with its rows (2 → 10 rows): {grew}"
    over = {url: n for url, n in many.items() if n > MAX_QUERIES}
    assert not over, f"pages over {MAX_QUERIES} queries: {over}"
