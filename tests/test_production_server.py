"""The admin as the production steps (docs/deployment.md) run it: collectstatic, then gunicorn
with DEBUG off.

Every stylesheet and script the login page, the index and a changelist reference must be
served, with content, the right type, a hashed name and a long cache lifetime; otherwise staff
get an unstyled admin without its actions bar, filters or date pickers.
"""

import re
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import ROOT, STAFF_PASSWORD
from tests.second_factor import give_totp, totp_code

pytestmark = pytest.mark.django_db(transaction=True)

ASSET = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')
TYPES = {".css": "text/css", ".js": "text/javascript"}
HASHED = re.compile(r"\.[0-9a-f]{12}\.(css|js)$")
A_YEAR = 365 * 24 * 3600
CACHED_FOR_TEN_YEARS = f"max-age={10 * A_YEAR}, public, immutable"


def assets(html: str) -> list[str]:
    return ASSET.findall(html)


def log_in(session: requests.Session, base: str, username: str) -> None:
    session.get(base + "/admin/login/")
    resp = session.post(
        base + "/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": STAFF_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": base + "/admin/login/"},
    )
    if "/accounts/2fa/reauthenticate/" in resp.url:  # a superuser: the second factor comes next
        resp = session.post(
            resp.url,
            data={"code": totp_code(session.totp), "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": resp.url},
        )
    assert resp.status_code == 200 and 'id="user-tools"' in resp.text, resp.text[:2000]


def test_every_stylesheet_and_script_of_the_admin_is_served(admin_server, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password=STAFF_PASSWORD)
    session = requests.Session()
    session.totp = give_totp(boss)
    session.headers["Accept-Language"] = "en"
    pages = {"login": session.get(admin_server + "/admin/login/").text}
    log_in(session, admin_server, "boss")
    pages["index"] = session.get(admin_server + "/admin/").text
    pages["changelist"] = session.get(admin_server + "/admin/referrals/referralaccount/").text
    assert "Needs attention" in pages["index"] and "Referral accounts" in pages["changelist"]

    seen = set()
    for page, html in pages.items():
        urls = assets(html)
        assert any(u.endswith(".css") for u in urls) and any(u.endswith(".js") for u in urls), page
        for url in urls:
            seen.add(url)
            resp = session.get(urljoin(admin_server, url), headers={"Accept-Encoding": "gzip"})
            assert resp.status_code == 200, f"{page}: {url} answered {resp.status_code}"
            assert resp.content, f"{page}: {url} is empty"
            if url == "/admin/jsi18n/":  # the admin's translations: a view, not a static file
                assert resp.headers["Content-Type"].startswith("text/javascript")
                continue
            assert HASHED.search(url), f"{page}: {url} is not under its hashed name"
            kind = TYPES[url[url.rindex(".") :]]
            assert resp.headers["Content-Type"].startswith(kind), (url, resp.headers["Content-Type"])
            assert resp.headers["Cache-Control"] == CACHED_FOR_TEN_YEARS, url
            assert resp.headers.get("Content-Encoding") == "gzip", url
    # The changelist needs its actions and filters: its own stylesheet and the actions script.
    assert any("changelists" in u for u in seen) and any("actions" in u for u in seen)
    assert len(seen) >= 10


def test_the_production_steps_say_how_long_static_files_are_cached():
    steps = " ".join((ROOT / "docs" / "deployment.md").read_text(encoding="utf-8").split())
    assert f"cached for ten years (`Cache-Control: {CACHED_FOR_TEN_YEARS}`" in steps


def test_a_missing_static_file_is_a_404_not_an_error_page(admin_server):
    resp = requests.get(admin_server + "/static/admin/css/no-such-file.css", timeout=10)
    assert resp.status_code == 404


def test_the_favicon_is_served_at_the_root(admin_server):
    """Browsers ask for /favicon.ico on every page; WhiteNoise serves only STATIC_URL unless
    told of files at the root (WHITENOISE_ROOT)."""
    resp = requests.get(admin_server + "/favicon.ico", timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/x-icon"
    assert resp.content.startswith(b"\x00\x00\x01\x00")
    assert 'rel="icon" href="/favicon.ico"' in requests.get(admin_server + "/admin/login/", timeout=10).text
