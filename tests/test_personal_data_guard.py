"""Masked personal data cannot be read back from the admin, tried over HTTP as a curious
colleague in each role would.

Everything is enumerated from the running project: every registered admin
(``admin.site._registry``) that a role may view, every personal field reachable from its model
(``personal_fields`` declarations; on the model and through relations, both ways, two
relations deep), every lookup Django registers for the field's class (and a JSON key's), every
list column, every search, every export. As each role without ``core.view_personal_data``,
the answer to a question about a hidden value must not depend on it: a lookup that matches
gets the same answer as one that does not, a search for an existing mobile or email the same
as for one nobody has, and nothing sorts by a personal field. Rows are planted with known
values in every personal field, generically, so a new field or model is tried as soon as it
is declared; free text holds every way of writing a mobile, an email and an ID number that
``tests/personal_spellings.py`` lists, and none of it shows (free text is hidden whole: not a
word of it).
"""

import itertools
import json
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hireops.core.admin.personal_guard import PersonalDataGuard, orders_by_personal
from hireops.core.privacy import personal
from hireops.events import registry
from hireops.jobs.models import BulkJob
from tests.personal_spellings import SECRETS, SPELLINGS, leaks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quiet_refusals")]

ROLES = (("Vendor operations",), ("HR",), ("HR withdrawals",), ("HR", "HR withdrawals"), ("Auditor",))
DEPTH = 2  # relations followed from an admin's model to a personal field
UNKNOWN_MOBILE, UNKNOWN_EMAIL = "13512340000", "nobody.here@example.org"
NO_MATCH = "zz-no-such-value"
MOBILE_IN_TEXT = re.compile(r"1\d{10}")
_serial = itertools.count(1)


# --- Rows with a known value in every personal field -------------------------------------


class Planted:
    """The mobiles and emails put into personal fields (and into free text), to look for."""

    def __init__(self):
        self.by_field: dict[str, list[str]] = {}  # "app.Model.field" → what it was given
        self.free_text: dict[str, str] = {}  # "app.Model.field" → a word only its free text holds

    def mobile(self, field) -> str:
        return self._keep(field, f"139{next(_serial):08d}")

    def email(self, field) -> str:
        return self._keep(field, f"secret.person{next(_serial)}@example.org")

    def _keep(self, field, value: str) -> str:
        self.by_field.setdefault(f"{field.model._meta.label}.{field.name}", []).append(value)
        return value

    def word(self, field) -> str:
        """A word of no personal meaning, in this field's free text only: hidden whole, it
        shows nowhere either."""
        word = f"typedword{next(_serial):05d}"
        if isinstance(personal.fields_of(field.model)[field.name], personal.FreeText):
            self.free_text[f"{field.model._meta.label}.{field.name}"] = word
        return word

    @property
    def all(self) -> list[str]:
        return [value for values in self.by_field.values() for value in values]

    @property
    def secrets(self) -> list[str]:
        """What no page may show to a role without the permission: the planted mobiles and
        emails, the hidden parts of every spelling, and every word of a free text."""
        return [*self.all, *SECRETS, *self.free_text.values()]

    def reachable(self, model) -> set[str]:
        """What the rows of ``model`` reach through relations (a search could ask about):
        a mobile and an email of each personal path's values."""
        found = set()
        for path, _field, _kind in personal_paths(model):
            for value in model.objects.values_list(path, flat=True)[:5]:
                text = value if isinstance(value, str) else json.dumps(value)
                planted = [v for v in self.all if v in text]
                emails, mobiles = [v for v in planted if "@" in v], [v for v in planted if "@" not in v]
                found.update(emails[:1] + mobiles[:1])
        return found


def personal_value(planted: Planted, field, kind):
    if isinstance(kind, personal.Mobile):
        return planted.mobile(field)
    if isinstance(kind, personal.Email):
        return planted.email(field)
    text = f"{planted.word(field)}: call {planted.mobile(field)} or write to {planted.email(field)}"
    if isinstance(field, models.JSONField):
        mobile = {"code": "86", "number": planted.mobile(field)}
        spelled = [s.text for s in SPELLINGS]
        return {"note": text, "mobile": mobile, "email": planted.email(field), "spelled": spelled}
    return spelled_text(text, field.max_length)


