"""A vendor's system reads and replaces its catalogue through the API (``/api/v1/catalogue``).

**One document per catalogue.** ``GET /catalogue/packages`` answers the background-check
packages and additional items on offer, ``GET /catalogue/exam-papers`` the exam papers, each
in display order; a ``PUT`` of the same document replaces the list (as Kombo's partners ``PUT``
their package list). So a vendor reads, edits and sends back one document; no paging, since a
catalogue is a few hundred entries at most (a ``PUT`` takes at most ``MAX_ENTRIES`` a list).

**A replacement is the admin's edit.** Every entry is validated by the admin's own form
(Feishu's rules: an id of at most 36 characters for a package or item, 255 for a paper, of
letters, digits and ``_ . : -``; a name of at most 100 / 255; a paper opens before it closes;
moving a paper's window that exams were already arranged on needs ``move_scheduled_exams``),
ids listed twice and unknown customers are refused, all before anything is saved: one fault
answers 422 with every field at fault and nothing changes. Then the entries are saved as the
admin saves them: a listed id is added, changed, or brought back; an entry on offer but not
listed is withdrawn (made inactive, as staff retire one: the orders placed with it keep its
turnaround). The replacement rolls the catalogue out in the transaction of those saves, as an
admin edit does (``services.catalogue_changed``: one ``CatalogueRollout``, each bound account
whose Feishu then differs gets a ``CataloguePush`` sent by the outbound engine); the answer is
that rollout (202, ``queued``), whose state and per-tenant pushes (``sent``, ``failed`` with
Feishu's message) ``GET /catalogue/rollouts/{id}`` and ``/pushes`` show. A document equal to
the catalogue saves nothing and queues nothing (200, ``rollout: null``): Feishu already has it,
or a failed push is repeated where staff repeat it. The change history of each entry names the
key.

**Tenants.** The catalogue is one list shared by every tenant's accounts (narrowed to
customers, never to tenants), and a rollout reaches every bound account: a key limited to some
tenants may read it but not replace it (403), since the change would reach tenants beyond the
key. It sees a rollout only if it pushed to one of its tenants, and only those pushes.
"""

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from django.contrib.admin.models import ADDITION, CHANGE
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field, StrictBool, StrictInt, field_validator

from bindings.models import VendorCustomer
from hireops.api.pagination import PageParams, page
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Moment, Page, Timestamp, admin_words
from hireops.api.scopes import declare
from hireops.api.site import operation, register
from hireops.core import audit
from hireops.core.models import CallStatus

from .forms import AdditionalItemForm, ExamPaperForm, PackageForm
from .models import (
    AdditionalItem,
    Catalogue,
    CataloguePush,
    CatalogueRollout,
    ExamPaper,
    Package,
    RolloutStatus,
)
from .services import catalogue_changed

READ, WRITE = "catalogue:read", "catalogue:write"
declare(
    READ,
    _("See the background-check packages and exam papers on offer, and how their rollouts went"),
    permission="orders.view_package",
)
declare(
    WRITE,
    _("Replace the background-check packages or the exam papers, rolled out to every bound account"),
    permission="orders.change_package",
)
router = Router(tags=["Catalogue"])

MAX_ENTRIES = 1000  # hireops' own bound on one list (Feishu prints none); a catalogue is far smaller
MAX_CUSTOMERS = 1000
FEISHU_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"  # orders.catalogue.models.feishu_id_validator

# Change history (hireops.core.audit), on each entry the replacement touched and on the rollout.
ADDED = gettext_noop("Added by a catalogue replacement through the API.")
CHANGED = gettext_noop("Changed by a catalogue replacement through the API: %(fields)s.")
WITHDRAWN = gettext_noop("Withdrawn by a catalogue replacement through the API.")
REPLACED = gettext_noop(
    "Catalogue replaced through the API: %(added)s added, %(changed)s changed, %(withdrawn)s withdrawn."
)


# --- answers --------------------------------------------------------------------------------


class Answer(BaseModel):
    """Plain pydantic answers built from keyword arguments (as orders.api's)."""


class PackageOut(Answer):
    id: str = Field(description="The package's id in Feishu (chosen by the vendor)")
    name: str
    description: str
    turnaround_days: int = Field(description="hireops' own: an order open longer shows as overdue")
    only_for: list[int] = Field(description="Customer ids it is offered to; empty: every customer")
    updated_at: Moment


class AdditionalItemOut(Answer):
    id: str
    name: str
    description: str
    only_for: list[int]
    updated_at: Moment


