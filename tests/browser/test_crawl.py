"""Every admin page the superuser can reach, at 1366 × 768, in Chinese and in English: no error,
no console error, no word in the other language, and no table wider than its box.

The pages are found by following links from /admin/ (tests/browser/crawl.py), not listed here,
so a new admin, column or page is walked as soon as a link leads to it. The database holds the
demo and a row of every registered model (crawl_seed.py), so every list has rows and every
model a change page. All problems are collected and reported at once, grouped by problem with
the pages that show it; in test-artifacts/browser/crawl-<language>/ are the text each page was
read as and a screenshot of each page with a problem (of every page with
``HIREOPS_CRAWL_SHOTS=every``, which makes the walk a third slower).
"""

import shutil

import pytest
from django.contrib import admin

from sandbox.control import SandboxControl
from sandbox.server import SandboxServer
from sandbox.state import DEMO_DIRECTORY
from tests.events.payloads import ENCRYPT_KEY, TOKEN
from tests.sandbox_fixtures import TEST_RETRY_DELAYS

from .admin_ui import ARTIFACTS, log_in_as, submit_password
from .crawl import Crawler
from .crawl_seed import models_without_rows, seed_every_model
from .crawl_text import Data, stored_texts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
LOCALES = {"zh": "zh-CN", "en": "en-US"}


@pytest.fixture
def demo_feishu(live_server, settings):
    """Feishu as ./dev run starts the sandbox: the demo's directory (its referral accounts and
    the vendor accounts the demo's bindings name), pushing to the live server's webhook."""
    server = SandboxServer(
        app_id=settings.FEISHU_APP_ID,
        app_secret=settings.FEISHU_APP_SECRET,
        directory_file=str(DEMO_DIRECTORY),
        webhook_url=f"{live_server.url}/feishu/events/",
        encrypt_key=ENCRYPT_KEY,
        verification_token=TOKEN,
        retry_delays=TEST_RETRY_DELAYS,
        ticket_resend_delay=0.0,
    ).start()
    settings.FEISHU_BASE_URL, settings.SANDBOX_DIRECTORY_FILE = server.url, str(DEMO_DIRECTORY)
    settings.FEISHU_ENCRYPT_KEY, settings.FEISHU_VERIFICATION_TOKEN = ENCRYPT_KEY, TOKEN
    yield SandboxControl(server.url)
    server.stop()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_page_reads_in_one_language_and_fits_a_laptop(
    browser, live_server, demo_feishu, settings, tmp_path, language
):
    settings.LANGUAGE_CODE = "zh-hans"  # the site's default, as deployed
    seed_every_model(demo_feishu, settings, tmp_path)
    shots = ARTIFACTS / f"crawl-{language}"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)

    context = browser.new_context(base_url=live_server.url, locale=LOCALES[language], viewport=LAPTOP)
    page = context.new_page()
    try:
        submit_password(page, "nobody", "wrong")  # a refused sign-in: django-axes' records have rows
        log_in_as(page, "admin")
        assert not models_without_rows(), "every registered model needs a row for its change page"
        crawler = Crawler(page, live_server.url, language, Data(stored_texts()), shots)
        walk = crawler.run()
    finally:
        context.close()

    (ARTIFACTS / f"crawl-{language}.txt").write_text(
        walk.report() + "\n\nVisited:\n" + "\n".join(walk.visited)
    )
    # Every list, and every row's page where the list links its rows (the change history's
    # entries link to what they are about instead).
    routes = set(walk.routes.values())
    missing = [
        f"{name} ({model._meta.label})"
        for model, model_admin in admin.site._registry.items()
        for suffix in (
            ("changelist",) if model_admin.list_display_links is None else ("changelist", "change")
        )
        if (name := f"admin:{model._meta.app_label}_{model._meta.model_name}_{suffix}") not in routes
    ]
    assert not missing, f"the walk never reached: {missing}"
    assert not walk.findings, walk.report()