def spelled_text(text: str, max_length: int | None) -> str:
    """``text`` and every spelling of ``SPELLINGS`` after it, as many as the field holds (a
    field of 200 characters holds most; whole-hidden free text shows none of any text)."""
    for spelling in SPELLINGS:
        if not max_length or len(text) + 3 + len(spelling.text) <= max_length:
            text += " / " + spelling.text
    return text


def plain_value(field):
    n = next(_serial)
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return timezone.localdate()
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DecimalField):
        return Decimal(n)
    if isinstance(field, models.IntegerField | models.FloatField):
        return n
    if isinstance(field, models.JSONField):
        return {}
    return f"v{n}"


def make_row(planted: Planted, model, **given):
    """A row of ``model`` with every personal field holding a planted value, and whatever
    else it requires filled in (required relations made the same way)."""
    values = dict(given)
    declared = personal.fields_of(model)
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in values or field.attname in values:
            continue
        kind = declared.get(field.name)
        if kind is not None:
            values[field.name] = personal_value(planted, field, kind)
            if isinstance(kind, personal.Mobile) and kind.code:
                values[kind.code] = "86"
        elif field.is_relation:
            if not field.null:
                values[field.name] = make_row(planted, field.related_model)
        elif not (
            field.has_default()
            or field.null
            or (field.blank and field.empty_strings_allowed)
            or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
        ):
            values[field.name] = plain_value(field)
    return model.objects.create(**values)


@pytest.fixture
def planted(django_user_model):
    """Rows of every model with personal fields, and of the models the admins list them
    through, each linked to a row with planted values; one event per registered type (each
    role sees its own), a change-history entry and a background job of each side."""
    from hireops.events.models import FeishuEvent
    from orders.models import BackgroundCheck, Exam, OrderWrite, WriteKind
    from referrals.models import ReferralAccount, Withdrawal

    p = Planted()
    staff = django_user_model.objects.create_user("planter", is_staff=True)
    account = make_row(p, ReferralAccount, created_by=staff)
    make_row(p, Withdrawal, account=account, external_order_id="order-planted", bonus_types=[1])
    check, exam = make_row(p, BackgroundCheck), make_row(p, Exam)
    make_row(p, OrderWrite, kind=WriteKind.PROGRESS, background_check=check, requested_by=staff)
    make_row(p, OrderWrite, kind=WriteKind.LOGIN, exam=exam, requested_by=staff)
    for claim in registry.claims():
        make_row(p, FeishuEvent, event_id=f"evt-{claim.event_type}", event_type=claim.event_type)
    for obj in (account, check):
        make_row(
            p,
            LogEntry,
            user=staff,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=CHANGE,
        )
    for kind in ("referrals.import", "orders.import_logins"):
        job = BulkJob.objects.create(kind=kind, requested_by=staff)
        make_row(p, job.items.model, job=job, position=1)
    for model in personal.declared_models():  # a model declared later: a row of its own
        if not model.objects.exists():
            make_row(p, model)
    return p


# --- Who views what, and what they are answered ------------------------------------------


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


# {model: the roles that open its list}: found by asking once per process. It follows from
# the roles' permissions alone, which the code declares, and asking costs 200 pages.
_lists_opened: dict = {}
# {(model, role): the number of columns of its list}: read off the same pages, as it follows
# from the same permissions (the sorting test sorts by each column, and asked a page for it).
_columns: dict = {}


@pytest.fixture
def viewers(staff_user):
    """{model: [(role, client)]}: every role that may open the model's list, none of them
    with the personal-data permission."""
    clients = {}
    for roles in ROLES:
        user = staff_user(*roles, username="-".join(roles).lower().replace(" ", "_"))
        assert not personal.can_see_personal_data(user)
        client = Client()
        client.force_login(user)
        clients[" + ".join(roles)] = client
    if not _lists_opened:
        for model in admin.site._registry:
            url = changelist(model)
            opened = {role: c.get(url) for role, c in clients.items()}
            _lists_opened[model] = [role for role, page in opened.items() if page.status_code == 200]
            for role in _lists_opened[model]:
                _columns[model, role] = len(opened[role].context["cl"].list_display)
    return {
        model: [(role, clients[role]) for role in roles] for model, roles in _lists_opened.items() if roles
    }


def answer(client, url, params=None, method="get"):
    """What a request tells: its status and, for a list, which rows in which order."""
    response = getattr(client, method)(url, params or {})
    if response.status_code == 302:
        return 302, response["Location"]
    if response.status_code != 200:
        return (response.status_code,)
    if response.has_header("Content-Disposition"):  # an export
        return 200, b"".join(response.streaming_content) if response.streaming else response.content
    cl = response.context["cl"]
    return 200, cl.result_count, [obj.pk for obj in cl.result_list]


