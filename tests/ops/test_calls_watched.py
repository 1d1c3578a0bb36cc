"""Every kind of outbound call (to Feishu, and partners' webhooks) is watched, so that a call
stuck or failed reaches a person whatever its kind: for each kind the outbound engine has
registered, the status (the admin page, ``manage.py hireops_status``, the alerts) counts its
rows stuck and failed, and links to its list. A kind registered tomorrow fails here until it
has a row below: then it is proved watched like the others."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.text import capfirst

from hireops import outbound
from hireops.core.models import CallStatus
from hireops.ops import health
from hireops.ops.status import findings
from tests.ops.test_status import all_alive, problems, run_status

pytestmark = pytest.mark.django_db
serial = itertools.count(1)


def _account(**fields):
    from referrals.models import AccountStatus, ReferralAccount

    i = next(serial)
    fields = {"account_id": f"ref-{i}", "status": AccountStatus.ACTIVE, **fields}
    return ReferralAccount.objects.create(name=f"员工{i}", email=f"e{i}@example.com", **fields)


def _tenant_lookup():
    from hireops.tenants.models import Tenant, TenantNameLookup

    return TenantNameLookup.objects.create(tenant=Tenant.objects.create(tenant_key=f"t-{next(serial)}"))


def _field_publish():
    from bindings.models import FieldPublish, Scope

    return FieldPublish.objects.create(scope=Scope.BACKGROUND_CHECK)


def _catalogue_push():
    from bindings.models import BindingStatus, EcoAccountBinding, VendorCustomer
    from orders.catalogue.models import CataloguePush

    i = next(serial)
    binding = EcoAccountBinding.objects.create(
        app_id="cli_a",
        account_id=f"eco-{i}",
        scope=1,
        status=BindingStatus.BOUND,
        customer=VendorCustomer.objects.create(name=f"Customer {i}"),
    )
    return CataloguePush.objects.create(binding=binding, catalogue="packages", reason="changed")


def _order_write():
    from orders.models import Exam, OrderWrite, WriteKind

    i = next(serial)
    exam = Exam.objects.create(app_id="cli_a", account_id=f"eco-{i}", exam_id=f"exam-{i}")
    return OrderWrite.objects.create(kind=WriteKind.SCORE, exam=exam, result="60")


def _registration():
    from referrals.models import AccountRegistration, AccountStatus

    return AccountRegistration.objects.create(account=_account(status=AccountStatus.PENDING, account_id=None))


def _status_change():
    from referrals.models import AccountStatusChange, StatusAction

    return AccountStatusChange.objects.create(account=_account(), action=StatusAction.DEACTIVATE)


def _withdrawal():
    from referrals.models import Withdrawal

    return Withdrawal.objects.create(
        account=_account(), external_order_id=f"w-{next(serial)}", bonus_types=[1]
    )


def _reward(**fields):
    from referrals.models import ExternalReferralReward, RewardBonusType

    i = next(serial)
    return ExternalReferralReward.objects.create(
        external_id=f"ext-{i}", employee_id=f"u{i}", rule_type=1, stage=2, bonus_type=RewardBonusType.POINTS,
        points=5, **fields,
    )  # fmt: skip


def _reward_deletion():
    from referrals.models import ExternalRewardDeletion

    reward = _reward(status=CallStatus.SUCCEEDED, reward_id=f"rw-{next(serial)}")
    return ExternalRewardDeletion.objects.create(reward=reward, reason="重复录入")


def _reconciliation():
    from referrals.models import ReconciliationRun

    return ReconciliationRun.objects.create(start_ms=0, end_ms=1)


def _payout_line(since):
    """A line of a run approved at ``since``, sent once: before the approval a line waits for
    a person, and until it is sent, for the dispatcher's pace (referrals.payouts)."""
    from referrals.models import PayoutLine, PayoutRun, PayoutRunStatus

    run = PayoutRun.objects.create(status=PayoutRunStatus.PAYING, decided_at=since, line_count=1)
    i = next(serial)
    return PayoutLine.objects.create(
        run=run, account=_account(), external_order_id=f"p-{i}", cash={"CNY": "1.00"}, attempts=1
    )


def _payout_message():
    from referrals.models import PayoutMessage, PayoutNews, PayoutRun

    i = next(serial)
    run = PayoutRun.objects.create(line_count=1)
    return PayoutMessage.objects.create(
        run=run, news=PayoutNews.AWAITING, open_id=f"ou_{i}", uuid=f"m-{i}", language="en"
    )


def _webhook_delivery():
    from hireops.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint.objects.create(url=f"https://partner-{next(serial)}.example/hooks")
    event = WebhookEvent.objects.create(type="ping", data={})
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint)


# Each kind's name → a new queued row of it, in flight since the moment given.
ROWS = {
    "tenants.lookup_name": _tenant_lookup,
    "bindings.publish_fields": _field_publish,
    "orders.push_catalogue": _catalogue_push,
    "orders.send_write": _order_write,
    "referrals.register_account": _registration,
    "referrals.change_status": _status_change,
    "referrals.withdraw": _withdrawal,
    "referrals.external_reward_create": _reward,
    "referrals.external_reward_delete": _reward_deletion,
    "referrals.reconcile": _reconciliation,
    "referrals.pay_line": _payout_line,
    "referrals.payout_message": _payout_message,
    "webhooks.deliver": _webhook_delivery,
}
# A kind that waits on someone other than Feishu says so: "{what}" is its rows' name.
TITLES = {"webhooks.deliver": ("{what}: due for over 30 minutes", "{what}: failed in the last 24 hours")}
FEISHU_TITLES = ("{what}: waiting for Feishu for over 30 minutes", "{what}: failed in the last 24 hours")


