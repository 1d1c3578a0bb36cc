"""However a person writes a mobile, an email or a resident ID number (grouped with spaces or
dashes, with +86, in full-width characters), no place shows it to a reader who may not see
personal data: the admin's order pages and lists as Vendor operations, an export (the answer,
and a background job's file), a log line, the API and a webhook's data without the
personal-data scope, the change history. Each place is tried with each spelling
(``tests/personal_spellings.py``), and shown to a reader who may see it, to prove the place
does hold it. What only looks like personal data (Feishu's ids, amounts, dates) stays readable.
"""

import io
import json
import logging
import logging.config
import unicodedata

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils.log import configure_logging

from hireops import outbound
from hireops.core import audit
from hireops.core.logs.formatting import logging_config
from hireops.core.privacy import masking, personal
from hireops.core.privacy.masking import mask_personal_text
from hireops.core.privacy.scrubbing import scrub, scrub_text
from hireops.jobs.models import ExportJob
from hireops.webhooks import endpoints
from hireops.webhooks import events as webhook_events
from hireops.webhooks.models import WebhookEvent
from orders.intake import background_check_created
from orders.models import OrderWrite, WriteKind
from referrals.models import ReferralAccount
from referrals.rewards.services import REWARD_DELETE_REQUESTED
from tests.api.keys import bearer, make_key
from tests.factories import a_background_check, a_reward_row, an_exam
from tests.personal_spellings import NOT_PERSONAL, SPELLINGS, leaks, readable

# --- The patterns themselves ------------------------------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS, ids=[s.text for s in SPELLINGS])
def test_each_spelling_is_masked_where_it_is_written_keeping_what_is_around_it(spelling):
    for text in (spelling.text, f"请联系{spelling.text}，谢谢", f"call ({spelling.text}) today"):
        masked = mask_personal_text(text)
        assert not leaks(masked, spelling.hidden), masked
        assert masked == text.replace(spelling.text, spelling.masked)
        assert scrub_text(text) == masked  # what a log line and an error report keep
        assert scrub({"note": text}) == {"note": masked}


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_ids_amounts_and_dates_stay_readable(text):
    for line in (text, f"order {text} done", f"订单{text}已完成", f"id: {text}, ", f"[{text}]"):
        assert mask_personal_text(line) == line
        assert scrub_text(line) == line


def test_a_line_of_everything_not_personal_is_kept_whole_and_its_personal_parts_masked():
    plain = " ".join(NOT_PERSONAL)
    mixed = " ".join(f"{a} {s.text}" for a, s in zip(NOT_PERSONAL, SPELLINGS, strict=False))
    assert mask_personal_text(plain) == plain
    masked = mask_personal_text(mixed)
    assert not leaks(masked)
    assert all(a in masked for a in NOT_PERSONAL[: len(SPELLINGS)])


def test_the_mask_keeps_the_country_code_and_the_width_as_written():
    assert mask_personal_text("+86 13911112222") == "+86 139****2222"
    assert mask_personal_text("电话：１３９１２３４５６７８") == "电话：１３９****５６７８"
    assert mask_personal_text("zhou.ba＠corp.example") == "z***＠corp.example"
    # A mobile used as an address is masked as an address, once.
    assert mask_personal_text("13912345678@qq.com") == "1***@qq.com"
    # What is masked already is left as it is: masking twice changes nothing.
    for spelling in SPELLINGS:
        assert mask_personal_text(spelling.masked) == spelling.masked


def test_a_line_without_a_digit_or_an_at_sign_is_looked_at_once(monkeypatch):
    """The common log line costs one scan for a digit or an at sign: the patterns are never
    tried on it (they are replaced here by ones that fail if they are)."""

    class Untouchable:
        def finditer(self, text):
            raise AssertionError(f"the patterns were tried on {text!r}")

        search = finditer

    for name in ("_FIND_ALL", "_FIND_NUMBERS", "_WIDE"):
        monkeypatch.setattr(masking, name, Untouchable())
    for line in ("GET /admin/orders/ status ok", "候选人已接受邀请，等待背调结果", "", "（全角括号）：完成"):
        assert mask_personal_text(line) == line


def test_a_line_with_full_width_punctuation_only_is_not_normalised(monkeypatch):
    """Chinese prose's full-width comma and colon are no part of a number: a line with digits
    and those alone is matched as it is, without a copy."""
    calls = []
    monkeypatch.setattr(
        masking, "_NORMAL", type("Table", (dict,), {"__missing__": lambda s, c: calls.append(c)})()
    )
    line = "订单 6931286400470354183 已完成，耗时 12 毫秒"
    assert mask_personal_text(line) == line and calls == []


# --- Every place, every spelling ----------------------------------------------------------------


