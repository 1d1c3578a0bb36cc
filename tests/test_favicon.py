"""/favicon.ico, which browsers ask for on every page (it answered 404): a file at the site's
root, served by WhiteNoise (WHITENOISE_ROOT) before any session or database is touched, with
DEBUG on (./dev run) and off (production), and linked from the pages."""

import pytest
from django.test import Client

ICO_HEADER = b"\x00\x00\x01\x00"  # reserved 0, type 1: an icon


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_the_favicon_answers_at_the_sites_root(settings, debug):
    settings.DEBUG = debug  # read by WhiteNoise when the client's handler starts
    resp = Client().get("/favicon.ico")
    assert resp.status_code == 200
    assert resp["Content-Type"] == "image/x-icon"
    assert b"".join(resp.streaming_content).startswith(ICO_HEADER)


@pytest.mark.django_db
def test_the_pages_link_the_favicon(client):
    assert '<link rel="icon" href="/favicon.ico">' in client.get("/admin/login/").content.decode()