def titles(kind) -> tuple[str, str]:
    what = capfirst(kind.model._meta.verbose_name_plural)
    return tuple(title.format(what=what) for title in TITLES.get(kind.name, FEISHU_TITLES))


def row_of(kind, since, **fields):
    make = ROWS[kind.name]
    row = make(since) if make is _payout_line else make()
    since_fields = {"requested_at": since}
    if "__" not in kind.watch.waiting_since:  # a wait counted from another of its fields
        since_fields[kind.watch.waiting_since] = since
    kind.model.objects.filter(pk=row.pk).update(attempts=1, **since_fields, **fields)
    return row


def test_every_registered_kind_has_a_row_here():
    """A new kind must be proved watched: give it a row in ROWS."""
    assert {kind.name for kind in outbound.kinds()} == set(ROWS)


def test_every_kind_counts_its_stuck_and_failed_rows_and_links_to_them(admin_client):
    all_alive()
    now = timezone.now()
    long_ago, a_while_ago = now - timedelta(minutes=31), now - timedelta(minutes=29)
    kinds = outbound.kinds()
    assert len(kinds) == len(ROWS) >= 12
    for kind in kinds:
        shown = {
            "stuck": row_of(kind, long_ago),
            "failed": row_of(kind, long_ago, status=CallStatus.FAILED, finished_at=now - timedelta(hours=23)),
        }
        row_of(kind, a_while_ago)  # in its retries still: nobody needs to look yet
        row_of(
            kind, long_ago, status=CallStatus.FAILED, finished_at=now - timedelta(hours=25)
        )  # seen by then
        row_of(kind, long_ago, status=CallStatus.SUCCEEDED, finished_at=now)

        found = {f.key: f for f in findings() if f.key.startswith(f"{kind.name}.")}
        assert set(found) == {f"{kind.name}.stuck", f"{kind.name}.failed"}, kind.name
        stuck, failed = titles(kind)
        for condition, status, title in (
            ("stuck", CallStatus.QUEUED, stuck),
            ("failed", CallStatus.FAILED, failed),
        ):
            finding = found[f"{kind.name}.{condition}"]
            assert (finding.value, finding.ok, str(finding.title)) == (1, False, title), kind.name
            # The link opens the kind's own list, filtered to the rows in question.
            assert finding.url.endswith(f"?status__exact={status}"), kind.name
            page = admin_client.get(finding.url)
            assert page.status_code == 200, finding.url
            assert shown[condition].pk in {row.pk for row in page.context["cl"].result_list}, finding.url
    assert {key for key in problems() if key.endswith((".stuck", ".failed"))} == {
        f"{kind.name}.{condition}" for kind in kinds for condition in ("stuck", "failed")
    }


def test_the_command_lists_every_kind():
    all_alive()
    code, out = run_status()
    assert code == 0
    for kind in outbound.kinds():
        stuck, failed = titles(kind)
        assert f"   {stuck}: 0\n" in out and f"   {failed}: 0\n" in out

    row_of(outbound.KINDS["referrals.register_account"], timezone.now() - timedelta(hours=1))
    code, out = run_status("--problems")
    assert (code, out) == (
        1,
        "!! Account registrations: waiting for Feishu for over 30 minutes: 1  "
        "(/admin/referrals/accountregistration/?status__exact=queued)\n",
    )


def test_a_withdrawal_given_up_on_stays_queued_and_is_stuck():
    """Feishu did not answer through every retry: the withdrawal may have happened, so it is
    kept open (asked again with the same order id later), and a person sees it."""
    all_alive()
    kind = outbound.KINDS["referrals.withdraw"]
    w = row_of(kind, timezone.now() - timedelta(minutes=31))
    assert outbound.give_up(kind, w.pk, "Feishu had an internal error") == CallStatus.QUEUED
    assert problems() == {"referrals.withdraw.stuck": 1}


def test_a_status_change_replaced_before_it_was_sent_is_no_failure():
    from referrals.accounts.services import account_status_request
    from referrals.models import AccountStatus, AccountStatusChange, StatusAction

    all_alive()
    account = _account(status=AccountStatus.DEACTIVATED)
    waiting = AccountStatusChange.objects.create(account=account, action=StatusAction.DEACTIVATE)
    account_status_request(account, StatusAction.ENABLE)  # replaces it (sent after the commit)
    waiting.refresh_from_db()
    assert waiting.status == CallStatus.FAILED and "replaced" in waiting.error
    assert problems() == {}
    refused = AccountStatusChange.objects.create(account=account, action=StatusAction.ENABLE)
    AccountStatusChange.objects.filter(pk=refused.pk).update(
        status=CallStatus.FAILED, finished_at=timezone.now(), error="Feishu refused it"
    )
    assert problems() == {"referrals.change_status.failed": 1}


def test_one_query_counts_every_kind():
    with CaptureQueriesContext(connection) as queries:
        found = list(health.calls_to_feishu())
    assert len(found) == 2 * len(outbound.kinds()) and len(queries) == 1
