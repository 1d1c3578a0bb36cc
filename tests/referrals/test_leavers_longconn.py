"""A leaver over the long connection, as production runs it: ``feishu_listen`` stores the
sandbox's directory event, a real Celery worker processes it, pays the cash at once and
deactivates the account (REFERRAL_LEAVER_POLICY=at_once in the worker's environment)."""

import pytest

from hireops.core.models import CallStatus
from referrals.accounts.services import balance_pull
from referrals.models import Leaver, LeaverState, Withdrawal
from tests.events.test_listener import FAST, wait

pytestmark = pytest.mark.django_db(transaction=True)


def test_at_once_over_the_long_connection_and_a_real_worker(
    sandbox, register, settings, start_listener, start_celery_worker
):
    account = register(points=3, cash=[{"currency_type": "CNY", "amount": "8.00"}])  # eager, no webhook
    balance_pull(account.pk)  # the cash as Feishu holds it (the balance event went nowhere)
    user_id = next(a["user_id"] for a in sandbox.state()["accounts"] if a["account_id"] == account.account_id)

    settings.FEISHU_EVENT_TRANSPORT = "long_connection"
    sandbox.configure(
        delivery="long_connection", ack_timeout=1.0, client_config=FAST, retry_delays=[0.5, 1, 2, 4]
    )
    listener = start_listener()
    wait(lambda: len(sandbox.longconn_connections()) == 1, what="listener connected", listener=listener)
    worker = start_celery_worker(REFERRAL_LEAVER_POLICY="at_once")

    event = sandbox.employee_leave(user_id, how="delete")
    worker(lambda: Leaver.objects.filter(state=LeaverState.DONE).exists(), what="leaver done by the worker")

    leaver = Leaver.objects.get()
    assert (leaver.policy, leaver.points_then, leaver.cash_then) == ("at_once", 3, {"CNY": "8.00"})
    assert leaver.source_event_id == event["header"]["event_id"]
    assert Withdrawal.objects.get().status == CallStatus.SUCCEEDED
    (delivery,) = [d for d in sandbox.deliveries() if d["event_id"] == event["header"]["event_id"]]
    assert (delivery["transport"], delivery["status"]) == ("long_connection", 200)
    remote = next(a for a in sandbox.state()["accounts"] if a["account_id"] == account.account_id)
    assert remote["status"] == 2 and remote["assets"]["confirmed_bonus"]["cash_bonus"] == []