class PackagesOut(Answer):
    packages: list[PackageOut]
    additional_items: list[AdditionalItemOut]


class PaperOut(Answer):
    id: str = Field(description="The paper's id in Feishu (chosen by the vendor)")
    name: str
    duration_minutes: int | None
    question_count: int | None
    starts_at: Moment | None = Field(description="When it opens; null: no start limit")
    ends_at: Moment | None = Field(description="When it closes; null: no end limit")
    turnaround_days: int
    only_for: list[int]
    updated_at: Moment


class PapersOut(Answer):
    papers: list[PaperOut]


class RolloutState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class PushState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


STATUS: dict[str, PushState] = {
    CallStatus.QUEUED: PushState.QUEUED,
    CallStatus.SUCCEEDED: PushState.SENT,
    CallStatus.FAILED: PushState.FAILED,
}
CATALOGUE_NAME: dict[str, Any] = {  # the Literal names of RolloutOut
    Catalogue.PACKAGES: "packages",
    Catalogue.FORM_FIELDS: "form_fields",
    Catalogue.PAPERS: "exam_papers",
}


class PushCounts(Answer):
    queued: int = Field(description="Pushes waiting to be sent, or being sent")
    sent: int
    failed: int


class RolloutOut(Answer):
    id: int
    catalogue: Literal["packages", "form_fields", "exam_papers"]
    status: RolloutState = Field(
        description=admin_words(RolloutStatus.choices, "`running`: the bound accounts are being looked at.")
    )
    accounts: int = Field(description="Bound accounts of the catalogue's kind when the rollout started")
    accounts_looked_at: int
    pushes: PushCounts = Field(
        description="The pushes to the accounts whose Feishu differed (for a key limited to tenants: theirs)"
    )
    requested_at: Moment
    started_at: Moment | None
    finished_at: Moment | None = Field(description="When every account was looked at (pushes may still run)")


class ReplaceOut(Answer):
    catalogue: Literal["packages", "exam_papers"]
    changed: bool = Field(description="False: the document equals the catalogue; nothing was queued")
    added: list[str] = Field(description="Ids added (or brought back)")
    updated: list[str] = Field(description="Ids whose content changed")
    withdrawn: list[str] = Field(description="Ids no longer on offer")
    rollout: RolloutOut | None = Field(description="The rollout carrying the change (null when unchanged)")


class PushOut(Answer):
    id: int
    rollout_id: int | None
    tenant: str
    account_id: str
    status: PushState = Field(
        description=admin_words([(STATUS[value].value, label) for value, label in CallStatus.choices])
    )
    error: str | None = Field(description="Why it failed (Feishu's message, explained); null unless failed")
    error_code: int | None
    requested_at: Moment
    finished_at: Moment | None


# --- requests -------------------------------------------------------------------------------

# Strict: a partner's "5" or false where a number or a flag belongs is refused, not guessed.
CustomerId = Annotated[StrictInt, Field(ge=1, lt=2**63)]
Days = Annotated[StrictInt, Field(ge=1, le=365)]
Count_ = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]


def _plain(value):
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class Entry(Schema):
    only_for: list[CustomerId] = Field(
        default_factory=list, max_length=MAX_CUSTOMERS, description="Customer ids; empty: every customer"
    )


class PackageIn(Entry):
    id: str = Field(
        min_length=1, max_length=36, pattern=FEISHU_ID, description="At most 36 characters (Feishu)"
    )
    name: str = Field(min_length=1, max_length=100, description="At most 100 characters (Feishu)")
    description: str = Field("", max_length=2000)
    turnaround_days: Days | None = Field(
        None, description="Omitted: the entry's own is kept (7 for a new one)"
    )

    _plain = field_validator("id", "name", "description")(_plain)


class AdditionalItemIn(Entry):
    id: str = Field(min_length=1, max_length=36, pattern=FEISHU_ID)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)

    _plain = field_validator("id", "name", "description")(_plain)


class PackagesIn(Schema):
    """The whole list: what is not listed is withdrawn."""

    packages: list[PackageIn] = Field(max_length=MAX_ENTRIES)
    additional_items: list[AdditionalItemIn] = Field(max_length=MAX_ENTRIES)


