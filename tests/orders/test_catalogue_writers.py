"""Every writer of the catalogue's entries rolls the catalogue out, and nothing else does.

No signal listens to the entries: the writers call ``orders.catalogue.services`` in their own
transaction. Here every writer of every catalogue model (``CATALOGUE_MODELS``) is driven and a
rollout of that model's catalogue is seen queued, naming who asked: the admin's add, change
(the customers an entry is narrowed to, alone), delete page and delete action, the partners'
API, the demo's seed and the services themselves. A bare ``save()``, ``update()``,
``delete()`` or change of ``only_for`` queues nothing: the services are the only writers. A
catalogue model whose admin would not roll its edits out stops the start (``orders.E001``)."""

import pytest
from django.contrib import admin
from django.core import checks

from demo.seeds import orders as demo
from hireops.api.models import ApiKey
from orders.admin.catalogue import CatalogueEntryAdmin
from orders.catalogue import services as catalogue
from orders.catalogue.models import (
    AdditionalItem,
    CatalogueRollout,
    ExamPaper,
    FormField,
    Package,
    RolloutStatus,
)
from orders.catalogue.turnarounds import forget_turnarounds
from tests.api.keys import make_key
from tests.api.test_catalogue import put

ADMIN = "/admin/orders/"
MODELS = list(catalogue.CATALOGUE_OF)

# What the admin's form of each catalogue model takes: a model added to the catalogue without
# its line here fails test_every_catalogue_model_is_driven.
ADD = {
    Package: {"code": "pkg-new", "name": "新套餐", "description": "", "turnaround_days": "7"},
    AdditionalItem: {"code": "ext-new", "name": "新项目", "description": ""},
    FormField: {"key": "new_field", "type": "text", "name_zh": "新字段", "name_en": "", "options": ""},
    ExamPaper: {
        "code": "paper-new",
        "name": "新试卷",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "turnaround_days": "7",
    },
}
EXISTING = {
    Package: {"code": "pkg-1", "name": "套餐"},
    AdditionalItem: {"code": "ext-1", "name": "项目"},
    FormField: {"key": "field_1", "type": "text", "name_zh": "字段"},
    ExamPaper: {"code": "paper-1", "name": "试卷"},
}
ALWAYS = {"is_active": "on", "display_order": "0"}


def queued(model) -> list[CatalogueRollout]:
    """The rollouts waiting for the model's catalogue (one at most: a change joins it)."""
    name = catalogue.catalogue_of(model)
    return list(CatalogueRollout.objects.filter(catalogue=name, status=RolloutStatus.QUEUED))


def existing(model):
    """An entry as a fixture writes it: a bare create, which queues nothing."""
    return model.objects.create(**EXISTING[model])


def path(model) -> str:
    return ADMIN + model._meta.model_name + "/"


@pytest.fixture
def acme(db):
    from bindings.models import VendorCustomer

    return VendorCustomer.objects.create(name="Acme")


def test_every_catalogue_model_is_driven():
    assert set(ADD) == set(EXISTING) == set(MODELS)
    assert all(isinstance(admin.site.get_model_admin(m), CatalogueEntryAdmin) for m in MODELS)


