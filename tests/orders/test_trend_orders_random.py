"""The orders' rollups (received, ended, turnaround, overdue, usage per customer, failed writes)
equal a GROUP BY over the orders and their writes after a random sequence of the real write
paths on PostgreSQL: intake, results sent (failing, then sent again), terminations, the
customer's cancellations, scores (and Feishu's "graded already"), purges, bindings decided,
promises changed and recomputations stopped half way. A clock moves forward through the last
weeks, so every path stores its own moments."""

import contextlib
import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bindings.models import EcoAccountBinding, VendorCustomer
from hireops import outbound
from hireops.core import trends
from hireops.core.models import CallStatus
from hireops.feishu.errors import FeishuError
from hireops.feishu.http import FeishuResponse
from hireops.outbound.retry import TryLater
from orders import purge, turnaround, writes
from orders.catalogue.models import ExamPaper, Package
from orders.catalogue.turnarounds import forget_turnarounds
from orders.intake import (
    background_check_canceled,
    background_check_created,
    exam_created,
    orders_link_binding,
)
from orders.models import BackgroundCheck, CheckState, Exam, OrderWrite
from orders.writes import WriteRefused
from tests.trend_rollups import assert_kept_equals

pytestmark = pytest.mark.django_db
METRICS = (
    "orders.received",
    "orders.ended",
    "orders.turnaround",
    "orders.overdue",
    "orders.usage",
    "orders.failed",
)


def expected() -> dict[str, Counter]:
    """Each metric's (hour, dimension, outcome) counts, from the rows."""
    found: dict[str, Counter] = defaultdict(Counter)
    promised = {
        "check": dict(Package.objects.values_list("code", "turnaround_days")),
        "exam": dict(ExamPaper.objects.values_list("code", "turnaround_days")),
    }
    for kind, model, code_field in (("check", BackgroundCheck, "package_id"), ("exam", Exam, "paper_id")):
        rows = model.objects.values_list("pk", "received_at", "ended_at", "state", code_field, "customer_id")
        scores = dict(Exam.objects.values_list("pk", "score")) if kind == "exam" else {}
        for pk, received, ended, state, code, customer in rows:
            h = trends.hour_of
            who = str(customer or "")
            found["orders.received"][h(received), kind, ""] += 1
            found["orders.usage"][h(received), who, f"{kind}.received"] += 1
            due = received + timedelta(days=promised[kind].get(code, 7))
            if ended is None or ended >= due:
                found["orders.overdue"][h(due), kind, "in"] += 1
            if ended is None:
                continue
            found["orders.ended"][h(ended), kind, state] += 1
            if ended >= due:
                found["orders.overdue"][h(ended), kind, "out"] += 1
            with_result = state == CheckState.COMPLETED if kind == "check" else True
            if with_result:
                hours = (ended - received).total_seconds() / 3600
                found["orders.turnaround"][h(ended), f"{kind}:{code}", str(turnaround.bucket_of(hours))] += 1
            if kind == "check" and state != CheckState.COMPLETED:
                found["orders.usage"][h(ended), who, "check.canceled"] += 1
            elif kind == "check" or scores[pk]:
                found["orders.usage"][h(ended), who, f"{kind}.completed"] += 1
    for finished in OrderWrite.objects.filter(status=CallStatus.FAILED).values_list("finished_at", flat=True):
        found["orders.failed"][trends.hour_of(finished), "write", ""] += 1
    return found


