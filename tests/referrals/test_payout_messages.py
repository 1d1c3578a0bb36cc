"""A payout run's news reaches people in Feishu (referrals.payouts.chats): a card from the app in
each one's own chat with it, sent by the outbound engine to the sandbox over HTTP.

Who: the approvers who may decide a waiting run and are linked to Feishu (the others are
e-mailed, the preparer never told); when it is approved, rejected or paid, who caused it. What:
the run's title, lines, totals per currency, who caused it and a button to its page in the
admin. How: one row per message, its uuid sent by every attempt, so a repeat reaches nobody
twice; a message Feishu refuses for good is said on its row and its approver e-mailed instead.
"""

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from hireops import outbound
from hireops.core.auth import roles
from hireops.core.models import CallStatus
from hireops.outbound.retry import ATTEMPTS
from hireops.signin import identities
from referrals.accounts.services import balance_pull
from referrals.models import PayoutMessage, PayoutNews, PayoutRun, PayoutRunStatus
from referrals.payouts import chats
from referrals.payouts import services as payouts
from referrals.sync import sync_pending
from tests.ops.test_status import all_alive, problems
from tests.second_factor import give_totp

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = "/open-apis/im/v1/messages"
FANG, NA, WEI = "ou_demo1001", "ou_demo1002", "ou_demo1004"  # the seed directory's, in the Hire app


def cash(*amounts):
    return [{"currency_type": currency, "amount": amount} for currency, amount in amounts]


@pytest.fixture
def people(staff_user, settings):
    """A preparer linked to Feishu (张伟), an approver linked to it (王芳), one who is not,
    and a withdrawer who may not decide runs (linked: 李娜)."""
    settings.ADMIN_BASE_URL = "https://hireops.example"
    made = {
        "preparer": staff_user(roles.HR, username="preparer"),
        "linked": staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="linked"),
        "unlinked": staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="unlinked"),
        "withdrawer": staff_user(roles.HR, roles.HR_WITHDRAWALS, username="withdrawer"),
    }
    for name, user in made.items():
        user.email = f"{name}@example.com"
        user.save()
        give_totp(user)
    for name, open_id in (("preparer", WEI), ("linked", FANG), ("withdrawer", NA)):
        identities.link_identity(made[name], open_id, "demo-tenant")
    return made


@pytest.fixture
def funded(register):
    """Two accounts with cash in two currencies, as hireops last pulled them."""
    for i in range(2):
        account = register(
            name=f"员工{i}", email=f"e{i}@example.com", cash=cash(("CNY", "12.50"), ("USD", "3.00"))
        )
        balance_pull(account.pk)


def prepared(people, title="十一月") -> PayoutRun:
    return payouts.payout_prepare(people["preparer"], title=title)


def cards(sandbox, open_id) -> list[dict]:
    return [m["shown"] for m in sandbox.im_messages(open_id)]


def test_the_linked_approvers_get_a_card_the_others_an_email_the_preparer_nothing(sandbox, people, funded):
    run = prepared(people)

    [card] = cards(sandbox, FANG)
    assert card["title"] == "A payout run waits for your decision"
    name, lines, totals, caused, note = card["texts"]
    assert name == "十一月"
    assert lines == "2 lines\n员工0: 12.50 CNY, 3.00 USD\n员工1: 12.50 CNY, 3.00 USD"
    assert totals == "Totals\nCNY: 25.00\nUSD: 6.00"
    assert caused == "Caused by: preparer prepared it"
    assert "second factor" in note
    decide = f"https://hireops.example/admin/referrals/payoutrun/{run.pk}/decide/"
    assert card["buttons"] == [{"text": "Open and decide", "url": decide}]
    # Nobody else in Feishu: not the preparer, not the withdrawer (who may not decide it).
    assert cards(sandbox, WEI) == cards(sandbox, NA) == []
    # The approver who is not linked is e-mailed, the linked one not.
    assert [m.to for m in mail.outbox] == [["unlinked@example.com"]]
    assert PayoutRun.objects.get(pk=run.pk).notice_error == ""

    # What Feishu was sent: the documented request, the card as a string, the row's uuid.
    row = PayoutMessage.objects.get()
    [request] = sandbox.requests(MESSAGES)
    assert request["query"] == {"receive_id_type": "open_id"}
    sent = request["json"]
    assert (sent["receive_id"], sent["msg_type"], sent["uuid"]) == (FANG, "interactive", row.uuid)
    assert isinstance(sent["content"], str) and json.loads(sent["content"]) == row.card
    assert "@example.com" not in sent["content"]  # no mobile or e-mail of the employees paid
    assert request["headers"]["Authorization"].startswith("Bearer t-")  # a tenant_access_token
    [delivered] = sandbox.im_messages(FANG)
    assert (row.status, row.attempts, row.news, row.recipient) == (
        CallStatus.SUCCEEDED,
        1,
        PayoutNews.AWAITING,
        people["linked"],
    )
    assert (row.message_id, row.log_id, row.open_id) == (delivered["message_id"], request["logid"], FANG)