# --- Paths from an admin's model to personal fields ----------------------------------------


def personal_paths(model, depth=DEPTH, prefix="", through=()):
    """[(path, field, kind)] of every personal field reachable from ``model``."""
    found = []
    for field in model._meta.get_fields():
        kind = personal.fields_of(model).get(field.name)
        if kind is not None:
            found.append((prefix + field.name, field, kind))
            if isinstance(field, models.JSONField):  # through a key of it, too
                found.append((f"{prefix}{field.name}__note", field, kind))
        elif field.is_relation and field.related_model and depth and field.related_model not in through:
            found += personal_paths(
                field.related_model, depth - 1, f"{prefix}{field.name}__", (*through, model)
            )
    return found


_rotation = itertools.count()
# Every role asks these wherever the field has them: the lookups Django's admin once answered.
ASKED_EVERYWHERE = frozenset({"startswith", "contains", "icontains", "regex"})


def lookups(field, path: str, first_role: bool = True) -> list[str]:
    """Every lookup on the field itself and through one relation, asked by the first role
    that opens the list. Further away (the guard decides by the path alone) ``startswith``
    and one other; for the other roles (it decides by a permission none of them holds) the
    lookups of ``ASKED_EVERYWHERE`` and one other. The other is a different one each time, in
    turn, so that every lookup is tried there too, without trying them all everywhere: the
    lookup test asks ~5,000 questions instead of ~10,000, each a whole admin request. The
    export test asks the same way: every lookup for a model's first export, a sample for the
    others (the other format, the other roles)."""
    every = sorted({*field.get_lookups(), "regex"})
    turn = every[next(_rotation) % len(every)]
    if path.removesuffix("__note").count("__") > 1:
        return sorted({"startswith", turn})
    if first_role:
        return every
    return sorted({*(ASKED_EVERYWHERE & set(every)), turn})


def probe(model, path: str, field):
    """(the hidden value the path reaches from a listed row, a mobile or email in it)."""
    value = model.objects.exclude(**{f"{path}__isnull": True}).values_list(path, flat=True).first()
    if value is None:
        value = field.model.objects.values_list(field.name, flat=True).first()
    text = value if isinstance(value, str) else json.dumps(value)
    found = MOBILE_IN_TEXT.search(text)
    return text, found.group() if found else text


def matching_and_not(lookup: str, text: str, inner: str) -> tuple[str, str]:
    """A value for ``?path__lookup=`` that the hidden value matches, and one it does not."""
    pairs = {
        "exact": (text, UNKNOWN_MOBILE),
        "iexact": (text.upper(), UNKNOWN_MOBILE),
        "in": (text, UNKNOWN_MOBILE),
        "contains": (inner[2:9], NO_MATCH),
        "icontains": (inner[2:9], NO_MATCH),
        "startswith": (text[:4], NO_MATCH),
        "istartswith": (text[:4].upper(), NO_MATCH),
        "endswith": (text[-4:], NO_MATCH),
        "iendswith": (text[-4:].upper(), NO_MATCH),
        "regex": (re.escape(inner[:6]), f"^{NO_MATCH}$"),
        "iregex": (re.escape(inner[:6]), f"^{NO_MATCH}$"),
        "gt": (" ", "~~~~"),
        "gte": (" ", "~~~~"),
        "lt": ("~~~~", " "),
        "lte": ("~~~~", " "),
        "range": (" ,~~~~", "~~~~,~~~~"),
        "isnull": ("False", "True"),
        "has_key": ("note", NO_MATCH),
        "has_keys": ("note", NO_MATCH),
        "has_any_keys": ("note", NO_MATCH),
        "contained_by": (text, "{}"),
    }
    return pairs.get(lookup, (inner, NO_MATCH))


# --- The project's rule ---------------------------------------------------------------------


def test_every_registered_admin_has_the_guard_first():
    """Whatever an admin (ours or a library's) overrides, the guard's methods are the ones
    called: the site puts it in front of each at registration."""
    guard_methods = [n for n, v in vars(PersonalDataGuard).items() if callable(v) and not n.startswith("__")]
    assert "lookup_allowed" in guard_methods and "get_search_results" in guard_methods
    for model, model_admin in admin.site._registry.items():
        for name in guard_methods:
            assert getattr(type(model_admin), name) is getattr(PersonalDataGuard, name), (model, name)
    reaching = {m for m in admin.site._registry if personal_paths(m)}
    assert {"referrals.ReferralAccount", "referrals.Withdrawal", "orders.BackgroundCheck"} <= {
        m._meta.label for m in reaching
    }


