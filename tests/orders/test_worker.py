"""The orders' tasks in a real Celery worker (the broker and database the settings name)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.core.models import CallStatus
from orders import writes
from orders.models import BackgroundCheck, OrderWrite, WriteKind
from orders.tasks import resume_writes

from .conftest import CHECK_ACCOUNT, deliver

pytestmark = pytest.mark.django_db(transaction=True)


def test_send_write_and_resume_writes_run_in_a_worker(client, sandbox, bound_accounts, celery_worker):
    deliver(client, sandbox.create_background_check(CHECK_ACCOUNT))
    celery_worker(lambda: BackgroundCheck.objects.exists(), what="the order event processed")
    check = BackgroundCheck.objects.get()
    sent = writes.stage_request(check, name="收到订单", time_ms=1_700_000_000_000, stage_id="s1")
    celery_worker(
        lambda: OrderWrite.objects.get(pk=sent.pk).status == CallStatus.SUCCEEDED, what="orders.send_write"
    )
    # A write whose task was lost: the schedule's sweep sends it.
    lost = OrderWrite.objects.create(
        kind=WriteKind.PROGRESS,
        background_check=check,
        stage_id="s2",
        stage_name="二",
        time_ms=1_700_000_000_001,
    )
    OrderWrite.objects.filter(pk=lost.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    resume_writes.delay()
    celery_worker(
        lambda: OrderWrite.objects.get(pk=lost.pk).status == CallStatus.SUCCEEDED, what="orders.resume_writes"
    )
    stages = next(c for c in sandbox.state()["background_checks"])["stages"]
    assert [s["stage_id"] for s in stages] == ["s1", "s2"]


def test_catalogue_rollout_push_and_resume_run_in_a_worker(client, sandbox, bound_accounts, celery_worker):
    from orders.catalogue import services as catalogue
    from orders.catalogue.models import CataloguePush, CatalogueRollout, Package
    from orders.tasks import resume_catalogues

    # orders.run_rollout, then orders.push_catalogue
    catalogue.entry_save(Package(code="pkg-w", name="Worker 套餐"))
    celery_worker(
        lambda: CataloguePush.objects.filter(reason="changed", status=CallStatus.SUCCEEDED).exists(),
        what="orders.run_rollout and orders.push_catalogue",
    )
    assert CatalogueRollout.objects.order_by("-pk").first().status == "done"
    # A push whose task was lost: the schedule's sweep sends it.
    from bindings.models import EcoAccountBinding

    binding = EcoAccountBinding.objects.get(account_id=CHECK_ACCOUNT)
    Package.objects.filter(code="pkg-w").update(name="Worker 套餐 v2")  # a bare write: nothing queued
    lost = CataloguePush.objects.create(
        binding=binding, catalogue="packages", tenant_key=binding.tenant_key, reason="staff"
    )
    CataloguePush.objects.filter(pk=lost.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    resume_catalogues.delay()
    celery_worker(
        lambda: CataloguePush.objects.get(pk=lost.pk).status == CallStatus.SUCCEEDED,
        what="orders.resume_catalogues",
    )
    offered = next(c for c in sandbox.state()["catalogues"] if c["account_id"] == CHECK_ACCOUNT)
    assert offered["packages"]["pkg-w"] == {"name": "Worker 套餐 v2"}


def test_purge_personal_data_runs_in_a_worker(client, sandbox, bound_accounts, celery_worker, settings):
    from orders.tasks import purge_personal_data

    deliver(client, sandbox.create_background_check(CHECK_ACCOUNT, candidate={"name": "王二"}))
    celery_worker(lambda: BackgroundCheck.objects.exists(), what="the order event processed")
    BackgroundCheck.objects.update(state="completed", ended_at=timezone.now() - timedelta(days=400))
    purge_personal_data.delay()
    celery_worker(
        lambda: BackgroundCheck.objects.filter(purged_at__isnull=False, candidate_name="").exists(),
        what="orders.purge_personal_data",
    )