@pytest.fixture
def readers(
    staff_user, admin_client, client, monkeypatch, settings, tmp_path, django_capture_on_commit_callbacks
):
    """Clients: Vendor operations, HR and Auditor without the personal-data permission, one HR
    with it, the superuser (who may see everything), and one signed in as nobody (for the API);
    and what the places need of the test (its settings, exports written under its directory)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }

    def client_of(*roles, perms=()):
        client = Client()
        user = staff_user(
            *roles, username="-".join(roles).lower().replace(" ", "_") + str(len(perms)), perms=perms
        )
        assert personal.can_see_personal_data(user) == bool(perms)
        client.force_login(user)
        return client

    return {
        "vendor": client_of("Vendor operations"),
        "hr": client_of("HR"),
        "auditor": client_of("Auditor"),
        "hr_dpo": client_of("HR", perms=[personal.PERMISSION]),
        "superuser": admin_client,
        "anonymous": client,
        "monkeypatch": monkeypatch,
        "settings": settings,
        "on_commit": django_capture_on_commit_callbacks,
    }


def _pages(client, urls) -> str:
    pages = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages.append(response.content.decode())
    return "\n".join(pages)


def _orders(text):
    """A background check and an exam with ``text`` in every free text an order has."""
    check = a_background_check(
        comment=f"请联系 {text}",
        custom_field_values=[{"key": "contact", "value": text}],
        cancel_reason=f"候选人 {text} 放弃",
    )
    exam = an_exam(exam_username=text, exam_url=f"https://exam.example.com/{text}")
    write = OrderWrite.objects.create(
        exam=exam, kind=WriteKind.LOGIN, exam_username=text, payload={"exam_login_info": {"username": text}}
    )
    return check, exam, write


def order_pages(text, readers):
    check, exam, write = _orders(text)
    urls = [
        reverse("admin:orders_backgroundcheck_change", args=[check.pk]),
        reverse("admin:orders_exam_change", args=[exam.pk]),
        reverse("admin:orders_orderwrite_change", args=[write.pk]),
    ]
    return _pages(readers["vendor"], urls), _pages(readers["superuser"], urls)


def order_lists(text, readers):
    """The lists, a search's results and the dashboard: no free text is a column, and none
    shows through a search."""
    check, exam, _write = _orders(text)
    urls = [
        reverse("admin:orders_backgroundcheck_changelist"),
        reverse("admin:orders_backgroundcheck_changelist") + f"?q={check.background_check_id}",
        reverse("admin:orders_exam_changelist") + f"?q={exam.exam_id}",
        reverse("admin:orders_orderwrite_changelist"),
        reverse("admin:index"),
    ]
    return _pages(readers["vendor"], urls), None


def _export(readers, who: str, action: str, inline_max: int) -> bytes:
    """The file an export gives ``who``: the answer itself, or (past ``inline_max`` rows) the
    file a background job wrote for them, downloaded from its page."""
    client, url = readers[who], reverse("admin:referrals_referralaccount_changelist")
    readers["settings"].EXPORT_INLINE_MAX = inline_max
    pks = list(ReferralAccount.objects.values_list("pk", flat=True))
    with readers["on_commit"](execute=True):  # a background export's task runs once committed
        response = client.post(url, {"action": action, "_selected_action": pks})
    assert response.status_code == (302 if inline_max == 0 else 200)
    if response.status_code == 302:
        job = ExportJob.objects.filter(requested_by=response.wsgi_request.user).latest("pk")
        response = client.get(reverse("admin:jobs_exportjob_download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def exports(text, readers):
    """The referral accounts' CSV and Excel exports, as the answer and as a background job's
    file, ``text`` in the mobile or email column."""
    column = "email" if "@" in unicodedata.normalize("NFKC", text) else "mobile_number"
    ReferralAccount.objects.create(name="王芳", account_id="acc-spelled", mobile_code="", **{column: text})
    ways = [(action, inline_max) for action in ("export_csv", "export_xlsx") for inline_max in (1000, 0)]
    restricted = [readable(_export(readers, "hr", *way)) for way in ways]
    permitted = [readable(_export(readers, "hr_dpo", *way)) for way in ways]
    return "\n".join(restricted), "\n".join(permitted)


def log_lines(text, readers):
    """A line through the logging configuration, in each format: the message, an extra field,
    an exception's text."""
    written = []
    for log_format in ("plain", "json"):
        logging.config.dictConfig(logging_config(log_format, "INFO"))
        [console] = logging.getLogger().handlers
        console.setStream(buffer := io.StringIO())
        try:
            log = logging.getLogger("hireops.test")
            log.warning("candidate %s called", text, extra={"note": f"call {text}"})
            try:
                raise RuntimeError(f"Feishu refused {text}")
            except RuntimeError:
                log.exception("failed")
        finally:
            configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
        output = buffer.getvalue()
        if log_format == "json":  # each line read back: a JSON escape hides nothing
            output = "\n".join(
                json.dumps(json.loads(line), ensure_ascii=False) for line in output.splitlines()
            )
        written.append(output)
    return "\n".join(written), None


