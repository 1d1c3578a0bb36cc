"""Content-Security-Policy, Referrer-Policy and Permissions-Policy on every HTML page: every URL
the project and its libraries mount (from the resolver, so a page added later is checked
without a new test), signed in and not, the error pages included; a policy that runs no
script the page did not load from our own files; and no template of ours that would need one.

In a browser: tests/browser/test_security_headers.py (the docs page and the admin's widgets
working under the policy) and tests/browser/test_crawl.py (every admin page, no violation)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.test import Client, override_settings
from django.urls import include, path

from hireops.api.middleware import ROOT as API_ROOT
from hireops.core.web.security_headers import JSON_POLICY, feishu_sign_in_sources, permissions_policy
from tests.signin.test_every_page import mounted_paths

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ("Content-Security-Policy", "Referrer-Policy", "Permissions-Policy")


def _failing(request):
    raise RuntimeError("a crash, for its error page")


def _json_with_its_own_policy(request):
    answer = JsonResponse({"embedded": True})
    answer["Content-Security-Policy"] = "frame-ancestors 'self'"
    return answer


def _own_header(request):
    answer = HttpResponse("<p>framed on purpose</p>")
    answer["Permissions-Policy"] = "fullscreen=(self)"
    return answer


urlpatterns = [
    path("crash/", _failing),
    path("own-header/", _own_header),
    path("own-json-policy/", _json_with_its_own_policy),
    path("", include("config.urls")),
]


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in policy.split(";") if d.strip())}


def assert_headers(answer, where: str) -> None:
    for header in HEADERS:
        assert answer.get(header), f"{where} answered without {header}"
    policy = directives(answer["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"], (where, policy["script-src"])  # no inline, no eval
    assert "script-src-elem" not in policy and "script-src-attr" not in policy, where
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert answer["Referrer-Policy"] == "same-origin", where
    assert "camera=()" in answer["Permissions-Policy"], where


def is_html(answer) -> bool:
    return answer.get("Content-Type", "").startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["a superuser", "nobody signed in"])
def test_every_mounted_html_page_carries_the_three_headers(client, django_user_model, who):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "Pw-123456!")
    if who == "a superuser":
        client.force_login(root)
    checked = set()
    for page, name in mounted_paths(root.pk).items():
        if name in {"admin:logout", "account_logout"}:
            continue  # the sweep goes on signed in
        answer = client.get(page)
        if is_html(answer):
            assert_headers(answer, f"GET {page} ({answer.status_code})")
            checked.add(name)
    if who == "a superuser":
        assert {"admin:index", "admin:auth_user_changelist", "admin:auth_user_change", "mfa_index"} <= checked
        assert len(checked) > 100, checked  # the admin's pages, allauth's, the project's own
    else:
        assert {"admin:login", "api-v1:openapi-view"} <= checked, checked


@pytest.mark.django_db
def test_a_json_answer_carries_the_strictest_policy_and_the_other_two(client):
    """The API's answers, its problems and its document load and run nothing: no source at all,
    never framed; the pages' policy is theirs alone."""
    from tests.api.keys import bearer, make_key

    key = make_key("tenants:read")
    answers = {
        "document": client.get(API_ROOT + "openapi.json"),
        "answer": client.get(API_ROOT + "key", **bearer(key)),
        "problem, no key": client.get(API_ROOT + "key"),
        "problem, no such operation": client.get(API_ROOT + "nowhere", **bearer(key)),
        "admin autocomplete, signed out": client.get("/admin/autocomplete/"),
    }
    statuses = {where: answer.status_code for where, answer in answers.items()}
    assert statuses == {
        "document": 200,
        "answer": 200,
        "problem, no key": 401,
        "problem, no such operation": 404,
        "admin autocomplete, signed out": 302,
    }
    for where, answer in answers.items():
        if where.startswith("admin"):
            continue  # a redirect to the sign-in page, not JSON: the pages' policy
        assert answer["Content-Type"].startswith(("application/json", "application/problem+json")), where
        assert answer["Content-Security-Policy"] == JSON_POLICY, where
        assert answer["Referrer-Policy"] == "same-origin", where
        assert "camera=()" in answer["Permissions-Policy"], where
    assert JSON_POLICY == "default-src 'none'; frame-ancestors 'none'"
    redirect = answers["admin autocomplete, signed out"]
    assert directives(redirect["Content-Security-Policy"])["script-src"] == ["'self'"]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_json_view_that_sets_its_own_policy_keeps_it(client):
    assert client.get("/own-json-policy/")["Content-Security-Policy"] == "frame-ancestors 'self'"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_error_pages_carry_them_too():
    client = Client(raise_request_exception=False)
    missing = client.get("/no-such-page/")
    crashed = client.get("/crash/")
    assert (missing.status_code, crashed.status_code) == (404, 500)
    for answer in (missing, crashed):
        assert is_html(answer)
        assert_headers(answer, f"the {answer.status_code} page")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_view_that_sets_its_own_permissions_policy_keeps_it(client):
    assert client.get("/own-header/")["Permissions-Policy"] == "fullscreen=(self)"