def test_the_declarations_cover_the_known_personal_fields():
    declared = {(m._meta.label, name) for m in personal.declared_models() for name in personal.fields_of(m)}
    assert {
        ("referrals.ReferralAccount", "mobile_number"),
        ("referrals.ReferralAccount", "email"),
        ("orders.BackgroundCheck", "candidate_mobile"),
        ("orders.BackgroundCheck", "comment"),
        ("orders.Exam", "candidate_email"),
        ("events.FeishuEvent", "payload"),
        ("admin.LogEntry", "change_message"),
    } <= declared


# --- Lookups in the URL ---------------------------------------------------------------------


# Questions Django's admin answered before the guard (a superuser's answers tell them apart).
LEAKED = {
    ("referrals.ReferralAccount", "mobile_number", "startswith"),
    ("referrals.ReferralAccount", "email", "startswith"),
    ("orders.BackgroundCheck", "candidate_mobile", "startswith"),
    ("orders.BackgroundCheck", "candidate_mobile", "contains"),  # regex: refused for all now
    ("events.FeishuEvent", "payload", "icontains"),
}


# Refused (400) to a role, and checked to be: questions that told a match from a miss once.
KNOWN_REFUSALS = {
    ("referrals.ReferralAccount", "mobile_number", "startswith", "HR"),
    ("referrals.ReferralAccount", "email", "startswith", "HR"),
    ("referrals.Withdrawal", "account__mobile_number", "startswith", "HR"),
    ("orders.BackgroundCheck", "candidate_mobile", "startswith", "Vendor operations"),
    ("orders.BackgroundCheck", "candidate_mobile", "regex", "Vendor operations"),
    ("events.FeishuEvent", "payload", "icontains", "Auditor"),
}


def reaching_personal_data() -> list:
    """pytest params of every registered admin whose model reaches a personal field: one test
    each, so that the enumeration runs side by side in a parallel run and no single test holds
    thousands of requests."""
    models = sorted((m for m in admin.site._registry if personal_paths(m)), key=lambda m: m._meta.label)
    return [pytest.param(model, id=model._meta.label) for model in models]


def roles_opening(viewers, model) -> list:
    roles = viewers.get(model)
    if not roles:
        pytest.skip(f"no role without the personal-data permission opens {model._meta.label}'s list")
    return roles


def test_every_list_known_to_have_leaked_is_tried():
    """Not vacuous: the models below are among those the lookup and search tests enumerate."""
    tried = {param.values[0]._meta.label for param in reaching_personal_data()}
    assert {label for label, *_ in KNOWN_REFUSALS} | {label for label, *_ in LEAKED} <= tried
    assert {"core.ChangeHistoryEntry"} <= tried


@pytest.mark.parametrize("model", reaching_personal_data())
def test_no_lookup_on_a_personal_field_answers_differently_for_a_match(model, planted, viewers, admin_client):
    label, url = model._meta.label, changelist(model)
    tried, asked = set(), set()
    for path, field, _kind in personal_paths(model):
        text, inner = probe(model, path, field)
        for n, (role, client) in enumerate(roles_opening(viewers, model)):
            for lookup in lookups(field, path, first_role=n == 0):
                match, other = matching_and_not(lookup, text, inner)
                param = f"{path}__{lookup}"
                hit, miss = answer(client, url, {param: match}), answer(client, url, {param: other})
                assert hit == miss, f"{role}: {url}?{param}= tells a match from a miss: {hit} / {miss}"
                tried.add((label, path, lookup, role, hit[0]))
        for leaked_label, leaked_path, lookup in LEAKED:  # each pair asks a real question
            if (leaked_label, leaked_path) == (label, path):
                match, other = matching_and_not(lookup, text, inner)
                param = f"{path}__{lookup}"
                superuser = [answer(admin_client, url, {param: value}) for value in (match, other)]
                assert superuser[0] != superuser[1], (url, param)
                asked.add((label, path, lookup))
    assert {k for k in KNOWN_REFUSALS if k[0] == label} <= {t[:4] for t in tried if t[4] == 400}
    assert asked == {leaked for leaked in LEAKED if leaked[0] == label}


