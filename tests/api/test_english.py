"""The API answers in English whatever language a partner's client asks for: its middleware runs
every /api/v1/ request in English (stored messages, refusals and the admin's words render in the
active language), so no operation sets the language itself. Enumerated: every operation in the
document is called with Chinese asked for in both places Django reads it from (Accept-Language
and the language cookie), with a valid request where it reads one, and its own code runs in
English; a new operation is covered without a test of its own."""

import json

import pytest
from django.utils import translation
from ninja.operation import Operation

from hireops.api.scopes import all_scopes
from hireops.api.served import api
from tests.second_factor import give_totp

from .keys import bearer, make_key
from .test_every_operation import OPERATIONS, PARAM, bodies, call, examples, url_of

pytestmark = pytest.mark.django_db

TENANT = "tenant-a"
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans,zh;q=0.9"}
OPERATION_IDS = {op["operationId"] for _method, _path, op in OPERATIONS}


@pytest.fixture
def languages(monkeypatch):
    """Operation id -> the language active while the operation's own function ran."""
    seen: dict[str, str | None] = {}
    run = Operation.run

    def recording_run(self, request, **kwargs):
        view = self.view_func

        def recorded(*args, **kw):
            seen[self.operation_id] = translation.get_language()
            return view(*args, **kw)

        self.view_func = recorded
        try:
            return run(self, request, **kwargs)
        finally:
            self.view_func = view

    monkeypatch.setattr(Operation, "run", recording_run)
    return seen


def test_every_operation_runs_in_english_when_the_partner_asks_for_chinese(client, admin_user, languages):
    found, sent = examples(), bodies()
    give_totp(admin_user)  # a person behind the key: the operations that move money ask for one
    key = make_key(*all_scopes(), tenants=[TENANT], by=admin_user)
    client.cookies["django_language"] = "zh-hans"
    answers = {}
    for method, path, op in OPERATIONS:
        url = url_of(path, found[path](TENANT) if PARAM.search(path) else "1")
        answer = call(client, method, url, {**bearer(key), **CHINESE}, body=sent.get(f"{method} {path}"))
        answers[op["operationId"]] = (answer.status_code, answer["Content-Language"])
        assert answer.status_code < 500, (method, path, answer.content[:300])
    assert set(languages) == OPERATION_IDS, "every operation's own code ran (a valid request of each)"
    assert {language for language in languages.values()} == {"en"}, languages
    assert {language for _status, language in answers.values()} == {"en"}, answers


def test_the_document_is_the_same_whatever_language_is_active():
    """Built outside any request too (``manage.py api_schema``): the operations' descriptions
    and the webhooks' (hireops.webhooks.api.document_events) are in English all the same."""
    documents = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            documents.append(json.dumps(api.get_openapi_schema(), ensure_ascii=False))
    assert documents[0] == documents[1]