def assert_rollups_match() -> None:
    trends.recompute()
    truth = expected()
    for metric in METRICS:
        assert_kept_equals(metric, truth[metric])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollups' concurrency is PostgreSQL's")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_group_by_after_random_changes(monkeypatch, settings, seed):
    rng = random.Random(seed)
    clock = [timezone.now() - timedelta(days=30)]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)  # sent when the test says
    feishu = {"fails": False, "graded": False}

    def call(write, body):
        if feishu["graded"] and write.kind == "score":
            raise FeishuError(1002855, "graded already")
        if feishu["fails"]:
            raise FeishuError(1002001, "refused")
        return FeishuResponse()

    monkeypatch.setattr(writes, "_call", call)
    Package.objects.create(code="pkg-1", name="基础", turnaround_days=3)
    Package.objects.create(code="pkg-2", name="快速", turnaround_days=1)
    ExamPaper.objects.create(
        code="paper-1", name="测评", duration_minutes=30, question_count=30, turnaround_days=2
    )
    forget_turnarounds()
    customer = VendorCustomer.objects.create(name="Acme")
    settings.ORDER_PURGE_AFTER_DAYS = 3
    n = [0]

    def send(pks) -> None:
        feishu["fails"], feishu["graded"] = rng.random() < 0.3, rng.random() < 0.2
        for pk in pks:
            with contextlib.suppress(TryLater):
                outbound.run(writes.SEND, pk)

    def checks(*states):
        return list(BackgroundCheck.objects.filter(state__in=states))

    def new_check():
        n[0] += 1
        event = {
            "account_id": rng.choice(["acc-1", "acc-2"]),
            "package_id": rng.choice(["pkg-1", "pkg-2", "unknown"]),
            "background_check_id": f"c{n[0]}",
        }
        background_check_created(app_id="cli", tenant_key="t1", event_id=f"e{n[0]}", event=event)
        if rng.random() < 0.2:  # delivered again
            background_check_created(app_id="cli", tenant_key="t1", event_id=f"e{n[0]}", event=event)

    def new_exam():
        n[0] += 1
        event = {"account_id": "acc-3", "exam_id": f"x{n[0]}", "paper_id": rng.choice(["paper-1", "other"])}
        exam_created(app_id="cli", tenant_key="t1", event_id=f"e{n[0]}", event=event)

    def result():
        if found := checks(CheckState.NEW, CheckState.IN_PROGRESS):
            with contextlib.suppress(WriteRefused):
                send([writes.result_request(rng.choice(found), result="无差异", time_ms=1).pk])

    def terminate():
        if found := checks(CheckState.NEW, CheckState.IN_PROGRESS):
            with contextlib.suppress(WriteRefused):
                send([w.pk for w in writes.cancel_request(rng.choice(found))])

    def customer_cancels():
        if found := checks(CheckState.NEW, CheckState.IN_PROGRESS, CheckState.COMPLETED):
            check = rng.choice(found)
            background_check_canceled(
                app_id="cli",
                tenant_key="t1",
                event_id=f"k{check.pk}",
                event={"background_check_id": check.background_check_id},
            )

    def score():
        if found := list(Exam.objects.exclude(state="graded")):
            with contextlib.suppress(WriteRefused):
                send([writes.score_request(rng.choice(found), score=str(rng.randrange(100))).pk])

    def send_again():
        if found := list(OrderWrite.objects.filter(status=CallStatus.FAILED)):
            with contextlib.suppress(WriteRefused):
                send([writes.write_retry(rng.choice(found)).pk])

    def bind():
        account = rng.choice(["acc-1", "acc-2", "acc-3"])
        binding, _created = EcoAccountBinding.objects.get_or_create(
            app_id="cli", tenant_key="t1", account_id=account, defaults={"scope": 1, "status": "bound"}
        )
        binding.customer = rng.choice([customer, None])
        binding.save()
        orders_link_binding(None, binding)

    def change_promise():
        package = Package.objects.get(code=rng.choice(["pkg-1", "pkg-2"]))
        package.turnaround_days = rng.randrange(1, 6)
        package.save()
        forget_turnarounds()

    def recompute_some():
        trends.recompute(batch=3, limit=rng.randrange(1, 10))

    steps = [new_check] * 4 + [new_exam] * 2 + [result] * 2 + [score] * 2
    steps += [terminate, customer_cancels, send_again, send_again, bind, change_promise, recompute_some]
    steps += [lambda: purge.purge_due()]
    for _step in range(70):
        clock[0] += timedelta(minutes=rng.randrange(0, 12 * 60))
        rng.choice(steps)()
    assert BackgroundCheck.objects.exists() and OrderWrite.objects.filter(status=CallStatus.FAILED).exists()
    assert_rollups_match()
    # A result sent again moves an order's end; a failed write sent again leaves the failures.
    clock[0] += timedelta(hours=5)
    for _step in range(10):
        rng.choice([send_again, result, score, change_promise])()
    assert_rollups_match()
