"""A withdrawal asks the payouts first: an account whose cash a payout run promised is not
withdrawn, whichever path asks (the service, the admin's action inline or as a background job,
a leaver's payout), because every path goes through ``withdrawal_request``, which calls the
guards the app registered (``referrals.withdrawals.guards``). Without the payouts' guard the
system checks stop the start, and a withdrawal asked anyway is refused, never made."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from hireops.core.auth import roles
from hireops.jobs.models import BulkJob, ItemStatus
from referrals.accounts.services import balance_pull
from referrals.apps import PAYOUT_GUARD
from referrals.leavers import services as leavers
from referrals.models import Leaver, LeaverHow, LeaverMatch, LeaverPolicy, LeaverState, Withdrawal
from referrals.payouts import services as payouts
from referrals.withdrawals import guards
from referrals.withdrawals.services import CASH, WithdrawalRefused, withdrawal_request
from tests.second_factor import give_totp

from .conftest import reload

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = "/admin/referrals/referralaccount/"
SPY = f"{__name__}.refuse_every_withdrawal"
asked: list[int] = []


def refuse_every_withdrawal(account) -> str:
    """A guard that refuses everything, and remembers whom it was asked about."""
    asked.append(account.pk)
    return f"Refused by the guard under test: account {account.pk}."


def guard_errors() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if m.id in ("referrals.E002", "referrals.E003")]


@pytest.fixture
def funded(register):
    account = register(name="员工", email="e@example.com", cash=[{"currency_type": "CNY", "amount": "10.00"}])
    balance_pull(account.pk)
    return reload(account)


@pytest.fixture
def withdrawer(staff_user):
    user = staff_user(roles.HR, roles.HR_WITHDRAWALS, username="withdrawer")
    give_totp(user)
    return user


# --- every path that starts a withdrawal -------------------------------------------------------


def by_the_service(account, user, client, settings) -> str | None:
    with pytest.raises(WithdrawalRefused) as refused:
        withdrawal_request(reload(account), [CASH], user)
    return str(refused.value)


def by_the_admin_action(account, user, client, settings) -> str | None:
    """A few rows: the action runs them at once and says what was refused."""
    client.force_login(user)
    page = client.post(
        ACCOUNTS,
        {"action": "withdraw", "_selected_action": [account.pk], "apply": "1", "cash": "on"},
        follow=True,
    )
    return page.content.decode()


def by_a_background_job(account, user, client, settings) -> str | None:
    """More rows than BULK_INLINE_MAX: a job, item by item (eager Celery runs it on commit)."""
    settings.BULK_INLINE_MAX = 0
    client.force_login(user)
    client.post(
        ACCOUNTS, {"action": "withdraw", "_selected_action": [account.pk], "apply": "1", "cash": "on"}
    )
    [item] = BulkJob.objects.get().items.all()
    assert item.status == ItemStatus.FAILED
    return item.message


def by_the_leaver_policy(account, user, client, settings) -> str | None:
    """An employee who left, their cash paid at once (REFERRAL_LEAVER_POLICY=at_once): refused
    by a guard, which holds the cash for a payout run, the leaver waits for that run to pay it."""
    settings.REFERRAL_LEAVER_POLICY = LeaverPolicy.AT_ONCE
    leaver = Leaver.objects.create(
        open_id="ou_left",
        how=LeaverHow.DELETED,
        source_event_id="e",
        match=LeaverMatch.MATCHED,
        account=account,
    )
    leaver = leavers.leaver_apply(leaver, user)
    assert leaver.state == LeaverState.AWAITING_RUN and leaver.withdrawal is None
    return None


PATHS = [by_the_service, by_the_admin_action, by_a_background_job, by_the_leaver_policy]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
def test_every_path_asks_the_registered_guards_before_anything_is_written(
    path, funded, withdrawer, client, settings, sandbox, monkeypatch
):
    monkeypatch.setattr(guards, "_cash_guards", [SPY])
    asked.clear()
    said = path(funded, withdrawer, client, settings)
    assert asked == [funded.pk]
    assert said is None or f"Refused by the guard under test: account {funded.pk}." in said
    assert not Withdrawal.objects.exists()
    assert not [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
def test_no_path_withdraws_cash_a_payout_run_promised(
    path, funded, withdrawer, client, settings, sandbox, staff_user
):
    run = payouts.payout_prepare(staff_user(roles.HR, username="preparer"), title="十一月")
    assert run.lines.filter(account=funded).exists()
    said = path(funded, withdrawer, client, settings)
    assert said is None or "not yet paid" in said
    assert not Withdrawal.objects.exists()
    assert not [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]


def test_a_withdrawal_moves_once_the_guard_says_nothing(funded, withdrawer):
    """The guard holds only what a run promised: a free account's cash is withdrawn."""
    assert guards.cash_refusal(funded) is None
    w = withdrawal_request(funded, [CASH], withdrawer)
    assert reload(funded).cash.filter(amount__gt=0).count() == 0 and Withdrawal.objects.get() == w