class PaperIn(Entry):
    id: str = Field(min_length=1, max_length=255, pattern=FEISHU_ID, description="At most 255 characters")
    name: str = Field(min_length=1, max_length=255)
    duration_minutes: Count_ | None = None
    question_count: Count_ | None = None
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    turnaround_days: Days | None = Field(
        None, description="Omitted: the paper's own is kept (7 for a new one)"
    )

    _plain = field_validator("id", "name")(_plain)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _sane(cls, value):
        if value is not None and not dt.datetime(1970, 1, 2, tzinfo=dt.UTC) <= value <= dt.datetime(
            2200, 1, 1, tzinfo=dt.UTC
        ):
            raise ValueError("must be between 1970 and 2200")
        return value


class PapersIn(Schema):
    """The whole list: what is not listed is withdrawn."""

    papers: list[PaperIn] = Field(max_length=MAX_ENTRIES)
    move_scheduled_exams: StrictBool = Field(
        False, description="Needed when a paper's new window moves exams already arranged on it (Feishu)"
    )


class PushFilters(PageParams):
    tenant: str | None = Field(None, max_length=128)
    status: PushState | None = None

    _plain = field_validator("tenant")(_plain)


# --- reading --------------------------------------------------------------------------------


def _on_offer(model):
    return model.objects.filter(is_active=True).prefetch_related(
        Prefetch("only_for", queryset=VendorCustomer.objects.only("pk"))
    )


def _customers(entry) -> list[int]:
    return sorted(c.pk for c in entry.only_for.all())


def packages_out() -> PackagesOut:
    return PackagesOut(
        packages=[
            PackageOut(
                id=p.code,
                name=p.name,
                description=p.description,
                turnaround_days=p.turnaround_days,
                only_for=_customers(p),
                updated_at=p.updated_at,
            )
            for p in _on_offer(Package)
        ],
        additional_items=[
            AdditionalItemOut(
                id=i.code,
                name=i.name,
                description=i.description,
                only_for=_customers(i),
                updated_at=i.updated_at,
            )
            for i in _on_offer(AdditionalItem)
        ],
    )


def papers_out() -> PapersOut:
    return PapersOut(
        papers=[
            PaperOut(
                id=p.code,
                name=p.name,
                duration_minutes=p.duration_minutes,
                question_count=p.question_count,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                turnaround_days=p.turnaround_days,
                only_for=_customers(p),
                updated_at=p.updated_at,
            )
            for p in _on_offer(ExamPaper)
        ]
    )


@operation(
    router.get,
    "/catalogue/packages",
    "getCataloguePackages",
    scope=READ,
    summary="The background-check packages and additional items on offer, in display order",
    response=PackagesOut,
)
def get_packages(request):
    return packages_out()


@operation(
    router.get,
    "/catalogue/exam-papers",
    "getCatalogueExamPapers",
    scope=READ,
    summary="The exam papers on offer, in display order",
    response=PapersOut,
)
def get_papers(request):
    return papers_out()


def _pushes(request, rollout_pk: int):
    rows = CataloguePush.objects.filter(rollout_id=rollout_pk)
    if request.api_key.tenant_keys:
        rows = rows.filter(tenant_key__in=request.api_key.tenant_keys)
    return rows


def _rollout(request, id: int) -> CatalogueRollout:
    """The rollout ``id``, if this key may see it (a key limited to tenants: one that pushed to
    one of them); another's answers as a missing one."""
    if not 1 <= id < 2**63:
        raise not_found()
    rollout = CatalogueRollout.objects.filter(pk=id).first()
    if rollout is None or (request.api_key.tenant_keys and not _pushes(request, id).exists()):
        raise not_found()
    return rollout


