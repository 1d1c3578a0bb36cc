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
admin edit does (``orders.catalogue.services.catalogue_changed``: one ``CatalogueRollout``, each bound account
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

from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from bindings.models import VendorCustomer
from hireops.api.pagination import page
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Page
from hireops.api.scopes import declare
from hireops.api.site import operation, register
from hireops.core.models import CallStatus

from ..catalogue.forms import AdditionalItemForm, ExamPaperForm, PackageForm
from ..catalogue.models import (
    AdditionalItem,
    Catalogue,
    CataloguePush,
    CatalogueRollout,
    ExamPaper,
    Package,
)
from ..catalogue.services import FIELD_NAMES, ReplacedMeanwhile, catalogue_replace, entry_state
from .catalogue_schemas import (
    CATALOGUE_NAME,
    STATUS,
    AdditionalItemOut,
    PackageOut,
    PackagesIn,
    PackagesOut,
    PaperOut,
    PapersIn,
    PapersOut,
    PushCounts,
    PushFilters,
    PushOut,
    ReplaceOut,
    RolloutOut,
    RolloutState,
)

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
        before = entry_state(instance, form_class._meta.fields)
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


def _replace(request, catalogue: str, groups) -> Status:
    """``groups``: (model, [(validated form, the entry's state before)]) of the catalogue,
    replaced by the catalogue's service naming the key; the answer is the rollout it queued."""
    try:
        done = catalogue_replace(catalogue, groups, request.api_key.actor)
    except ReplacedMeanwhile:
        raise Problem(
            409,
            "The catalogue changed while this replacement ran (another replacement added one of its"
            " ids, or a customer it names was deleted); send it again with a new Idempotency-Key.",
            kind="catalogue-changed",
        ) from None
    name = "packages" if catalogue == Catalogue.PACKAGES else "exam_papers"
    if done.rollout is None:
        return Status(
            200,
            ReplaceOut(catalogue=name, changed=False, added=[], updated=[], withdrawn=[], rollout=None),  # type: ignore[arg-type]
        )
    return Status(
        202,
        ReplaceOut(
            catalogue=name,  # type: ignore[arg-type]  # packages or exam_papers
            changed=True,
            added=done.added,
            updated=done.changed,
            withdrawn=done.withdrawn,
            rollout=rollout_out(request, done.rollout),
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
