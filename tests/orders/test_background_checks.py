"""Background-check orders: from Feishu's event to a result with a report, against the sandbox."""

import time
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hireops import outbound
from hireops.core.models import CallStatus
from hireops.events.models import EventStatus, FeishuEvent
from orders import writes
from orders.catalogue.models import CataloguePush
from orders.models import BackgroundCheck, CheckState, OrderWrite, ReportFile, WriteKind
from orders.writes import WriteRefused

from .conftest import CHECK_ACCOUNT, PDF, deliver

pytestmark = pytest.mark.django_db(transaction=True)
PROGRESS = "/open-apis/hire/v1/eco_background_checks/update_progress"
RESULT = "/open-apis/hire/v1/eco_background_checks/update_result"
CANCEL = "/open-apis/hire/v1/eco_background_checks/cancel"


def now_ms() -> int:
    return int(time.time() * 1000)


def order(client, sandbox, **extra) -> BackgroundCheck:
    event = sandbox.create_background_check(
        CHECK_ACCOUNT,
        package_id="pkg-basic",
        additional_item_id_list=["ext002"],
        comment="高阶候选人，请尽快处理",
        candidate={"name": "王二", "mobile": "18900001111", "email": "wang@example.com"},
        custom_field_list=[{"key": "candidate_extra_info", "value": "这是一些额外信息"}],
        **extra,
    )
    deliver(client, event)
    return BackgroundCheck.objects.get(background_check_id=event["event"]["background_check_id"])


def remote(sandbox, check: BackgroundCheck) -> dict:
    return next(
        c
        for c in sandbox.state()["background_checks"]
        if c["background_check_id"] == check.background_check_id
    )


def report(check, name="报告.pdf") -> ReportFile:
    r = ReportFile(background_check=check, name=name)
    r.file.save(name, SimpleUploadedFile(name, PDF), save=True)
    return r


def test_the_event_creates_an_order_linked_to_its_binding_and_customer(client, sandbox, bound_accounts):
    check = order(client, sandbox)
    assert check.state == CheckState.NEW and check.customer == bound_accounts
    assert check.binding.account_id == CHECK_ACCOUNT
    assert (check.package_id, check.additional_item_ids, check.comment) == (
        "pkg-basic",
        ["ext002"],
        "高阶候选人，请尽快处理",
    )
    assert check.custom_field_values == [{"key": "candidate_extra_info", "value": "这是一些额外信息"}]
    assert (check.candidate_name, check.candidate_mobile, check.candidate_email) == (
        "王二",
        "18900001111",
        "wang@example.com",
    )
    assert check.contact_name == "李四" and check.contact_email == "hr@example.com"
    event = FeishuEvent.objects.get(event_type="hire.eco_background_check.created_v1")
    assert event.status == EventStatus.PROCESSED
    # Redelivered (Feishu retries, staff reprocess): still one order.
    deliver(client, sandbox.events()[-1])
    assert BackgroundCheck.objects.count() == 1


def test_an_order_before_its_binding_is_linked_when_the_binding_is_bound(client, sandbox, acme, catalogue):
    event = sandbox.bind_account(scope=1, account_id=CHECK_ACCOUNT, custom_field_list=[])
    # The account offers a package from before (its events arrive out of order here).
    sandbox.seed_catalogue(CHECK_ACCOUNT, packages={"pkg-old": {"name": "旧套餐"}})
    order_event = sandbox.create_background_check(CHECK_ACCOUNT)
    deliver(client, order_event)  # the order first: no binding yet
    check = BackgroundCheck.objects.get()
    assert check.binding is None and check.customer is None
    deliver(client, event)  # the binding arrives, with no value to match: needs review
    check.refresh_from_db()
    assert check.binding is not None and check.customer is None
    from bindings.matching import binding_bind_manually

    binding_bind_manually(check.binding, acme, None)
    check.refresh_from_db()
    assert check.customer == acme
    # Bound: the customer's catalogue went to the account's Feishu.
    push = CataloguePush.objects.get(binding=check.binding, catalogue="packages")
    assert (push.status, push.reason) == (CallStatus.SUCCEEDED, "bound")
    offered = next(c for c in sandbox.state()["catalogues"] if c["account_id"] == CHECK_ACCOUNT)
    assert set(offered["packages"]) == {"pkg-old", "pkg-basic"} and set(offered["items"]) == {"ext002"}