def api_answers(text, readers):
    check, exam, _write = _orders(text)
    reward = a_reward_row(reason=f"推荐 {text}", comment=text, delete_reason=text)
    paths = [
        f"/api/v1/orders/bgc_{check.pk}",
        f"/api/v1/orders/exam_{exam.pk}",
        "/api/v1/orders",
        f"/api/v1/referral-rewards/{reward.pk}",
    ]

    def answers(*scopes):
        key = make_key(*scopes)
        found = []
        for path in paths:
            response = readers["anonymous"].get(path, **bearer(key))
            assert response.status_code == 200, (path, response.content)
            found.append(json.dumps(response.json(), ensure_ascii=False))
        return "\n".join(found)

    restricted = answers("orders:read", "referrals:read")
    permitted = answers("orders:read", "orders:personal_data", "referrals:read", "referrals:personal_data")
    assert personal.HIDDEN in restricted
    return restricted, permitted


def webhook_data(text, readers):
    """An order placed in Feishu, told to an endpoint without the personal-data scope: the
    event's data, the body sent, and the admin's page of the event (as staff read it)."""
    readers["monkeypatch"].setattr(outbound.Outbound, "send", lambda self, pk: None)  # nothing sent
    plain, _ = endpoints.create(url="https://partner.example.com/hooks", scopes=["orders:read"])
    full, _ = endpoints.create(
        url="https://partner.example.com/full", scopes=["orders:read", "orders:personal_data"]
    )
    event = {
        "background_check_id": "bgc-spelled",
        "account_id": "7300000000000000101",
        "package_id": "pkg-1",
        "comment": f"请联系 {text}",
        "custom_field_list": [{"key": "contact", "value": text}],
        "candidate_info": {"name": "王小明", "mobile": {"code": "86", "number": "13812345678"}},
    }
    background_check_created(app_id="cli_test", tenant_key="t1", event_id="ev-spelled", event=event)
    sent = WebhookEvent.objects.get(type="order.created")
    page = readers["superuser"].get(reverse("admin:webhooks_webhookevent_change", args=[sent.pk]))
    assert page.status_code == 200
    restricted = [
        json.dumps(sent.data, ensure_ascii=False),
        webhook_events.payload(sent, plain).decode(),
        page.content.decode(),
    ]
    return "\n".join(restricted), webhook_events.payload(sent, full).decode()


def change_history(text, readers):
    """A reason typed with an action, in the history of its object and the change history."""
    reward = a_reward_row()
    audit.record(
        get_user_model().objects.get(username="admin"), [reward], REWARD_DELETE_REQUESTED, {"reason": text}
    )
    urls = [
        reverse("admin:referrals_externalreferralreward_history", args=[reward.pk]),
        reverse("admin:core_changehistoryentry_changelist"),
    ]
    restricted = _pages(readers["hr"], urls[:1]) + _pages(readers["auditor"], urls[1:])
    return restricted, _pages(readers["superuser"], urls)


PLACES = {
    "order pages": order_pages,
    "order lists": order_lists,
    "exports": exports,
    "log lines": log_lines,
    "api": api_answers,
    "webhook data": webhook_data,
    "change history": change_history,
}


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", SPELLINGS, ids=[s.text for s in SPELLINGS])
@pytest.mark.parametrize("place", PLACES)
def test_no_place_shows_any_spelling_to_a_reader_who_may_not_see_it(place, spelling, readers):
    show = PLACES[place]
    restricted, permitted = show(spelling.text, readers)
    assert not leaks(restricted, spelling.hidden), f"{place} shows {spelling.text}"
    if permitted is not None:  # the place does hold it: it shows it to whom may see it
        assert leaks(permitted, spelling.hidden) == list(spelling.hidden), f"{place} lost {spelling.text}"
    if show is log_lines:  # a log keeps the rest of the line, and the number masked as written
        assert unicodedata.normalize("NFKC", spelling.masked) in readable(restricted)


@pytest.mark.django_db
def test_the_reason_an_order_was_canceled_stays_readable_with_its_numbers_masked(readers):
    """Why Feishu's customer canceled is text about the order: Vendor operations read it, the
    mobile in it masked, the ids and dates in it whole."""
    ids = " ".join(NOT_PERSONAL)
    check = a_background_check(cancel_reason=f"候选人 139 2468 1357 放弃 {ids}")
    page = readers["vendor"].get(reverse("admin:orders_backgroundcheck_change", args=[check.pk]))
    shown = readable(page.content)
    assert "候选人 139 **** 1357 放弃" in shown and ids in shown
    answer = Client().get(f"/api/v1/orders/bgc_{check.pk}", **bearer(make_key("orders:read"))).json()
    assert answer["cancel_reason"] == f"候选人 139 **** 1357 放弃 {ids}"  # the admin's and the API's alike