# --- fails loudly without it -----------------------------------------------------------------


def test_the_payouts_guard_is_registered_and_the_checks_pass():
    assert PAYOUT_GUARD in guards.cash_guards()
    assert guards.import_guard(PAYOUT_GUARD) is payouts.cash_promised
    assert guard_errors() == []


def test_the_checks_stop_the_start_without_the_payouts_guard(monkeypatch):
    monkeypatch.setattr(guards, "_cash_guards", [])
    [error] = guard_errors()
    assert error.id == "referrals.E002" and error.level == checks.ERROR
    assert "referrals.payouts.services.cash_promised" in error.msg
    # Another guard in its place is no payout guard.
    monkeypatch.setattr(guards, "_cash_guards", [SPY])
    assert [e.id for e in guard_errors()] == ["referrals.E002"]


def test_the_checks_stop_the_start_when_a_guard_cannot_be_imported(monkeypatch):
    monkeypatch.setattr(guards, "_cash_guards", [PAYOUT_GUARD, "referrals.payouts.services.gone"])
    [error] = guard_errors()
    assert error.id == "referrals.E003" and "referrals.payouts.services.gone" in error.msg


def test_without_any_guard_a_withdrawal_is_refused_not_made(monkeypatch, funded):
    monkeypatch.setattr(guards, "_cash_guards", [])
    with pytest.raises(ImproperlyConfigured, match="No cash guard"):
        withdrawal_request(funded, [CASH])
    assert not Withdrawal.objects.exists()


@pytest.mark.processes
def test_manage_py_check_fails_without_the_payouts_guard():
    """The same through the start-up command people and deploys run."""
    script = (
        "import django; django.setup()\n"
        "from referrals.withdrawals import guards\n"
        "guards._cash_guards.clear()\n"
        "from django.core.management import call_command\n"
        "call_command('check')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin", "DEBUG": "1"},
    )
    assert result.returncode != 0 and "referrals.E002" in result.stderr


# --- no other writer -------------------------------------------------------------------------

WRITES_A_WITHDRAWAL = re.compile(
    r"Withdrawal\.objects\.(create|bulk_create|get_or_create|update_or_create)\b|(?<!class )\bWithdrawal\("
)


def test_withdrawals_are_written_by_the_guarded_service_and_the_payouts_own_lines_only():
    """A withdrawal row is a call to Feishu that empties the account: made by
    ``withdrawal_request`` (which asks the guards), or as the record of a payout run's line the
    run itself paid (``payouts.payment``). Any other module writing one would skip the guard."""
    writers = set()
    for package in ("config", "hireops", "bindings", "referrals", "orders"):
        for module in (ROOT / package).rglob("*.py"):
            if "migrations" not in module.parts and WRITES_A_WITHDRAWAL.search(module.read_text("utf-8")):
                writers.add(module.relative_to(ROOT).as_posix())
    assert writers == {"referrals/withdrawals/services.py", "referrals/payouts/payment.py"}
