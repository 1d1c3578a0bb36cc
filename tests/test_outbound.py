"""The outbound engine (hireops.outbound): every call row type runs on it, each with its
task from the one factory, and a row whose lease is held is never sent a second time."""

from datetime import timedelta
from importlib import import_module
from importlib.util import find_spec

import pytest
from celery import current_app
from django.apps import apps
from django.utils import timezone

from hireops import outbound
from hireops.core.models import CallStatus, FeishuCall
from referrals.models import Withdrawal
from referrals.sync import sync_pending

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_call_row_type_runs_on_the_engine_with_its_task_of_the_same_name():
    for app in apps.get_app_configs():  # what a worker imports: every app's tasks
        if find_spec(f"{app.name}.tasks"):
            import_module(f"{app.name}.tasks")
    call_rows = {m for m in apps.get_models() if issubclass(m, FeishuCall)}
    kinds = {kind.model: kind for kind in outbound.kinds()}
    assert call_rows and call_rows <= set(kinds), "a FeishuCall model with no outbound registration"
    engine_columns = {
        "status",
        "attempts",
        "error",
        "leased_until",
        "maybe_applied",
        "requested_at",
        "finished_at",
    }
    for model in set(kinds) - call_rows:  # a kind calling someone else (a partner's webhook)
        assert engine_columns <= {f.name for f in model._meta.get_fields()}, model
    for kind in kinds.values():
        assert kind.task.name == kind.name and current_app.tasks[kind.name] is kind.task
        if kind.batch > 1:  # its batches have their task too (send_many)
            assert kind.batch_task_name in current_app.tasks, kind.name
    assert any(kind.batch > 1 for kind in kinds.values())  # a payout run's lines


def test_a_row_whose_lease_is_held_is_not_sent_again_until_the_lease_expires(sandbox, register):
    account = register(points=10)
    w = Withdrawal.objects.create(account=account, external_order_id="held-1", bonus_types=[1])
    now = timezone.now()
    Withdrawal.objects.filter(pk=w.pk).update(
        requested_at=now - timedelta(minutes=5), leased_until=now + timedelta(minutes=10)
    )
    sync_pending(pull=False)  # a worker holds it (mid-call): the sync pass leaves it alone
    assert Withdrawal.objects.get(pk=w.pk).status == CallStatus.QUEUED
    assert not [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]

    Withdrawal.objects.filter(pk=w.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    sync_pending(pull=False)  # the worker died: its lease expired, the same order id is sent
    w.refresh_from_db()
    assert (w.status, w.withdrawn_points, w.attempts, w.leased_until) == (CallStatus.SUCCEEDED, 10, 1, None)
    assert w.log_id  # Feishu's log id of the answer, kept on success too
    sent = [r["json"]["external_order_id"] for r in sandbox.requests() if r["path"].endswith("/withdraw")]
    assert sent == ["held-1"]