# --- Search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", reaching_personal_data())
def test_a_search_for_an_existing_mobile_or_email_answers_as_for_one_nobody_has(model, planted, viewers):
    tried = set()
    url = changelist(model)
    for role, client in roles_opening(viewers, model):
        nobody = {
            False: answer(client, url, {"q": UNKNOWN_MOBILE}),
            True: answer(client, url, {"q": UNKNOWN_EMAIL}),
        }
        for secret in sorted(planted.reachable(model)):
            found = answer(client, url, {"q": secret})
            assert found == nobody["@" in secret], f"{role}: {url}?q={secret} confirms it: {found}"
            tried.add((role, secret))
    account = planted.by_field["referrals.ReferralAccount.mobile_number"][0]
    email = planted.by_field["referrals.ReferralAccount.email"][0]
    check = planted.by_field["orders.BackgroundCheck.candidate_mobile"][0]
    expected = {
        "referrals.ReferralAccount": {("HR", account), ("HR", email)},
        "referrals.Withdrawal": {("HR", account)},
        "orders.BackgroundCheck": {("Vendor operations", check)},
        "core.ChangeHistoryEntry": {("Auditor", email)},
    }
    assert expected.get(model._meta.label, set()) <= tried


def test_who_may_see_personal_data_keeps_the_exact_search_by_mobile_and_email(
    planted, client, staff_user, admin_client
):
    from referrals.models import ReferralAccount

    account = ReferralAccount.objects.get()
    client.force_login(staff_user("HR", username="hr-dpo", perms=[personal.PERMISSION]))
    url = changelist(ReferralAccount)
    for who in (client, admin_client):
        for term in (account.mobile_number, account.email, account.email.upper()):
            assert answer(who, url, {"q": term})[1:] == (1, [account.pk])
        assert answer(who, url, {"q": UNKNOWN_MOBILE})[1:] == (0, [])


# --- Sorting ----------------------------------------------------------------------------------


def personal_ordering(response) -> list:
    cl = response.context["cl"]
    return [o for o in cl.queryset.query.order_by if orders_by_personal(cl.model, o)]


def test_no_list_sorts_by_a_personal_field(planted, viewers, admin_client):
    from referrals.models import ReferralAccount

    def every_column(count: int) -> str:  # ?o=0.1.2…: sorted by each column in turn, at once
        return ".".join(str(i) for i in range(count))

    lists = 0
    for model, roles in viewers.items():
        url = changelist(model)
        for role, client in roles:
            columns = every_column(_columns[model, role])
            for o in (columns, "-" + columns.replace(".", ".-")):
                response = client.get(url, {"o": o})
                assert response.status_code == 200
                assert not personal_ordering(response), (
                    f"{role}: {url}?o={o} sorts by {personal_ordering(response)}"
                )
            lists += 1
    assert lists >= len(viewers)
    # The known case: the accounts' mobile and email columns sort for those who see them, only.
    url = changelist(ReferralAccount)
    everything = {"o": every_column(len(admin_client.get(url).context["cl"].list_display))}
    assert personal_ordering(admin_client.get(url, everything)) == ["mobile_number", "email"]
    assert "sortable column-mobile_number" in admin_client.get(url).content.decode()
    [hr] = [c for r, c in viewers[ReferralAccount] if r == "HR"]
    assert "sortable column-mobile_number" not in hr.get(url).content.decode()


# --- Exports ----------------------------------------------------------------------------------


def exports(listing) -> list[str]:
    """The export actions a list's page (a response) offers its reader."""
    actions = listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    return [name for name in actions if name.startswith("export_")]