def test_approved_rejected_and_paid_reach_whoever_caused_the_run(sandbox, people, funded, register):
    run = prepared(people)
    payouts.payout_approve(run.pk, people["linked"])  # eager: dispatched and paid at once
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.FINISHED
    approved, paid = cards(sandbox, WEI)
    assert approved["title"] == "Your payout run was approved"
    assert approved["texts"][:2] == ["十一月", "Approved by linked: its lines are being paid."]
    assert approved["texts"][2] == "2 lines\nTotals\nCNY: 25.00\nUSD: 6.00"
    page = f"https://hireops.example/admin/referrals/payoutrun/{run.pk}/change/"
    assert approved["buttons"] == [{"text": "Open the run", "url": page}]
    assert paid["title"] == "Your payout run is paid"
    assert paid["texts"] == ["十一月", "2 of 2 lines paid.", "Paid\nCNY: 25.00\nUSD: 6.00"]
    assert paid["buttons"] == [{"text": "Open the run", "url": page}]
    assert [c["title"] for c in cards(sandbox, FANG)] == ["A payout run waits for your decision"]

    late = register(name="后来", email="later@example.com", cash=cash(("CNY", "1.00")))
    balance_pull(late.pk)
    second = prepared(people, title="十二月")
    payouts.payout_reject(second.pk, people["linked"], "王芳的账户有误")
    rejected = cards(sandbox, WEI)[-1]
    assert rejected["title"] == "Your payout run was rejected"
    assert rejected["texts"][1] == "Rejected by linked: nothing is paid. The reason is on the run's page."
    assert "王芳的账户有误" not in json.dumps(sandbox.im_messages(WEI), ensure_ascii=False)  # free text stays
    news = list(PayoutMessage.objects.order_by("pk").values_list("news", "recipient__username"))
    assert news == [
        ("awaiting", "linked"),
        ("approved", "preparer"),
        ("paid", "preparer"),
        ("awaiting", "linked"),
        ("rejected", "preparer"),
    ]


