"""The four-eyes rule for every way a payout run comes to exist.

Whoever caused a run is its preparer for the rule: who prepared it (the form, the account
list's action, a large run a worker prepares for them), who pressed "Run now" on the
schedule that prepares runs, and who last changed that schedule before it ran. A run of the
schedule alone, untouched, is decided by any approver. Each way below is played over HTTP as
staff do it (or as beat sends the task), then every one of those people tries to decide the
run as an attacker would: the service, the decision page's buttons, a forged POST of each,
the release of a held line. A colleague then approves it.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from hireops.core.auth import roles
from hireops.core.models import CallStatus
from hireops.core.schedules.beat import DeclaredEntry
from referrals.accounts.services import balance_pull
from referrals.models import PayoutRun, PayoutRunStatus
from referrals.payouts import notices
from referrals.payouts import services as payouts

pytestmark = pytest.mark.django_db(transaction=True)

SCHEDULE = "Referrals: prepare the monthly payout run (waits for approval)"
SCHEDULES = "/admin/django_celery_beat/periodictask/"


@pytest.fixture
def cash(register):
    for i, amount in enumerate(("12.50", "30.00")):
        account = register(
            name=f"员工{i}", email=f"e{i}@example.com", cash=[{"currency_type": "CNY", "amount": amount}]
        )
        balance_pull(account.pk)


@pytest.fixture
def hr(staff_user):
    """Members of HR who may also approve runs (and so manage HR's schedules), each signed in."""

    def make(name: str):
        user = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username=name)
        client = Client()
        client.force_login(user)
        return user, client

    return make


def schedule_row() -> PeriodicTask:
    from hireops.core.schedules.registry import sync_schedules

    sync_schedules()  # transactional tests flush the rows migrate made
    return PeriodicTask.objects.get(name=SCHEDULE)


def beat_runs_the_schedule() -> None:
    """What beat sends when the schedule is due: the declared task with the entry's options."""
    entry = DeclaredEntry(schedule_row(), app=celery_app)
    celery_app.tasks[entry.task].apply_async(entry.args, entry.kwargs, **entry.options)


def newest_run() -> PayoutRun:
    return PayoutRun.objects.order_by("-pk").first()


# --- the ways, each returning the run and who caused it -------------------------------------------


def by_the_form(hr):
    user, client = hr("preparer")
    add = reverse("admin:referrals_payoutrun_add")
    done = client.post(add, {"title": "十一月", "tenant_key": "", "prepare": "1"})
    assert done.status_code == 302, done.content.decode()[:2000]
    return newest_run(), {user}


def by_the_account_list(hr):
    user, client = hr("preparer")
    accounts = reverse("admin:referrals_referralaccount_changelist")
    chosen = list(payouts.select_accounts().values_list("pk", flat=True))
    client.post(accounts, {"action": "prepare_payout_run", "_selected_action": chosen, "prepare": "1"})
    return newest_run(), {user}


def by_a_background_preparation(hr):
    """A run too large to prepare in the request: a worker writes its lines (a job)."""
    from django.conf import settings

    user, client = hr("preparer")
    settings.PAYOUT_PREPARE_INLINE_MAX, before = 1, settings.PAYOUT_PREPARE_INLINE_MAX
    try:
        add = reverse("admin:referrals_payoutrun_add")
        client.post(add, {"title": "大批次", "tenant_key": "", "prepare": "1"})  # eager: prepared on commit
    finally:
        settings.PAYOUT_PREPARE_INLINE_MAX = before
    run = newest_run()
    assert run.expected_lines == 2 and run.status == PayoutRunStatus.AWAITING_APPROVAL
    return run, {user}


def by_run_now(hr):
    user, client = hr("presser")
    client.post(SCHEDULES, {"action": "run_tasks", "_selected_action": [schedule_row().pk]})
    return newest_run(), {user}


def by_the_schedule_untouched(hr):
    beat_runs_the_schedule()
    return newest_run(), set()


def by_the_schedule_retimed(hr):
    user, client = hr("retimer")
    row = schedule_row()
    change = f"{SCHEDULES}{row.pk}/change/"
    crontab = {"minute": "*", "hour": "*", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}
    done = client.post(change, {"enabled": "on", "kind": "crontab", **crontab, "_save": "Save"})
    assert done.status_code == 302
    beat_runs_the_schedule()
    return newest_run(), {user}


def by_the_schedule_switched_on(hr):
    user, client = hr("switcher")
    client.post(SCHEDULES, {"action": "enable_tasks", "_selected_action": [schedule_row().pk]})
    assert PeriodicTask.objects.get(name=SCHEDULE).enabled
    beat_runs_the_schedule()
    return newest_run(), {user}


def by_run_now_after_a_colleague_retimed_it(hr):
    retimer, client = hr("retimer")
    client.post(SCHEDULES, {"action": "toggle_tasks", "_selected_action": [schedule_row().pk]})
    presser, client = hr("presser")
    client.post(SCHEDULES, {"action": "run_tasks", "_selected_action": [schedule_row().pk]})
    return newest_run(), {retimer, presser}


WAYS = [
    by_the_form,
    by_the_account_list,
    by_a_background_preparation,
    by_run_now,
    by_the_schedule_untouched,
    by_the_schedule_retimed,
    by_the_schedule_switched_on,
    by_run_now_after_a_colleague_retimed_it,
]