def rollout_out(request, rollout: CatalogueRollout) -> RolloutOut:
    counted = dict(
        _pushes(request, rollout.pk)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return RolloutOut(
        id=rollout.pk,
        catalogue=CATALOGUE_NAME[rollout.catalogue],
        status=RolloutState(rollout.status),
        accounts=rollout.total,
        accounts_looked_at=rollout.considered,
        pushes=PushCounts(
            queued=counted.get(CallStatus.QUEUED, 0),
            sent=counted.get(CallStatus.SUCCEEDED, 0),
            failed=counted.get(CallStatus.FAILED, 0),
        ),
        requested_at=rollout.requested_at,
        started_at=rollout.started_at,
        finished_at=rollout.finished_at,
    )


@operation(
    router.get,
    "/catalogue/rollouts/{id}",
    "getCatalogueRollout",
    scope=READ,
    summary="A catalogue rollout: its progress and how its pushes went",
    response=RolloutOut,
)
def get_rollout(request, id: int):
    return rollout_out(request, _rollout(request, id))


def push_out(push: CataloguePush) -> PushOut:
    failed = push.status == CallStatus.FAILED
    return PushOut(
        id=push.pk,
        rollout_id=push.rollout_id,
        tenant=push.tenant_key,
        account_id=push.binding.account_id,
        status=STATUS[push.status],
        error=str(push.error) if failed and push.error else None,
        error_code=push.error_code if failed else None,
        requested_at=push.requested_at,
        finished_at=push.finished_at,
    )


@operation(
    router.get,
    "/catalogue/rollouts/{id}/pushes",
    "listCatalogueRolloutPushes",
    scope=READ,
    summary="A rollout's pushes, one per account: its tenant, and sent or failed with Feishu's message",
    response=Page[PushOut],
)
def list_rollout_pushes(request, id: int, filters: Query[PushFilters]):
    rollout = _rollout(request, id)
    rows = (
        _pushes(request, rollout.pk)
        .select_related("binding")
        .only(
            "pk",
            "rollout_id",
            "tenant_key",
            "status",
            "error",
            "error_code",
            "requested_at",
            "finished_at",
            "binding__account_id",
        )
    )
    if filters.tenant is not None:
        rows = rows.filter(tenant_key=filters.tenant)
    if filters.status is not None:
        status = next(k for k, v in STATUS.items() if v == filters.status)
        rows = rows.filter(status=status)
    return page(rows, filters, order=(("id", int),), serialize=push_out)


# --- replacing ------------------------------------------------------------------------------


FIELD_NAMES = {"code": "id"}
TOP_LEVEL = {"move_scheduled_exams"}  # the document's own fields, not an entry's


def _form_errors(form, where: str) -> list[tuple[str, str]]:
    """The admin form's errors, named as the API names the fields (``papers.3.ends_at``)."""
    out = []
    for field, messages in form.errors.items():
        if field in TOP_LEVEL:
            name = field
        elif field == "__all__":
            name = where
        else:
            name = f"{where}.{FIELD_NAMES.get(field, field)}"
        out += [(name, str(message)) for message in messages]
    return out


def _validated(model, form_class, listed, prefix: str, data_of, extra=None):
    """Each listed entry through the admin's form, bound to the entry of that id (new, or the
    one there is, on offer or withdrawn). Every fault, not only the first."""
    existing = {
        e.code: e for e in model.objects.filter(code__in=[e.id for e in listed]).prefetch_related("only_for")
    }
    forms, errors, seen = [], [], set()
    for index, entry in enumerate(listed):
        where = f"{prefix}.{index}"
        if entry.id in seen:
            errors.append((f"{where}.id", "Listed twice."))
            continue
        seen.add(entry.id)
        instance = existing.get(entry.id)
        # What the entry is now (validating writes the request's values onto the instance).
        before = None
        if instance is not None:
            before = {f: getattr(instance, f) for f in form_class._meta.fields if f != "only_for"}
            before["only_for"] = {c.pk for c in instance.only_for.all()}
        data = {
            "code": entry.id,
            "only_for": [str(pk) for pk in entry.only_for],
            "is_active": True,
            "display_order": index,
            **data_of(entry, instance),
            **(extra or {}),
        }
        form = form_class(data, instance=instance)
        if not form.is_valid():
            errors += _form_errors(form, where)
            continue
        forms.append((form, before))
    return forms, errors


def _changes(forms) -> tuple[list, list]:
    """(added, changed): the forms whose entry is new or brought back, and those whose content
    changed (with the fields); an entry the same as before is left alone (nothing rolls out)."""
    added, changed = [], []
    for form, before in forms:
        if before is None or not before["is_active"]:
            added.append(form)
            continue
        data = {**form.cleaned_data, "only_for": {c.pk for c in form.cleaned_data["only_for"]}}
        fields = [name for name, value in before.items() if data[name] != value]
        if fields:
            changed.append((form, fields))
    return added, changed


def _save(groups):
    # (entry, message, its values, the change history's action flag)
    history: list[tuple[Any, str, dict[str, str], int]] = []
    added_ids: list[str] = []
    changed_ids: list[str] = []
    withdrawn_ids: list[str] = []
    for model, forms in groups:
        added, changed = _changes(forms)
        for form in added:
            entry = form.save()
            added_ids.append(entry.code)
            history.append((entry, ADDED, {}, ADDITION))
        for form, fields in changed:
            entry = form.save()
            changed_ids.append(entry.code)
            history.append(
                (entry, CHANGED, {"fields": ", ".join(FIELD_NAMES.get(f, f) for f in fields)}, CHANGE)
            )
        listed = [form.instance.code for form, _before in forms]
        for entry in model.objects.filter(is_active=True).exclude(code__in=listed):
            entry.is_active = False
            entry.save()
            withdrawn_ids.append(entry.code)
            history.append((entry, WITHDRAWN, {}, CHANGE))
    return history, added_ids, changed_ids, withdrawn_ids


def _replace(request, catalogue: str, groups) -> Status:
    """``groups``: (model, [validated forms]) of the catalogue. Saves what differs, withdraws
    what is not listed, records it naming the key, and answers the rollout the saves queued."""
    actor = request.api_key.actor
    try:
        with transaction.atomic():
            history, added_ids, changed_ids, withdrawn_ids = _save(groups)
            # Rolled out with the saves, naming the key's actor (or joining the rollout that waits).
            rollout = catalogue_changed(catalogue, actor) if history else None
    except IntegrityError:  # another replacement added the same id meanwhile
        raise Problem(
            409, "The catalogue changed while this replacement ran; send it again.", kind="catalogue-changed"
        ) from None
    name = "packages" if catalogue == Catalogue.PACKAGES else "exam_papers"
    if rollout is None:
        return Status(
            200,
            ReplaceOut(catalogue=name, changed=False, added=[], updated=[], withdrawn=[], rollout=None),  # type: ignore[arg-type]
        )
    for entry, message, params, flag in history:
        audit.record(actor, [entry], message, params, flag=flag)
    counts = {"added": len(added_ids), "changed": len(changed_ids), "withdrawn": len(withdrawn_ids)}
    audit.record(actor, [rollout], REPLACED, counts)
    return Status(
        202,
        ReplaceOut(
            catalogue=name,  # type: ignore[arg-type]  # packages or exam_papers
            changed=True,
            added=added_ids,
            updated=changed_ids,
            withdrawn=withdrawn_ids,
            rollout=rollout_out(request, rollout),
        ),
    )


def _whole_catalogue_key(request) -> None:
    if request.api_key.tenant_keys:
        raise Problem(
            403,
            "The catalogue is shared by every tenant and a replacement reaches every bound account: "
            "only a key for every tenant may replace it.",
            kind="catalogue-shared",
        )


def _refuse(errors) -> None:
    if errors:
        raise Problem(
            422, "The catalogue is not valid; nothing was changed.", kind="invalid-catalogue", errors=errors
        )


REPLACE_ANSWER = {200: ReplaceOut, 202: ReplaceOut}


def _keep_days(entry, instance) -> int:
    if entry.turnaround_days is not None:
        return entry.turnaround_days
    return (
        instance.turnaround_days
        if instance is not None
        else Package._meta.get_field("turnaround_days").default
    )


@operation(
    router.put,
    "/catalogue/packages",
    "replaceCataloguePackages",
    scope=WRITE,
    summary="Replace the background-check packages and additional items, rolled out to every bound account",
    response=REPLACE_ANSWER,
    write=True,
)
def put_packages(request, data: PackagesIn):
    _whole_catalogue_key(request)
    packages, errors = _validated(
        Package,
        PackageForm,
        data.packages,
        "packages",
        lambda e, instance: {
            "name": e.name,
            "description": e.description,
            "turnaround_days": _keep_days(e, instance),
        },
    )
    items, more = _validated(
        AdditionalItem,
        AdditionalItemForm,
        data.additional_items,
        "additional_items",
        lambda e, instance: {"name": e.name, "description": e.description},
    )
    _refuse(errors + more)
    return _replace(request, Catalogue.PACKAGES, [(Package, packages), (AdditionalItem, items)])


@operation(
    router.put,
    "/catalogue/exam-papers",
    "replaceCatalogueExamPapers",
    scope=WRITE,
    summary="Replace the exam papers, rolled out to every bound exam account",
    response=REPLACE_ANSWER,
    write=True,
)
def put_papers(request, data: PapersIn):
    _whole_catalogue_key(request)
    papers, errors = _validated(
        ExamPaper,
        ExamPaperForm,
        data.papers,
        "papers",
        lambda e, instance: {
            "name": e.name,
            "duration_minutes": e.duration_minutes,
            "question_count": e.question_count,
            "starts_at": e.starts_at,
            "ends_at": e.ends_at,
            "turnaround_days": _keep_days(e, instance),
        },
        extra={"move_scheduled_exams": data.move_scheduled_exams},
    )
    _refuse(errors)
    return _replace(request, Catalogue.PAPERS, [(ExamPaper, papers)])


register(router)