def test_a_stage_then_a_result_with_a_report_reach_hire(
    client, sandbox, bound_accounts, admin_user, settings
):
    check = order(client, sandbox)
    t = now_ms()
    stage = writes.stage_request(
        check, name="阶段报告", en_name="stage report", time_ms=t, stage_id="s1", user=admin_user
    )
    stage.refresh_from_db()
    assert stage.status == CallStatus.SUCCEEDED, stage.error
    sent = sandbox.requests(PROGRESS)[-1]["json"]
    assert sent == {
        "background_check_id": check.background_check_id,
        "stage_id": "s1",
        "stage_name": "阶段报告",
        "stage_en_name": "stage report",
        "stage_time": str(t),
    }
    assert stage.payload == sent and stage.log_id
    check.refresh_from_db()
    assert check.state == CheckState.IN_PROGRESS and check.last_stage_time == t

    pdf = report(check)
    result = writes.result_request(check, result="无差异", time_ms=t + 1000, reports=[pdf], user=admin_user)
    result.refresh_from_db()
    assert result.status == CallStatus.SUCCEEDED, result.error
    body = sandbox.requests(RESULT)[-1]["json"]
    assert body["result"] == "无差异" and body["result_time"] == str(t + 1000)
    [sent_report] = body["report_file_list"]
    assert sent_report["report_name"] == "报告.pdf" and sent_report["report_url_type"] == 1
    link = urlsplit(sent_report["report_url"])
    assert sent_report["report_url"].startswith(settings.ORDER_REPORT_BASE_URL)
    # Feishu fetches the PDF by the signed link, without a session.
    client.logout()
    got = client.get(link.path)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert client.get(link.path.replace("/orders/reports/", "/orders/reports/x")).status_code == 404
    assert client.get("/orders/reports/").status_code == 404  # nothing is listed

    hire = remote(sandbox, check)
    assert hire["status"] == "completed" and [s["stage_id"] for s in hire["stages"]] == ["s1"]
    check.refresh_from_db()
    assert check.state == CheckState.COMPLETED and check.result == "无差异" and check.ended_at


def test_report_links_expire(client, sandbox, bound_accounts, settings):
    check = order(client, sandbox)
    from orders.reports import link_for

    path = urlsplit(link_for(report(check))).path
    assert client.get(path).status_code == 200
    settings.ORDER_REPORT_LINK_DAYS = 0
    time.sleep(1.1)
    assert client.get(path).status_code == 404


def test_stage_ids_and_times_are_checked_before_anything_is_sent(client, sandbox, bound_accounts):
    check = order(client, sandbox)
    t = now_ms()
    writes.stage_request(check, name="收到订单", time_ms=t, stage_id="s1")
    sandbox.clear_requests()
    with pytest.raises(WriteRefused, match="already used"):
        writes.stage_request(check, name="again", time_ms=t + 10, stage_id="s1")
    with pytest.raises(WriteRefused, match="after the last stage"):
        writes.stage_request(check, name="earlier", time_ms=t, stage_id="s2")
    with pytest.raises(WriteRefused, match="needs at least one report"):
        writes.stage_request(check, name="with result", time_ms=t + 10, result="通过")
    assert sandbox.requests(PROGRESS) == [] and OrderWrite.objects.count() == 1
    # The sandbox enforces the same rules, as Feishu documents them.
    ok = writes.stage_request(check, name="下一阶段", time_ms=t + 10, stage_id="s2")
    assert OrderWrite.objects.get(pk=ok.pk).status == CallStatus.SUCCEEDED
    assert [s["stage_id"] for s in remote(sandbox, check)["stages"]] == ["s1", "s2"]