def test_an_export_filtered_by_a_personal_field_answers_as_unfiltered(planted, viewers):
    tried = set()
    for model, roles in viewers.items():
        url = changelist(model)
        asked = 0  # exports asked about this model: the first one every lookup, the others a sample
        for role, client in roles:
            for action in exports(client.get(url)):
                asked += 1
                everything = {"action": action, "select_across": "1", "index": "0", "_selected_action": "0"}
                whole = client.post(url, everything)
                assert whole.status_code == 200
                content = b"".join(whole.streaming_content) if whole.streaming else whole.content
                leaked = leaks(content, planted.secrets)  # an .xlsx read from its zipped cells
                assert not leaked, f"{role}: {action} of {url} holds {leaked}"
                for path, field, _kind in personal_paths(model):
                    text, inner = probe(model, path, field)
                    for lookup in lookups(field, path, first_role=asked == 1):
                        match, other = matching_and_not(lookup, text, inner)
                        query = f"{url}?{path}__{lookup}="
                        hit = answer(client, query + match, everything, "post")
                        assert hit == answer(client, query + other, everything, "post"), (role, action, query)
                        tried.add((model._meta.label, action, path, role, hit[0]))
    assert {
        ("referrals.ReferralAccount", "export_csv", "mobile_number", "HR", 400),
        ("referrals.ReferralAccount", "export_xlsx", "email", "HR", 400),
        ("referrals.Withdrawal", "export_csv", "account__mobile_number", "HR", 400),
    } <= tried


# --- What pages show ----------------------------------------------------------------------


def test_no_page_shows_a_hidden_value(planted, viewers):
    """Each list (with its filters' choices and counts), and each listed row's page and
    history, as each role: no planted mobile or email in full, anywhere in the HTML."""
    pages = 0
    for model, roles in viewers.items():
        url = changelist(model)
        for role, client in roles:
            listing = client.get(url, {"_facets": "1"})
            urls = [url]
            name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            for obj in listing.context["cl"].result_list[:3]:
                urls += [reverse(f"{name}_{view}", args=[obj.pk]) for view in ("change", "history")]
            for page in [listing, *(client.get(u) for u in urls[1:])]:
                assert page.status_code == 200, (role, page.wsgi_request.path)
                leaked = leaks(page.content.decode(), planted.secrets)
                assert not leaked, f"{role}: {page.wsgi_request.get_full_path()} shows {leaked}"
                pages += 1
    assert pages > 2 * len(viewers)


def test_free_text_is_hidden_whole_on_every_page_and_in_every_export(planted, viewers, admin_client):
    """Every field declared free text, on every list, change page and export a role without
    the permission opens: not a word of it (each holds a word of no meaning, found nowhere),
    and on a page that shows the field, what stands for it. A superuser reads the word."""
    assert {
        "orders.BackgroundCheck.comment",
        "events.FeishuEvent.payload",
        "admin.LogEntry.change_message",
    } <= set(planted.free_text)
    words = list(planted.free_text.values())
    shown_hidden = set()
    for model, roles in viewers.items():
        free = [n for n, k in personal.fields_of(model).items() if isinstance(k, personal.FreeText)]
        url = changelist(model)
        for role, client in roles:
            listing = client.get(url)
            name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            pages = [listing.content] + [
                client.get(reverse(f"{name}_change", args=[obj.pk])).content
                for obj in listing.context["cl"].result_list[:3]
            ]
            for action in exports(listing):
                everything = {"action": action, "select_across": "1", "index": "0", "_selected_action": "0"}
                answer = client.post(url, everything)
                pages.append(b"".join(answer.streaming_content) if answer.streaming else answer.content)
            for page in pages:
                assert not leaks(page, words), f"{role}: {url} shows free text"
            if free and personal.HIDDEN.encode() in b"".join(pages[1:]):
                shown_hidden.add(model._meta.label)
    assert {"orders.BackgroundCheck", "events.FeishuEvent", "core.ChangeHistoryEntry"} <= shown_hidden
    from orders.models import BackgroundCheck

    check = BackgroundCheck.objects.get()
    full = admin_client.get(reverse("admin:orders_backgroundcheck_change", args=[check.pk])).content.decode()
    assert planted.free_text["orders.BackgroundCheck.comment"] in full


def test_pages_show_personal_fields_masked_and_read_only(planted, viewers, admin_client):
    from orders.models import BackgroundCheck
    from referrals.models import ReferralAccount

    account = ReferralAccount.objects.get()
    [hr] = [c for r, c in viewers[ReferralAccount] if r == "HR"]
    page = hr.get(reverse("admin:referrals_referralaccount_change", args=[account.pk])).content.decode()
    assert f"+86 {account.mobile_number[:3]}****{account.mobile_number[-4:]}" in page
    assert f"{account.email[0]}***@example.org" in page
    assert 'name="mobile_number"' not in page and 'name="email"' not in page  # no input holds them
    check = BackgroundCheck.objects.get()
    [vendor] = [c for r, c in viewers[BackgroundCheck] if r == "Vendor operations"]
    page = vendor.get(reverse("admin:orders_backgroundcheck_change", args=[check.pk])).content.decode()
    # The comment and the form's values are free text: hidden whole, the values' keys kept.
    assert personal.HIDDEN in page and check.comment.split(":")[0] not in page
    assert "&quot;note&quot;: &quot;(hidden: personal data)&quot;" in page
    # Why it was canceled reads as written, its mobile, email and ID numbers masked.
    assert "call 139****" in page and "write to s***@example.org" in page
    assert "/ 139 **** 1357 / 139-****-2460 / +86 139****5791 /" in page
    full = admin_client.get(reverse("admin:orders_backgroundcheck_change", args=[check.pk])).content.decode()
    assert check.comment in full and check.cancel_reason in full and f"+86 {check.candidate_mobile}" in full