def test_the_card_is_in_its_readers_language_else_the_sites(sandbox, people, funded, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    identities.remember_language(people["preparer"], "en")  # signed in last in English
    run = prepared(people)
    [card] = cards(sandbox, FANG)  # the approver's language is unknown: the site's
    assert card["title"] == "有发放批次等待您的决定"
    assert card["texts"][2].startswith("合计\n")
    assert PayoutMessage.objects.get().language == "zh-hans"
    payouts.payout_reject(run.pk, people["linked"], "不对")
    [rejected] = cards(sandbox, WEI)
    assert rejected["title"] == "Your payout run was rejected"
    assert PayoutMessage.objects.get(news=PayoutNews.REJECTED).language == "en"


def test_a_refusal_is_kept_on_the_row_and_its_approver_emailed_instead(sandbox, people, funded):
    all_alive()
    sandbox.im_availability(FANG, False)  # outside the app's availability scope
    run = prepared(people)
    row = PayoutMessage.objects.get()
    assert (row.status, row.error_code, row.attempts) == (CallStatus.FAILED, 230013, 1)
    assert "availability scope" in row.error and "Feishu 230013" in row.error
    assert row.emailed_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == ["linked@example.com", "unlinked@example.com"]
    assert problems() == {"referrals.payout_message.failed": 1}  # the status page says so
    assert sandbox.im_messages() == []
    # A message about a run decided before it went out is closed unsent, and is no failure.
    late = a_message(run, people["linked"], "sent-late", requested_at=timezone.now())
    payouts.payout_reject(run.pk, people["unlinked"], "不对")
    assert outbound.run(chats.MESSAGE, late.pk) == CallStatus.FAILED  # its task, late
    late.refresh_from_db()
    assert "decided before" in late.error and not late.emailed_at
    assert problems() == {"referrals.payout_message.failed": 1}
    assert sandbox.im_messages(FANG) == []  # (the preparer heard of the rejection)


def test_rate_limits_and_feishus_errors_are_retried_with_the_same_uuid(sandbox, people, funded):
    sandbox.add_fault(MESSAGES, "ratelimit", count=1)  # 429: waited out inside the one try
    sandbox.add_fault(MESSAGES, "error", count=1, status=400, code=230020, msg="frequency limit")
    sandbox.add_fault(MESSAGES, "error", count=2, status=500, code=1002001, msg="system error")
    prepared(people)
    row = PayoutMessage.objects.get()
    assert (row.status, row.attempts) == (CallStatus.SUCCEEDED, 3)  # two 500s cost a try each
    requests = sandbox.requests(MESSAGES)
    assert [r["status"] for r in requests] == [429, 400, 500, 500, 200]
    assert {r["json"]["uuid"] for r in requests} == {row.uuid}
    assert len(sandbox.im_messages(FANG)) == 1


def test_a_message_failing_every_time_spends_the_budget_then_emails(sandbox, people, funded):
    sandbox.add_fault(MESSAGES, "error", count=100, status=500, code=1002001, msg="system error")
    prepared(people)
    row = PayoutMessage.objects.get()
    assert (row.status, row.attempts) == (CallStatus.FAILED, ATTEMPTS)
    assert len(sandbox.requests(MESSAGES)) == ATTEMPTS
    assert row.emailed_at is not None and ["linked@example.com"] in [m.to for m in mail.outbox]


def test_a_lost_answer_a_replayed_task_and_a_resumed_row_deliver_once(sandbox, people, funded, settings):
    settings.FEISHU_TIMEOUT = 0.5
    sandbox.add_fault(MESSAGES, "late", count=1, delay=1.0)  # delivered; the answer comes too late
    prepared(people)
    row = PayoutMessage.objects.get()
    assert (row.status, row.attempts, row.maybe_applied) == (CallStatus.SUCCEEDED, 2, True)
    deadline = time.monotonic() + 5  # the late first call is logged when it finishes
    while len(calls := sandbox.requests(MESSAGES)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(calls) == 2 and {c["json"]["uuid"] for c in calls} == {row.uuid}
    assert len(sandbox.im_messages(FANG)) == 1  # Feishu knew the uuid: one message

    kind = outbound.kind_named("referrals.payout_message")
    assert outbound.run(kind, row.pk) == CallStatus.SUCCEEDED  # the task again: nothing sent
    assert len(sandbox.requests(MESSAGES)) == 2

    # A row whose task was lost is sent by the sync pass; one whose outcome is unknown is sent
    # again with its uuid within the hour Feishu remembers it, and not after.
    run = PayoutRun.objects.get()
    long_ago = timezone.now() - timedelta(minutes=5)
    lost = a_message(run, people["linked"], "lost-task", requested_at=long_ago)
    too_late = a_message(
        run,
        people["linked"],
        "maybe-delivered",
        maybe_applied=True,
        requested_at=timezone.now() - chats.REPEAT_WINDOW - timedelta(minutes=1),
    )
    mail.outbox.clear()
    sync_pending(pull=False)
    assert PayoutMessage.objects.get(pk=lost.pk).status == CallStatus.SUCCEEDED
    closed = PayoutMessage.objects.get(pk=too_late.pk)
    assert closed.status == CallStatus.FAILED and "too late to repeat" in closed.error
    assert [m["uuid"] for m in sandbox.im_messages(FANG)] == [row.uuid, "lost-task"]
    assert [m.to for m in mail.outbox] == [["linked@example.com"]]  # e-mailed instead


def a_message(run, recipient, uuid, requested_at, **fields) -> PayoutMessage:
    """A row committed and never sent (its task lost)."""
    row = PayoutMessage.objects.create(
        run=run,
        news=PayoutNews.AWAITING,
        recipient=recipient,
        open_id=FANG,
        tenant_key="demo-tenant",
        uuid=uuid,
        language="en",
        **fields,
    )
    PayoutMessage.objects.filter(pk=row.pk).update(requested_at=requested_at)
    return row


def test_no_message_when_the_app_that_sends_is_not_the_one_staff_sign_in_with(
    sandbox, people, funded, settings
):
    settings.FEISHU_LOGIN_APP_ID = "cli_other_login_app"  # its open_ids are not the Hire app's
    prepared(people)
    assert PayoutMessage.objects.count() == 0 and sandbox.im_messages() == []
    assert [m.to for m in mail.outbox] == [["linked@example.com", "unlinked@example.com"]]
    settings.FEISHU_LOGIN_APP_ID = settings.FEISHU_APP_ID
    settings.FEISHU_MESSAGES = False  # the operators' switch
    assert identities.feishu_identities([people["linked"].pk]) == {}


def test_a_reminder_sends_the_approvers_a_new_message(sandbox, people, funded):
    run = prepared(people)
    PayoutRun.objects.filter(pk=run.pk).update(notified_at=timezone.now() - timedelta(minutes=10))
    assert payouts.payout_notify_again(run.pk) == []
    first, again = PayoutMessage.objects.order_by("pk")
    assert first.uuid != again.uuid and len(cards(sandbox, FANG)) == 2


def test_the_messages_in_a_real_worker(sandbox, people, funded, celery_worker):
    run = prepared(people)  # the message's task, sent once the preparation commits
    celery_worker(lambda: PayoutMessage.objects.filter(status=CallStatus.SUCCEEDED).exists(), what="sent")
    assert [c["title"] for c in cards(sandbox, FANG)] == ["A payout run waits for your decision"]
    assert PayoutMessage.objects.get().run_id == run.pk


def test_hr_sees_each_message_and_its_card_as_it_was_read(sandbox, people, funded, client):
    prepared(people)
    row = PayoutMessage.objects.get()
    client.force_login(people["preparer"])  # HR: the messages' list, read-only
    listed = client.get("/admin/referrals/payoutmessage/")
    assert listed.status_code == 200 and row in listed.context["cl"].result_list
    page = client.get(f"/admin/referrals/payoutmessage/{row.pk}/change/").content.decode()
    assert "A payout run waits for your decision" in page and "员工0: 12.50 CNY, 3.00 USD" in page
    assert "plain_text" not in page  # the card as its reader saw it, not its JSON
    assert client.get(f"/admin/referrals/payoutmessage/{row.pk}/delete/").status_code == 403


def test_a_preparer_not_linked_to_feishu_hears_of_the_decision_and_the_payment_by_email(
    sandbox, people, funded, register
):
    """As the approvers not linked are e-mailed that a run waits: the card's words, in the
    preparer's language, with the link to the run's page."""
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.filter(user=people["preparer"]).delete()
    identities.remember_language(people["preparer"], "zh-hans")
    run = prepared(people)
    mail.outbox.clear()
    payouts.payout_approve(run.pk, people["linked"])  # eager: paid at once
    told = [m for m in mail.outbox if m.to == ["preparer@example.com"]]
    assert [m.subject for m in told] == ["您的发放批次已获批准", "您的发放批次已发放完毕"]
    assert f"/admin/referrals/payoutrun/{run.pk}/change/" in told[0].body and "十一月" in told[0].body
    assert cards(sandbox, WEI) == []  # not in Feishu: not linked

    late = register(name="后来", email="later@example.com", cash=cash(("CNY", "1.00")))
    balance_pull(late.pk)
    second = prepared(people, title="十二月")
    mail.outbox.clear()
    payouts.payout_reject(second.pk, people["linked"], "账户有误")
    told = [m for m in mail.outbox if m.to == ["preparer@example.com"]]
    assert [m.subject for m in told] == ["您的发放批次已被驳回"] and "账户有误" not in told[0].body


def test_the_runs_page_names_who_is_told_in_feishu_and_who_by_email(sandbox, people, funded, client):
    run = prepared(people)
    client.force_login(people["preparer"])
    url = f"/admin/referrals/payoutrun/{run.pk}/change/"
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span id="run-told-how">In Feishu: linked; by e-mail: unlinked</span>' in en
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<span id="run-told-how">飞书：linked；邮件：unlinked</span>' in zh


def test_a_cancelled_run_is_told_to_each_approver_told_it_waits(sandbox, people, funded):
    """A card for the linked approver (through the same outbound engine), an e-mail for the
    other; the preparer, who cancelled it, nothing."""
    run = prepared(people)
    mail.outbox.clear()
    payouts.payout_cancel(run.pk, people["preparer"])
    waits, cancelled = cards(sandbox, FANG)
    assert waits["title"] == "A payout run waits for your decision"
    assert cancelled["title"] == "A payout run you were asked to decide was cancelled"
    assert cancelled["texts"][0] == "十一月" and "nothing is paid" in cancelled["texts"][1]
    row = PayoutMessage.objects.get(news=PayoutNews.CANCELLED)
    assert (row.recipient, row.status) == (people["linked"], CallStatus.SUCCEEDED)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["unlinked@example.com"], "A payout run you were asked to decide was cancelled")
    ]
    assert cards(sandbox, WEI) == []


