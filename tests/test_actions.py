"""Every admin action of every registered admin, as every role, over HTTP.

The project's rule (hireops.core.admin.actions): an action offered with the view permission
changes nothing (it is marked read-only); any other needs a permission beyond view and leaves an
entry in the change history. The actions, the admins and what each role is offered all come from
the running site's registry, so a new action is tried without a new test.
"""

from contextlib import contextmanager

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from bindings.models import CustomFieldDefinition, FieldScope, Scope
from bindings.publishing import scope_state
from hireops.api import keys as api_keys
from hireops.core.admin.actions import gates, is_read_only, offenders
from hireops.core.auth import roles
from hireops.core.models import CallStatus
from hireops.tenants.models import Tenant, TenantNameLookup
from hireops.webhooks import endpoints as webhook_endpoints
from hireops.webhooks import events as webhook_events
from hireops.webhooks.models import WebhookDelivery, WebhookEndpoint
from orders.catalogue.models import CataloguePush
from orders.models import BackgroundCheck, OrderWrite
from referrals.models import AccountStatus, ReferralAccount
from tests.admin_forms import confirm_action_page
from tests.table_fingerprints import fingerprints
from tests.test_admin_query_counts import add_rows

pytestmark = pytest.mark.django_db
ROLES = {
    "vendor": (roles.VENDOR_OPS,),
    "hr": (roles.HR,),
    "hr-withdrawals": (roles.HR, roles.HR_WITHDRAWALS),
    "auditor": (roles.AUDITOR,),
    "superuser": None,
}
UNTRACKED = {Session, LogEntry}  # a request's session; the history is checked on its own


@pytest.fixture
def user_for(staff_user, django_user_model):
    def make(name):
        if ROLES[name] is None:
            return django_user_model.objects.create_superuser(f"root-{name}", password="Pw-123456!")
        return staff_user(*ROLES[name], username=name)

    return make


@pytest.fixture
def rows(django_user_model):
    """A row for each action to act on: failed writes, pushes, withdrawals and events, bindings
    to review and bound, accounts, a scope with a field, an unverified address, a lockout."""
    someone = django_user_model.objects.create_user("someone", email="someone@example.com")
    # Every scope's row, as the data migration makes them: a transactional test that ran before
    # in this process emptied the table, and a page would otherwise create them as it reads.
    for scope in Scope.values:
        scope_state(scope)
    add_rows(someone, 1)
    now = timezone.now()
    OrderWrite.objects.update(status=CallStatus.FAILED, finished_at=now, error="refused")
    OrderWrite.objects.filter(stage_id__gt="").update(time_ms=int(now.timestamp() * 1000))
    CataloguePush.objects.update(status=CallStatus.FAILED, finished_at=timezone.now())
    ReferralAccount.objects.create(name="Failed", email="failed@example.com", status=AccountStatus.FAILED)
    TenantNameLookup.objects.create(
        tenant=Tenant.objects.first(), status=CallStatus.FAILED, finished_at=now, error="refused"
    )
    FieldScope.objects.get_or_create(scope=1)
    CustomFieldDefinition.objects.create(scope=1, key="org_id", name_zh="组织")
    EmailAddress.objects.create(user=someone, email="someone@example.com", verified=False, primary=True)
    api_keys.create("partner", ["tenants:read"])  # revoked by the superuser's action
    hook, _secret = webhook_endpoints.create(url="http://127.0.0.1:9/hooks", description="partner", scopes=[])
    with transaction.atomic():
        webhook_events.ping(hook)  # a delivery to send again, failed; the endpoint to enable again
    WebhookDelivery.objects.update(status=CallStatus.FAILED, finished_at=now, error="it answered 500")
    WebhookEndpoint.objects.update(enabled=False, disabled_reason="it answered 410 Gone")
    AccessAttempt.objects.create(
        username="someone", ip_address="127.0.0.1", user_agent="x", failures_since_start=5
    )


def as_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def lists_opened_by(user) -> list:
    """(model, admin) of every list the user opens."""
    request = as_request(user)
    return [(m, a) for m, a in admin.site._registry.items() if a.has_view_or_change_permission(request)]


def tracked_models() -> list:
    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed and model not in UNTRACKED
    ]


def snapshot() -> dict[str, object]:
    """Every row of every table (but the session and the history), as a fingerprint per model."""
    return fingerprints(tracked_models())


def test_the_fingerprints_see_a_value_changed_in_place_and_only_there(rows):
    """What the tests below rely on: an update that changes no row count still shows, in its
    own table alone."""
    before = snapshot()
    assert snapshot() == before
    ReferralAccount.objects.filter(name="Failed").update(email="changed@example.com")
    after = snapshot()
    assert sorted(label for label in after if after[label] != before[label]) == ["referrals.ReferralAccount"]


@contextmanager
def undone():
    """Changes made inside are rolled back afterwards, like the test's own transaction (which
    the check for Feishu calls inside a transaction leaves out, tests/conftest.py)."""
    block = transaction.atomic()
    block._from_testcase = True
    with block:
        yield
        transaction.set_rollback(True)


@contextmanager
def watched(sandbox):
    """What a request changed: the tables whose rows differ, the calls Feishu (the sandbox) got."""
    before, calls = snapshot(), len(sandbox.server.request_log)
    seen = {}
    yield seen
    after = snapshot()
    seen["tables"] = sorted(label for label in after if after[label] != before.get(label))
    seen["calls"] = sandbox.server.request_log[calls:]