@pytest.mark.parametrize("way", WAYS, ids=lambda way: way.__name__)
def test_nobody_who_caused_a_run_decides_it(way, sandbox, cash, hr):
    run, caused = way(hr)
    assert run is not None and run.status == PayoutRunStatus.AWAITING_APPROVAL and run.line_count == 2
    assert not set(notices.approvers(run)) & caused  # the notice goes to those who may decide
    change = reverse("admin:referrals_payoutrun_change", args=[run.pk])
    decide = reverse("admin:referrals_payoutrun_decide", args=[run.pk])

    for user in caused:
        client = Client()
        client.force_login(user)
        assert user.has_perm(payouts.APPROVE)
        page = client.get(change).content.decode()
        assert 'id="decide"' not in page and user.get_username() in page  # the page names them
        page = client.get(decide).content.decode()
        assert 'id="approve-form"' not in page and 'id="reject-form"' not in page
        assert 'id="preparer-note"' in page
        # What the buttons would have sent, forged: refused, nothing decided or paid.
        client.post(decide, {"approve": "1", "seen": ""})
        client.post(decide, {"reject": "1", "reason": "不对"})
        with pytest.raises(payouts.PayoutRefused):
            payouts.payout_approve(run.pk, user)
        with pytest.raises(payouts.PayoutRefused):
            payouts.payout_reject(run.pk, user, "不对")
        assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.AWAITING_APPROVAL
    assert not [r for r in sandbox.requests() if r["path"].endswith("/withdraw")]

    # Recorded on the run, and the rule's one reading of it.
    assert payouts.causers(run) == {u.pk for u in caused}
    assert not any(payouts.may_decide(run, user) for user in caused)
    colleague, client = hr("colleague")
    assert payouts.may_decide(run, colleague)
    page = client.get(decide)
    assert 'id="approve-form"' in page.content.decode()
    client.post(decide, {"approve": "1", "seen": page.context["seen"]})
    run.refresh_from_db()
    assert (run.status, run.decided_by) == (PayoutRunStatus.FINISHED, colleague)
    assert set(run.lines.values_list("status", flat=True)) == {CallStatus.SUCCEEDED}


def test_the_run_page_says_who_caused_it(sandbox, cash, hr):
    run, _ = by_the_schedule_untouched(hr)
    _, client = hr("reader")
    page = client.get(reverse("admin:referrals_payoutrun_change", args=[run.pk])).content.decode()
    assert "untouched by anyone" in page
    payouts.payout_cancel(run.pk, None)  # its accounts free for the next run

    run, (presser,) = by_run_now(hr)
    page = client.get(reverse("admin:referrals_payoutrun_change", args=[run.pk])).content.decode()
    assert f"{presser.get_username()} asked the schedule to run now" in page


def test_a_held_line_is_released_only_by_someone_who_did_not_cause_the_run(sandbox, cash, hr):
    run, (presser,) = by_run_now(hr)
    colleague, _ = hr("colleague")
    line = run.lines.order_by("pk").first()
    run.lines.exclude(pk=line.pk).update(status=CallStatus.FAILED)
    PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.FINISHED)
    type(line).objects.filter(pk=line.pk).update(
        status=CallStatus.FAILED, held=True, feishu_cash={"CNY": "12.50"}
    )
    with pytest.raises(payouts.PayoutRefused):
        payouts.payout_release([line.pk], presser)
    assert payouts.payout_release([line.pk], colleague) == 1


def test_who_changed_a_schedule_before_the_upgrade_is_carried_over(hr):
    """The release's migration reads the change history: each schedule's last change by a
    person (not a "Run now") is where its next run's causes start from."""
    from importlib import import_module

    from django.apps import apps

    from hireops.core import audit
    from hireops.core.models import ScheduleAction
    from hireops.core.schedules.registry import ENABLED, RUN

    row = schedule_row()
    first, _ = hr("first")
    last, _ = hr("last")
    audit.record(first, [row], ENABLED)
    audit.record(last, [row], ENABLED)
    audit.record(first, [row], RUN)  # a "Run now" later than both is not a change
    ScheduleAction.objects.all().delete()  # the history only, as before the upgrade
    import_module("hireops.core.migrations.0005_schedule_actions").carry_over_last_changes(apps, None)
    (carried,) = ScheduleAction.objects.all()
    assert (carried.name, carried.kind, carried.user) == (SCHEDULE, "changed", last)


def test_the_approve_permission_does_nothing_until_its_holder_has_a_second_factor(
    sandbox, cash, hr, staff_user
):
    """A path that skips the admin (a job, a future API) meets the same rule in the service."""
    from allauth.mfa.models import Authenticator

    run, _ = by_the_schedule_untouched(hr)
    unenrolled = staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="no-factor")
    assert not Authenticator.objects.filter(user=unenrolled).exists()
    assert not payouts.may_decide(run, unenrolled)
    with pytest.raises(payouts.PayoutRefused, match="second factor"):
        payouts.payout_approve(run.pk, unenrolled)
    assert PayoutRun.objects.get(pk=run.pk).status == PayoutRunStatus.AWAITING_APPROVAL