def test_an_email_owed_by_a_worker_that_died_is_sent_by_the_sync_pass_once(sandbox, people, funded):
    """The close records the e-mail as owed; sent after the commit, it is owed no longer. A
    worker that died in between leaves it owed: the scheduled sync pass sends it, and only once."""
    sandbox.im_availability(FANG, False)
    run = prepared(people)
    row = PayoutMessage.objects.get()
    assert row.status == CallStatus.FAILED and row.emailed_at is not None and row.email_owed_at is None
    # The state a worker leaves when it dies after the close's commit, before the e-mail.
    owed_since = timezone.now() - chats.OWED_GRACE - timedelta(seconds=1)
    PayoutMessage.objects.filter(pk=row.pk).update(emailed_at=None, email_owed_at=owed_since)
    mail.outbox.clear()
    sync_pending(pull=False)  # the scheduled sync pass sends what a dead worker owed
    assert [m.to for m in mail.outbox] == [["linked@example.com"]]
    assert run.title in mail.outbox[0].subject
    row.refresh_from_db()
    assert row.emailed_at is not None and row.email_owed_at is None
    assert sync_pending(pull=False)["payout_emails_owed"] == (0, 0)  # the next pass: nothing owed
    chats._by_email(row.pk)  # nor a late on-commit of the dead worker's
    assert len(mail.outbox) == 1


def test_an_approver_whose_account_the_run_pays_is_not_told_it_waits_for_them(
    sandbox, people, funded, staff_user, client
):
    """They may not decide it (approval.may_decide): no card, no e-mail, and the run's page does
    not name them among those told."""
    people["linked"].email = "e0@example.com"  # 员工0's account, paid by the run
    people["unlinked"].email = "E1@example.com"  # 员工1's, however the address is written
    for user in (people["linked"], people["unlinked"]):
        user.save()
    other = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="other")
    other.email = "other@example.com"
    other.save()
    give_totp(other)

    run = prepared(people)
    assert cards(sandbox, FANG) == [] and PayoutMessage.objects.count() == 0
    assert [m.to for m in mail.outbox] == [["other@example.com"]]
    assert (
        chats.recipients(run, PayoutNews.AWAITING)
        == chats.recipients(run, PayoutNews.CANCELLED)
        == [other.pk]
    )
    client.force_login(people["preparer"])
    page = client.get(
        f"/admin/referrals/payoutrun/{run.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert '<span id="run-told-how">By e-mail: other</span>' in page
