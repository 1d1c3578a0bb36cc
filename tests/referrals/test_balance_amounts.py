"""A balance Feishu sends that cannot be stored (beyond its column, not a number): the event
fails with a reason staff read in the event log, the account shows why its balance is stale
(in its list and on its page), the scheduled pull says the same, nothing of it is applied,
and the next balance that fits is applied and clears the warning. Delivered through the
webhook over HTTP, as Feishu would."""

import copy
from decimal import Decimal

import pytest

from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.services import event_process
from referrals.accounts.services import balance_pull
from tests.events.payloads import ENCRYPT_KEY, TOKEN, post_delivery, signed

from .conftest import reload

pytestmark = pytest.mark.django_db(transaction=True)
HUGE = 12_000_000_000_000_000_000  # 1.2e19: beyond a bigint's 9.2e18


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def deliver(client, event: dict, **confirmed_bonus) -> FeishuEvent:
    """The sandbox's assets_update_v1, delivered to the webhook (``confirmed_bonus`` replaced,
    as a hostile or broken sender would send it); the stored event, processed."""
    payload = copy.deepcopy(event)
    payload["header"]["token"] = TOKEN
    payload["event"]["assets"]["confirmed_bonus"].update(confirmed_bonus)
    assert post_delivery(client, *signed(payload)).status_code == 200
    return FeishuEvent.objects.get(event_id=payload["header"]["event_id"])


def test_points_beyond_the_column_fail_the_event_and_show_on_the_account(
    client, sandbox, register, staff_user
):
    account = register()
    deliver(client, sandbox.grant_bonus(account.account_id, point_bonus=10)["event"])
    assert reload(account).points == 10
    huge = sandbox.grant_bonus(account.account_id, point_bonus=HUGE - 10)["event"]
    other = register(name="李四", email="lisi@example.com")
    ok = deliver(client, sandbox.grant_bonus(other.account_id, point_bonus=7)["event"])

    event = deliver(client, huge)
    assert event.status == EventStatus.FAILED and event.next_attempt_at is not None  # retried later
    reason = f"Feishu sent a balance that cannot be stored ({HUGE} points)"
    assert event.last_error.startswith(reason) and "DataError" not in event.last_error
    stale = reload(account)
    assert (stale.points, stale.balance_error[: len(reason)]) == (10, reason)
    assert ok.status == EventStatus.PROCESSED and reload(other).points == 7  # the other event's effect

    client.force_login(staff_user("HR"))
    assert reason in client.get(f"/admin/events/feishuevent/{event.pk}/change/").content.decode()
    assert reason[:20] in client.get("/admin/referrals/referralaccount/").content.decode()  # "problem"
    assert reason in client.get(f"/admin/referrals/referralaccount/{account.pk}/change/").content.decode()

    # The scheduled pull meets the same balance: the same reason, nothing applied.
    assert balance_pull(account.pk) is False
    assert (reload(account).points, reload(account).balance_error[: len(reason)]) == (10, reason)

    # Feishu's balance fits again: the next event applies it and the warning goes.
    fixed = deliver(client, sandbox.grant_bonus(account.account_id, point_bonus=-(HUGE - 20))["event"])
    assert fixed.status == EventStatus.PROCESSED
    assert (reload(account).points, reload(account).balance_error) == (20, "")
    # The refused event, retried, is superseded by the newer balance: processed, nothing changed.
    assert event_process(event.pk) == EventStatus.PROCESSED
    assert (reload(account).points, reload(account).balance_error) == (20, "")


@pytest.mark.parametrize(
    ("bonus", "what"),
    [
        # Read back from PostgreSQL's jsonb as an integer, from SQLite as the float it was sent.
        ({"cash_bonus": [{"currency_type": "CNY", "amount": 1.2e19}]}, ("1.2E+19 CNY", f"{HUGE} CNY")),
        ({"cash_bonus": [{"currency_type": "CNY", "amount": "12.5abc"}]}, "12.5abc"),
        ({"cash_bonus": [{"currency_type": "C" * 9, "amount": 1}]}, "currency CCCCCCCCC"),
        ({"point_bonus": "NaN"}, "NaN"),
        ({"point_bonus": 1.5}, "1.5"),
    ],
)
def test_cash_and_points_that_cannot_be_stored(client, sandbox, register, bonus, what):
    account = register()
    deliver(
        client,
        sandbox.grant_bonus(account.account_id, cash=[{"currency_type": "CNY", "amount": "3.50"}])["event"],
    )
    event = deliver(client, sandbox.grant_bonus(account.account_id, point_bonus=1)["event"], **bonus)
    assert event.status == EventStatus.FAILED
    [what] = [w for w in ((what,) if isinstance(what, str) else what) if f"({w})" in event.last_error]
    assert f"cannot be stored ({what})" in event.last_error
    stale = reload(account)
    assert stale.points == 0 and stale.cash.get().amount == Decimal("3.50")
    assert f"({what})" in stale.balance_error

    newer = deliver(client, sandbox.grant_bonus(account.account_id, point_bonus=1)["event"])
    assert newer.status == EventStatus.PROCESSED and reload(account).balance_error == ""
    assert event_process(event.pk) == EventStatus.PROCESSED  # retried: superseded, nothing changed
    assert (reload(account).points, reload(account).balance_error) == (2, "")