# --- each writer queues a rollout ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_an_entry_added_in_the_admin_rolls_its_catalogue_out(model, vendor_ops, acme):
    answer = vendor_ops.post(path(model) + "add/", {**ADD[model], **ALWAYS, "only_for": [acme.pk]})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    [rollout] = queued(model)
    assert rollout.requested_by.username == "vendor_operations"
    assert list(model.objects.get().only_for.all()) == [acme]


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_narrowing_an_entry_to_customers_in_the_admin_rolls_its_catalogue_out(model, vendor_ops, acme):
    entry = existing(model)
    assert queued(model) == []
    data = {**ADD[model], **EXISTING[model], **ALWAYS, "only_for": [acme.pk]}
    answer = vendor_ops.post(f"{path(model)}{entry.pk}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert [r.requested_by.username for r in queued(model)] == ["vendor_operations"]
    assert list(entry.only_for.all()) == [acme]


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_an_entry_deleted_from_its_page_rolls_its_catalogue_out(model, vendor_ops):
    entry = existing(model)
    answer = vendor_ops.post(f"{path(model)}{entry.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302 and not model.objects.exists()
    assert [r.requested_by.username for r in queued(model)] == ["vendor_operations"]


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_entries_deleted_by_the_delete_action_roll_their_catalogue_out(model, vendor_ops):
    entry = existing(model)
    answer = vendor_ops.post(
        path(model), {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert answer.status_code == 302 and not model.objects.exists()
    assert [r.requested_by.username for r in queued(model)] == ["vendor_operations"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "document, models",
    [
        ("packages", (Package, AdditionalItem)),
        ("exam-papers", (ExamPaper,)),
    ],
)
def test_a_catalogue_replaced_through_the_api_rolls_it_out(document, models, client):
    """The API replaces packages (with additional items) and exam papers; form fields are kept
    in the admin only."""
    key = make_key("catalogue:read", "catalogue:write")
    body = (
        {"packages": [{"id": "pkg-api", "name": "API"}], "additional_items": []}
        if document == "packages"
        else {"papers": [{"id": "paper-api", "name": "API"}]}
    )
    answer = put(client, key, document, body)
    assert answer.status_code == 202, answer.content
    actor = ApiKey.objects.get().actor
    for model in models:
        assert [r.requested_by for r in queued(model)] == [actor]
    assert answer.json()["rollout"]["id"] == queued(models[0])[0].pk


@pytest.mark.django_db
def test_the_demo_seed_rolls_out_what_it_adds(settings, tmp_path):
    settings.SANDBOX_STATE_FILE = str(tmp_path / "kept.json")
    (tmp_path / "kept.json").write_text("{}")  # the sandbox keeps what it was sent
    demo.seed()
    assert all(len(queued(model)) == 1 for model in MODELS)
    CatalogueRollout.objects.all().delete()
    demo.seed()  # nothing new: nothing to roll out
    assert CatalogueRollout.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_services_roll_out_what_they_write(model, acme, staff_user, django_capture_on_commit_callbacks):
    user = staff_user("Vendor operations")
    with django_capture_on_commit_callbacks() as callbacks:
        rollout = catalogue.entry_save(model(**EXISTING[model]), only_for=[acme], user=user)
    assert queued(model) == [rollout] and rollout.requested_by == user
    assert forget_turnarounds in callbacks  # the dashboard's turnarounds are read again
    CatalogueRollout.objects.all().delete()
    assert catalogue.entries_delete(model.objects.all(), user) == 1
    assert [r.requested_by for r in queued(model)] == [user]
    CatalogueRollout.objects.all().delete()
    assert catalogue.entries_delete(model.objects.all(), user) == 0  # nothing deleted: nothing to roll out
    assert queued(model) == []


# --- and nothing else ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_bare_write_queues_nothing(model, acme, django_capture_on_commit_callbacks):
    """No signal follows an entry: a fixture, a data migration or a shell changing rows directly
    changes the rows and nothing else (Feishu hears of it with the next change a writer rolls out)."""
    with django_capture_on_commit_callbacks() as callbacks:
        entry = model.objects.create(**EXISTING[model])
        entry.display_order = 3
        entry.save()
        entry.only_for.add(acme)
        entry.only_for.set([])
        model.objects.filter(pk=entry.pk).update(is_active=False)
        entry.delete()
    assert callbacks == [] and not CatalogueRollout.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rollout_is_asked_inside_the_transaction_of_the_change():
    """Asked after the change committed, a crash in between would leave Feishu behind."""
    with pytest.raises(RuntimeError, match="inside the transaction"):
        catalogue.catalogue_changed("packages")
    assert not CatalogueRollout.objects.exists()


# --- the start refuses an admin that would not roll out -------------------------------------------


def rollout_errors() -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if m.id == "orders.E001"]


@pytest.mark.django_db
def test_every_catalogue_admin_rolls_out_and_the_checks_pass():
    assert rollout_errors() == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_catalogue_model_with_another_admin_stops_the_start(model, monkeypatch):
    """Edits through a plain ModelAdmin would change what Feishu should have without a rollout."""
    plain = admin.ModelAdmin(model, admin.site)
    original = admin.site.get_model_admin
    monkeypatch.setattr(admin.site, "get_model_admin", lambda m: plain if m is model else original(m))
    [error] = rollout_errors()
    assert error.level == checks.ERROR and model._meta.label in error.msg and "ModelAdmin" in error.msg
