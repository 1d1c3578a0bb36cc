"""The project's rules: the platform names no app, apps register what they bring, and the checks say so."""

import json
import re
import subprocess
import sys

import pytest
from django.core import checks

from hireops.core.auth import roles
from hireops.events import registry
from tests.conftest import ROOT

# An app by its name; for orders, which is also an English word, by a dotted name or an import.
APP_NAME = re.compile(r"\b(bindings|referrals)\b|\borders\.|\b(from|import) orders\b")


def test_no_module_of_the_platform_imports_or_names_an_app():
    offenders = []
    # The one composition root, which installs the apps, is config/, outside the platform.
    for path in sorted((ROOT / "hireops").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if APP_NAME.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "the platform names an app:\n" + "\n".join(offenders)


def test_each_app_registers_its_own_event_types():
    owners = {claim.event_type: claim.handler.split(".")[0] for claim in registry.claims()}
    assert owners == {
        "app_ticket": "hireops",
        "app_open": "hireops",
        "app_status_change": "hireops",
        "app_uninstalled": "hireops",
        "hire.eco_account.created_v1": "bindings",
        "hire.referral_account.assets_update_v1": "referrals",
        "contact.user.deleted_v3": "referrals",
        "contact.user.updated_v3": "referrals",
        "contact.user.created_v3": "referrals",
        "hire.eco_background_check.created_v1": "orders",
        "hire.eco_background_check.canceled_v1": "orders",
        "hire.eco_exam.created_v1": "orders",
    }
    assert registry.visibility() == {
        "events.view_feishuevent": ["app_ticket"],
        "tenants.view_tenant": ["app_open", "app_status_change", "app_uninstalled"],
        "bindings.view_feishu_events": ["hire.eco_account.created_v1"],
        "referrals.view_feishu_events": [
            "hire.referral_account.assets_update_v1",
            "contact.user.deleted_v3",
            "contact.user.updated_v3",
            "contact.user.created_v3",
        ],
        "orders.view_order_events": [
            "hire.eco_background_check.created_v1",
            "hire.eco_background_check.canceled_v1",
            "hire.eco_exam.created_v1",
        ],
    }


def _errors(monkeypatch, *claims) -> list:
    monkeypatch.setattr(registry, "_claims", [*registry.claims(), *claims])
    registry.import_handler.cache_clear()
    return [e for e in checks.run_checks() if e.id.startswith("hireops.E01")]


def test_the_registered_handlers_pass_the_system_checks(monkeypatch):
    assert _errors(monkeypatch) == []


def test_two_apps_claiming_one_event_type_stop_the_start(monkeypatch):
    twin = registry.EventType(
        "hire.eco_account.created_v1", "referrals.handlers.assets_updated", "referrals.x"
    )
    [error] = _errors(monkeypatch, twin)
    assert error.id == "hireops.E010" and "claimed twice" in error.msg
    assert (
        "bindings.handlers.eco_account_created" in error.msg
        and "referrals.handlers.assets_updated" in error.msg
    )


def test_a_handler_that_cannot_be_imported_stops_the_start(monkeypatch):
    broken = registry.EventType(
        "hire.new_v1", "bindings.handlers.no_such_handler", "bindings.view_feishu_events"
    )
    [error] = _errors(monkeypatch, broken)
    assert error.id == "hireops.E011" and "bindings.handlers.no_such_handler" in error.msg


def test_a_registration_must_name_a_permission_of_an_installed_app(monkeypatch):
    bad = registry.EventType("hire.new_v1", "bindings.handlers.eco_account_created", "nowhere.view_it")
    [error] = _errors(monkeypatch, bad)
    assert error.id == "hireops.E012"


@pytest.mark.processes
def test_manage_py_check_fails_on_a_broken_registration(tmp_path):
    """The same through the start-up command people and deploys run."""
    script = (
        "import django, sys; django.setup()\n"
        "from hireops.events.registry import register_event\n"
        "register_event('hire.x_v1', handler='bindings.handlers.gone',\n"
        "               visible_with='bindings.view_feishu_events')\n"
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
    assert result.returncode != 0 and "hireops.E011" in result.stderr


IMPORTED = """
import json, sys
import config.ingest  # what gunicorn imports for the ingest server
from hireops.events import registry
print(json.dumps({
    "apps": sorted(m for m in sys.modules if m.split(".")[0] in ("bindings", "orders", "referrals")),
    "handles": [registry.handles(t) for t in ("hire.eco_account.created_v1", "hire.unknown_v1")],
}))
"""


@pytest.mark.processes
def test_the_ingest_server_knows_which_types_have_a_handler_without_importing_them():
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1"},
    )
    assert result.returncode == 0, result.stderr
    # Django loads each app's AppConfig and models; nothing else of the apps is imported.
    assert json.loads(result.stdout) == {
        "apps": [
            "bindings",
            "bindings.apps",
            "bindings.deletion",  # what keeps a customer: ready() names the catalogue's rule (by path)
            "bindings.models",
            "bindings.signals",  # a Signal, which the orders connect to in ready()
            "orders",
            "orders.apps",
            # The orders' trend metrics and charts, registered in ready() (counted by a task):
            # the busiest customers, the failed calls, the overdue level, the turnaround.
            "orders.busiest",
            "orders.catalogue",
            "orders.catalogue.models",  # the catalogue's rows, part of orders.models
            "orders.catalogue.turnarounds",  # the promises the trends read (a cache of the rows)
            "orders.checks",  # a settings check, registered in ready()
            "orders.daily",  # the metrics' names and the day rows the daily charts share
            "orders.failures",
            "orders.models",
            "orders.overdue",
            "orders.storage",
            "orders.trend",
            "orders.turnaround",
            "referrals",
            # Each sub-package's rows, part of referrals.models; the signals the sub-packages
            # below send, which those above are connected to in ready() (imported only when one
            # comes); the withdrawals' guards, which ready() names the payouts' guard to (by path).
            "referrals.accounts",
            "referrals.accounts.cash",  # cash in hundredths, as the money metrics below add it up
            "referrals.accounts.models",
            "referrals.accounts.owed",  # what the accounts hold: a trend metric, registered in ready()
            "referrals.accounts.signals",
            "referrals.apps",
            "referrals.checks",  # a settings check, registered in ready()
            "referrals.leaver_trends",  # HR's leavers chart and its metric, registered in ready()
            "referrals.leavers",
            "referrals.leavers.models",
            "referrals.leavers.trend",
            "referrals.models",
            "referrals.owed",  # its charts
            "referrals.payouts",
            "referrals.payouts.models",
            "referrals.payouts.signals",  # a run's news, which the messages in Feishu hear
            "referrals.payouts.trend",
            "referrals.rewards",
            "referrals.rewards.models",
            "referrals.rewards.trend",  # HR's trend metrics and charts, registered in ready()
            "referrals.trends",
            "referrals.withdrawals",
            "referrals.withdrawals.guards",
            "referrals.withdrawals.models",
            "referrals.withdrawals.signals",
            "referrals.withdrawals.trend",
        ],
        "handles": [True, False],
    }


def test_each_app_grants_its_own_part_of_the_roles():
    granted = roles.granted()
    assert "bindings.view_feishu_events" in granted[roles.VENDOR_OPS]
    assert "referrals.view_feishu_events" in granted[roles.HR]
    assert granted[roles.HR_WITHDRAWALS] >= {"referrals.withdraw_referralaccount", "jobs.view_bulkjob"}
    assert not any(p.startswith("referrals.") for p in granted[roles.VENDOR_OPS])
    assert not any(p.startswith("bindings.") for p in granted[roles.HR])
    with pytest.raises(ValueError, match="unknown role"):
        roles.grant("Interns", "bindings.view_ecoaccountbinding")


@pytest.mark.django_db
def test_the_personal_data_permission_belongs_to_the_platform(staff_user):
    from hireops.core.privacy.personal import PERMISSION, can_see_personal_data

    assert PERMISSION == "core.view_personal_data"
    assert not can_see_personal_data(staff_user("Auditor"))  # auditors see everything else
    assert can_see_personal_data(staff_user("HR", username="dpo", perms=[PERMISSION]))