def test_a_stage_retried_after_a_timeout_reaches_hire_once(client, sandbox, bound_accounts, settings):
    check = order(client, sandbox)
    settings.FEISHU_TIMEOUT = 0.5
    sandbox.add_fault(PROGRESS, "slow", count=1, delay=1.0)  # Feishu takes it, the answer comes too late
    write = writes.stage_request(check, name="阶段报告", time_ms=now_ms(), stage_id="s1")
    write.refresh_from_db()
    assert write.status == CallStatus.SUCCEEDED, write.error
    assert write.attempts == 2 and write.maybe_applied
    deadline = time.monotonic() + 5
    while len(sandbox.requests(PROGRESS)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    calls = sandbox.requests(PROGRESS)
    assert len(calls) == 2 and calls[0]["json"] == calls[1]["json"]  # the same stage id and time
    assert [s["stage_id"] for s in remote(sandbox, check)["stages"]] == ["s1"]


def test_order_state_errors_are_explained_not_retried(client, sandbox, bound_accounts):
    check = order(client, sandbox)
    t = now_ms()
    writes.result_request(check, result="无差异", time_ms=t)
    sandbox.clear_requests()
    with pytest.raises(writes.OrderClosed, match="completed"):  # hireops knows it is completed
        writes.stage_request(BackgroundCheck.objects.get(pk=check.pk), name="太晚", time_ms=t + 5)
    # Feishu's refusal explains an order closed there that hireops still takes as open (its
    # result sent by other means, say).
    BackgroundCheck.objects.filter(pk=check.pk).update(state=CheckState.IN_PROGRESS)
    OrderWrite.objects.filter(kind=WriteKind.RESULT).delete()
    late = writes.stage_request(check, name="太晚", time_ms=t + 5)
    late.refresh_from_db()
    assert late.status == CallStatus.FAILED and late.error_code == 1002858
    assert "not in a state that allows this" in late.error and late.attempts == 1
    assert len(sandbox.requests(PROGRESS)) == 1
    # An order Feishu does not know (another tenant's, say): 1002862.
    BackgroundCheck.objects.filter(pk=check.pk).update(
        background_check_id="404", state=CheckState.IN_PROGRESS
    )
    unknown = writes.stage_request(BackgroundCheck.objects.get(pk=check.pk), name="x", time_ms=t + 10)
    unknown.refresh_from_db()
    assert unknown.status == CallStatus.FAILED and unknown.error_code == 1002862
    assert "does not know this background-check order" in unknown.error


CHECKS = "/open-apis/hire/v1/eco_background_checks/"


def test_terminating_sends_a_terminated_stage_then_cancel(client, sandbox, bound_accounts, admin_user):
    check = order(client, sandbox)
    stage, cancel = writes.cancel_request(check, user=admin_user)
    assert (stage.kind, cancel.kind) == (WriteKind.PROGRESS, WriteKind.CANCEL)
    assert [w.status for w in OrderWrite.objects.order_by("pk")] == [
        CallStatus.SUCCEEDED,
        CallStatus.SUCCEEDED,
    ]
    paths = [r["path"] for r in sandbox.requests() if r["path"].startswith(CHECKS)]
    assert paths == [PROGRESS, CANCEL]
    assert sandbox.requests(PROGRESS)[0]["json"]["stage_name"] == "已终止"
    assert sandbox.requests(CANCEL)[0]["json"] == {"background_check_id": check.background_check_id}
    assert remote(sandbox, check)["status"] == "terminated"
    check.refresh_from_db()
    assert check.state == CheckState.TERMINATED and check.ended_at
    with pytest.raises(WriteRefused, match="terminated"):
        writes.stage_request(check, name="x", time_ms=now_ms() + 10_000)


def test_a_canceled_order_can_no_longer_be_written(client, sandbox, bound_accounts):
    check = order(client, sandbox)
    deliver(client, sandbox.cancel_background_check(check.background_check_id, "候选人放弃"))
    check.refresh_from_db()
    assert check.state == CheckState.CANCELED and check.cancel_reason == "候选人放弃" and check.ended_at
    sandbox.clear_requests()
    for attempt in (
        lambda: writes.stage_request(check, name="x", time_ms=now_ms()),
        lambda: writes.result_request(check, result="无差异", time_ms=now_ms()),
        lambda: writes.cancel_request(check),
    ):
        with pytest.raises(WriteRefused, match="canceled"):
            attempt()
    assert sandbox.requests() == [] and OrderWrite.objects.count() == 0


def test_writes_queued_when_the_customer_cancels_are_closed_unsent(client, sandbox, bound_accounts):
    check = order(client, sandbox)
    # Queued, its task not run yet (a busy worker).
    write = OrderWrite.objects.create(
        kind=WriteKind.PROGRESS, background_check=check, stage_id="s1", stage_name="阶段", time_ms=now_ms()
    )
    deliver(client, sandbox.cancel_background_check(check.background_check_id))
    write.refresh_from_db()
    assert write.status == CallStatus.FAILED and "canceled" in write.error
    assert outbound.run(writes.SEND, write.pk) == CallStatus.FAILED and sandbox.requests(PROGRESS) == []


def test_writes_of_one_order_are_sent_in_order(client, sandbox, bound_accounts):
    check = order(client, sandbox)
    t = now_ms()
    sandbox.add_fault(PROGRESS, "5xx", count=1)  # the first stage must wait for a retry
    first = writes.stage_request(check, name="一", time_ms=t, stage_id="a")
    second = writes.stage_request(check, name="二", time_ms=t + 1, stage_id="b")
    assert {w.status for w in OrderWrite.objects.all()} == {CallStatus.SUCCEEDED}
    assert [s["stage_id"] for s in remote(sandbox, check)["stages"]] == ["a", "b"]
    assert OrderWrite.objects.get(pk=first.pk).attempts == 2 and second.pk > first.pk


def test_a_write_waits_for_an_older_queued_one(client, sandbox, bound_accounts):
    check = order(client, sandbox)
    t = now_ms()
    first = OrderWrite.objects.create(
        kind=WriteKind.PROGRESS, background_check=check, stage_id="a", stage_name="一", time_ms=t
    )
    second = OrderWrite.objects.create(
        kind=WriteKind.PROGRESS, background_check=check, stage_id="b", stage_name="二", time_ms=t + 1
    )
    assert outbound.run(writes.SEND, second.pk) == CallStatus.QUEUED
    assert "earlier write" in OrderWrite.objects.get(pk=second.pk).note and sandbox.requests(PROGRESS) == []
    assert outbound.run(writes.SEND, first.pk) == CallStatus.SUCCEEDED  # and queues the second (eager: sent)
    assert OrderWrite.objects.get(pk=second.pk).status == CallStatus.SUCCEEDED
    assert writes.writes_resume() == 0
