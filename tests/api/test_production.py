"""The API as production serves it: gunicorn with DEBUG off, hashed static files from the
collected directory (the docs page's Swagger UI is ours, no CDN), a key made by the command."""

import re

import pytest
import requests
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_and_its_docs_under_gunicorn_with_debug_off(admin_server, capsys):
    call_command("create_api_key", "prod", "--scope", "tenants:read")
    key = capsys.readouterr().out.strip().splitlines()[-1]

    docs = requests.get(f"{admin_server}/api/v1/docs", timeout=10)
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/ninja/[^"]+)"', docs.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), docs.text
    for asset in assets:
        served = requests.get(f"{admin_server}{asset}", timeout=10)
        assert served.status_code == 200, asset
    assert "https://" not in docs.text

    doc = requests.get(f"{admin_server}/api/v1/openapi.json", timeout=10)
    assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.1")

    answer = requests.get(
        f"{admin_server}/api/v1/tenants", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert answer.status_code == 200 and answer.json() == {"data": [], "next_cursor": None}
    assert answer.headers["RateLimit-Policy"].startswith('"default";q=')
    refused = requests.get(f"{admin_server}/api/v1/tenants", timeout=10)
    assert refused.status_code == 401 and refused.headers["Content-Type"] == "application/problem+json"
    # A crash's page never reaches a partner as HTML: an unknown path is a problem too.
    missing = requests.get(
        f"{admin_server}/api/v1/nothing", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