def test_the_permissions_policy_is_written_as_browsers_read_it():
    assert (
        permissions_policy({"camera": [], "publickey-credentials-get": ["self", "https://id.example.com"]})
        == 'camera=(), publickey-credentials-get=(self "https://id.example.com")'
    )
    # Security keys (a second factor) work on our pages; nothing else powerful does.
    allowed = {feature: origins for feature, origins in settings.PERMISSIONS_POLICY.items() if origins}
    assert allowed == {"publickey-credentials-create": ["self"], "publickey-credentials-get": ["self"]}


@pytest.mark.django_db
def test_forms_post_to_us_and_to_feishus_sign_in_as_configured_now(client, settings):
    """ "Sign in with Feishu" is redirected to Feishu's authorize page: form-action must allow
    it (the browser checks a form's redirects too), read when the page is served."""
    for base, wanted in (
        ("https://open.feishu.cn", ["'self'", "https://open.feishu.cn", "https://*.feishu.cn"]),
        ("https://open.larksuite.com", ["'self'", "https://open.larksuite.com", "https://*.larksuite.com"]),
        ("http://127.0.0.1:8765", ["'self'", "http://127.0.0.1:8765"]),
        ("https://feishu.cn.example.com", ["'self'", "https://feishu.cn.example.com"]),
        ("", ["'self'"]),
    ):
        settings.FEISHU_LOGIN_BASE_URL = base
        answer = client.get("/admin/login/")
        assert directives(answer["Content-Security-Policy"])["form-action"] == wanted, base
    assert feishu_sign_in_sources() == []


# --- the templates: nothing the policy would refuse --------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


def our_templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html"))
    for package in ("hireops", "orders", "referrals", "bindings"):
        found += sorted((ROOT / package).glob("**/templates/**/*.html"))
    return found


def refused_by_the_policy(text: str) -> list[str]:
    return [m.group(0) for rule in (INLINE_SCRIPT, HANDLER, JAVASCRIPT_URL) for m in rule.finditer(text)]


def test_no_template_of_ours_has_an_inline_script_or_handler():
    templates = our_templates()
    assert len(templates) > 40
    found = {
        str(t.relative_to(ROOT)): bad for t in templates if (bad := refused_by_the_policy(t.read_text()))
    }
    assert found == {}


def test_the_template_check_finds_what_the_policy_refuses():
    assert refused_by_the_policy('<select onchange="this.form.submit()">') != []
    assert refused_by_the_policy("<script>alert(1)</script>") != []
    assert refused_by_the_policy('<a href="javascript:go()">') != []
    assert refused_by_the_policy('<script src="/static/x.js" defer></script>') == []
    assert refused_by_the_policy('<script type="application/json" id="d">{}</script>') == []
    assert refused_by_the_policy('<input name="onboarding" value="once">') == []


@pytest.mark.django_db
def test_the_permissions_policy_follows_a_change_of_its_setting(client, settings):
    """Written once per setting (the same on every answer), and again when it changes."""
    assert "camera=()" in client.get("/admin/login/")["Permissions-Policy"]
    settings.PERMISSIONS_POLICY = {"camera": ["self"]}
    assert client.get("/admin/login/")["Permissions-Policy"] == "camera=(self)"