# --- A new admin that forgets: the guard still holds ----------------------------------------


class ByMobilePrefix(admin.SimpleListFilter):
    title, parameter_name = "mobile prefix", "prefix"

    def lookups(self, request, model_admin):
        return [("139", "139")]

    def queryset(self, request, queryset):
        return queryset.filter(mobile_number__startswith=self.value()) if self.value() else queryset


class CarelessAccountAdmin(admin.ModelAdmin):
    """Written without a thought for personal data."""

    change_list_template = "admin/change_list.html"  # not the accounts' own (its import link)
    list_display = ("name", "mobile_number", "email", "emailed")
    list_filter = (ByMobilePrefix, "email")
    search_fields = ("name", "email")

    @admin.display(ordering="email")
    def emailed(self, obj):
        return "yes"

    def get_search_results(self, request, queryset, search_term):
        return queryset.filter(models.Q(name__icontains=search_term) | models.Q(email=search_term)), False


def _probe_urls():
    from django.urls import path

    from config.urls import urlpatterns as project
    from hireops.core.admin.site import AdminSite
    from referrals.models import ReferralAccount

    site = AdminSite(name="probe")
    site.register(ReferralAccount, CarelessAccountAdmin)
    return [path("probe/", site.urls), *project]


urlpatterns = _probe_urls()  # this module is the URLconf of the test below


@pytest.mark.urls(__name__)
def test_a_new_admin_that_forgets_personal_data_is_guarded_all_the_same(planted, client, staff_user):
    from referrals.models import ReferralAccount

    account = ReferralAccount.objects.get()
    url = "/probe/referrals/referralaccount/"
    client.force_login(staff_user("HR"))
    listing = client.get(url)
    assert listing.status_code == 200 and not leaks(listing.content.decode(), planted.secrets)
    filters = [spec.title for spec in listing.context["cl"].filter_specs]
    assert filters == ["mobile prefix"]  # not the emails' list
    prefix = account.mobile_number[:5]
    assert answer(client, url, {"prefix": prefix}) == answer(client, url, {"prefix": "000"}) == (400,)
    assert answer(client, url, {"q": account.email}) == answer(client, url, {"q": UNKNOWN_EMAIL})
    assert answer(client, url, {"email": account.email}) == (400,)
    assert not personal_ordering(client.get(url, {"o": "1.2.3"}))
    headers = listing.content.decode()
    assert "sortable column-name" in headers
    assert not [c for c in ("mobile_number", "email", "emailed") if f"sortable column-{c}" in headers]

    client.force_login(staff_user("HR", username="hr-dpo", perms=[personal.PERMISSION]))
    assert answer(client, url, {"prefix": account.mobile_number[:5]})[1:] == (1, [account.pk])
    assert answer(client, url, {"q": account.email})[1:] == (1, [account.pk])
    assert personal_ordering(client.get(url, {"o": "3"})) == ["email"]


def test_the_exam_login_form_prefills_only_what_its_user_may_see(planted, viewers, admin_client):
    from orders.models import Exam

    exam = Exam.objects.get()
    url = reverse("admin:orders_exam_login", args=[exam.pk])
    [vendor] = [c for r, c in viewers[Exam] if r == "Vendor operations"]
    page = vendor.get(url).content.decode()
    assert not leaks(page, planted.secrets)  # a hidden login would be sent back as shown
    assert exam.exam_username in admin_client.get(url).content.decode()
    # The login is free text, hidden whole whatever it holds: never prefilled for the vendor.
    Exam.objects.filter(pk=exam.pk).update(exam_username="wang2")
    assert 'value="wang2"' not in vendor.get(url).content.decode()
    assert 'value="wang2"' in admin_client.get(url).content.decode()
