"""An operator makes and revokes keys from a terminal (``manage.py create_api_key`` and
``revoke_api_key``), on a deployment whose LANGUAGE_CODE is Chinese: the commands answer in
English, refuse what could never work before making anything (an unknown scope or tenant, a
scope that moves money with nobody behind the key), and their help tells the truth."""

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from hireops.api.management.commands.create_api_key import moves_money
from hireops.api.models import ApiKey
from hireops.api.scopes import all_scopes
from hireops.tenants.models import Tenant
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese_deployment(settings):
    settings.LANGUAGE_CODE = "zh-hans"  # and Chinese active: a changed LANGUAGE_CODE resets it


def refused(*args) -> str:
    with pytest.raises(CommandError) as refusal:
        call_command("create_api_key", *args)
    assert not ApiKey.objects.exists()
    return str(refusal.value)


def test_an_unknown_scope_is_refused_in_english_or_in_the_language_asked_for():
    assert refused("x", "--scope", "everything").startswith("Unknown scope: everything. Scopes: ")
    assert "未知的权限范围" in refused("x", "--scope", "everything", "--language", "zh-hans")


def test_an_unknown_tenant_is_refused_naming_the_known_ones():
    Tenant.objects.create(tenant_key="acme-tenant")
    Tenant.objects.create(tenant_key="globex-tenant")
    message = refused("x", "--scope", "tenants:read", "--tenant", "acme-tenant", "--tenant", "acme-tenamt")
    assert message == "Unknown tenant: acme-tenamt. The tenants hireops knows: acme-tenant, globex-tenant."
    call_command("create_api_key", "x", "--scope", "tenants:read", "--tenant", "acme-tenant")
    assert ApiKey.objects.get().tenant_keys == ["acme-tenant"]


def test_no_tenant_known_yet_says_so():
    assert refused("x", "--scope", "tenants:read", "--tenant", "t1").endswith("knows: none yet.")


@pytest.mark.parametrize("scope", sorted(all_scopes()))
def test_a_scope_that_moves_money_is_refused_and_every_other_is_made(scope, capsys):
    """A key moves money only on the authority of the person who made it (docs/api.md)."""
    if moves_money(all_scopes()[scope]):
        message = refused("x", "--scope", scope, "--scope", "referrals:read")
        assert message.startswith(f"{scope} moves money") and "Make the key in the admin" in message
    else:
        call_command("create_api_key", "x", "--scope", scope)
        key = capsys.readouterr().out.strip().splitlines()[-1]
        assert ApiKey.objects.get(prefix=key[:12]).scopes == [scope]


def test_rewards_write_is_a_scope_that_moves_money():
    assert moves_money(all_scopes()["rewards:write"]) and not moves_money(all_scopes()["referrals:read"])


def test_list_scopes_lists_each_scope_with_what_it_allows_and_makes_nothing(capsys):
    call_command("create_api_key", "--list-scopes")
    lines = capsys.readouterr().out.strip().splitlines()
    scopes = all_scopes()
    assert [line.split()[0] for line in lines] == list(scopes)
    for line, scope in zip(lines, scopes.values(), strict=True):
        with translation.override("en"):
            assert str(scope.description) in line
        assert ("moves money" in line) == moves_money(scope)
    assert not ApiKey.objects.exists()


def test_a_key_needs_a_name_and_a_scope():
    for args in ((), ("x",), ("--scope", "tenants:read")):
        assert refused(*args) == "Give the key a name and at least one --scope (--list-scopes lists them)."


def test_revoking_an_unknown_key_is_refused_in_english():
    with pytest.raises(CommandError, match=r"^No key starts with hko_AbCd1234\.$"):
        call_command("revoke_api_key", "hko_AbCd1234")
    with pytest.raises(CommandError, match="没有以"):
        call_command("revoke_api_key", "hko_AbCd1234", "--language", "zh-hans")


@pytest.mark.processes
def test_an_operators_terminal_reads_english(tmp_path):
    """As run by hand on a deployment as shipped (LANGUAGE_CODE unset: Chinese)."""
    env = {"PATH": "/usr/bin:/bin", "HIREOPS_VAR_DIR": str(tmp_path)}
    for args, said in (
        (["create_api_key", "payroll", "--scope", "everything"], "CommandError: Unknown scope: everything."),
        (["revoke_api_key", "hko_"], "CommandError: Give at least the first 8 characters of the key."),
    ):
        command = [sys.executable, "manage.py", *args]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and said in done.stderr, done.stderr