def run_action(client, model, action, pks, capture):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with capture(execute=True):
        response = client.post(url, {"action": action, "_selected_action": pks, "index": 0})
        return confirm_action_page(client, url, response)


@pytest.mark.parametrize("name", ROLES)
def test_every_action_offered_is_read_only_or_needs_a_permission_the_role_holds(user_for, name):
    user = user_for(name)
    request = as_request(user)
    offered = []
    for model, model_admin in lists_opened_by(user):
        for action, (func, _name, _description) in model_admin.get_actions(request).items():
            offered.append((model._meta.label, action))
            if is_read_only(func):
                assert set(func.allowed_permissions) == {"view"}, (model, action)
                continue
            held = [p for p in gates(func) if getattr(model_admin, f"has_{p}_permission")(request)]
            assert held, f"{name} is offered {model._meta.label}: {action} without a permission beyond view"
            assert name != "auditor", (
                f"the Auditor is offered {model._meta.label}: {action}, which changes things"
            )
    assert offered, f"{name} is offered no action at all: the enumeration found nothing"
    assert offenders() == []  # the system check's view of the whole site


def test_the_auditor_runs_every_action_of_every_list_and_changes_nothing(
    client, user_for, rows, sandbox, django_capture_on_commit_callbacks
):
    """As an attacker in the Auditor's role would: every action of every list they open, offered
    or not (a forged POST), over the rows the list shows."""
    auditor = user_for("auditor")
    client.force_login(auditor)
    request, ran = as_request(auditor), []
    entries = LogEntry.objects.count()
    for model, model_admin in lists_opened_by(auditor):
        pks = [str(pk) for pk in model_admin.get_queryset(request).values_list("pk", flat=True)[:5]]
        offered = model_admin.get_actions(request)
        for _func, action, _description in model_admin._get_base_actions():
            with watched(sandbox) as seen:
                response = run_action(client, model, action, pks, django_capture_on_commit_callbacks)
            assert seen == {"tables": [], "calls": []}, (model._meta.label, action, seen)
            if action in offered:
                assert pks, f"no {model._meta.label} row to try {action} on: add one to the rows fixture"
                assert response.status_code == 200, (model._meta.label, action)
                ran.append(f"{model._meta.label}: {action}")
    assert LogEntry.objects.count() == entries
    assert "orders.OrderWrite: send_again" not in ran  # Send again is no longer offered to the Auditor
    assert any(action.endswith("export_csv") for action in ran), ran  # the enumeration ran some


def test_each_action_that_changes_something_is_in_the_change_history(
    client, user_for, rows, sandbox, django_capture_on_commit_callbacks
):
    """Each role runs every action it is offered that is not read-only, on rows of the list,
    going through the action's page as a person would; whatever changed a row or called Feishu
    left an entry by that user. Each action starts from the same rows (its changes are undone
    after it)."""
    changed_by = {}
    for name in ("hr", "hr-withdrawals", "vendor", "superuser"):
        user = user_for(name)
        client.force_login(user)
        request, changed = as_request(user), []
        for model, model_admin in lists_opened_by(user):
            shown = model_admin.get_queryset(request).exclude(pk=user.pk if model is type(user) else None)
            for action, (func, _name, _description) in model_admin.get_actions(request).items():
                if is_read_only(func):
                    continue
                pks = [str(pk) for pk in shown.order_by("-pk").values_list("pk", flat=True)[:3]]
                if not pks:  # Django's own delete, on a list with no row: nothing to try
                    assert action == "delete_selected", f"no {model._meta.label} row for {action}: add one"
                    continue
                with undone():
                    entries = LogEntry.objects.filter(user=user).count()
                    with watched(sandbox) as seen:
                        run_action(client, model, action, pks, django_capture_on_commit_callbacks)
                    if seen["tables"] or seen["calls"]:
                        recorded = LogEntry.objects.filter(user=user).count() > entries
                        assert recorded, f"{name}'s {model._meta.label}: {action} changed {seen} unrecorded"
                        changed.append(f"{model._meta.label}: {action}")
        assert changed, f"no action of {name} changed anything: the enumeration tried nothing"
        changed_by[name] = changed
    for action in ("send_again", "push_again", "push_catalogues_action"):
        assert any(a.endswith(action) for a in changed_by["vendor"]), (action, changed_by["vendor"])
    assert "account.EmailAddress: make_verified" in changed_by["superuser"]


def test_send_again_is_vendor_operations_work_and_recorded(
    client, user_for, rows, sandbox, django_capture_on_commit_callbacks
):
    """The Auditor forging "Send again" sends nothing; Vendor operations' sends
    the write again and leaves an entry on the write and on its order."""
    write = OrderWrite.objects.filter(background_check__isnull=False).first()
    client.force_login(user_for("auditor"))
    with watched(sandbox) as seen:
        run_action(client, OrderWrite, "send_again", [write.pk], django_capture_on_commit_callbacks)
    assert seen == {"tables": [], "calls": []}
    vendor = user_for("vendor")
    client.force_login(vendor)
    with watched(sandbox) as seen:
        run_action(client, OrderWrite, "send_again", [write.pk], django_capture_on_commit_callbacks)
    assert seen["calls"] and "orders.OrderWrite" in seen["tables"]
    logged = LogEntry.objects.filter(user=vendor).values_list("content_type__model", "object_id")
    check = BackgroundCheck.objects.get(pk=write.background_check_id)
    assert set(logged) == {("orderwrite", str(write.pk)), ("backgroundcheck", str(check.pk))}
