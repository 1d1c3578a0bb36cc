"""Browser fixtures: Debian's Chromium driven by Playwright, against the live server and the sandbox.

One browser for all of tests/browser, a fresh context (cookies, language) per test. Without
/usr/bin/chromium, its CJK fonts or the playwright package the tests skip, or fail where
HIREOPS_BROWSER_TESTS=required (CI), so they can never be skipped silently (chromium.py).
"""

import re
from pathlib import Path

import pytest

from tests.events.payloads import ENCRYPT_KEY, TOKEN

from . import chromium
from .admin_ui import ARTIFACTS

VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="package")
def browser():
    reason = chromium.browser_missing(chromium.CHROMIUM, chromium.CJK_FONT)
    if reason:
        chromium.refuse_to_run(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # the default 5 s is short on a loaded 2-core machine

    with pytest.MonkeyPatch.context() as mp:
        # Playwright's sync API runs its event loop on this thread (in a greenlet), so Django
        # takes every ORM call of the test for one made from async code and refuses it. No
        # test code is async; the flag lives only as long as the browser does.
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium.CHROMIUM, args=chromium.CHROMIUM_ARGS
            )
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("*.jpeg")]:
                old.unlink()  # only this run's screens, none left from an older one
            yield browser
            browser.close()


def _new_page(browser, live_server, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


@pytest.fixture
def page(browser, live_server):
    """A page in a fresh browser context whose language is English."""
    context, page = _new_page(browser, live_server, "en-US")
    yield page
    context.close()


@pytest.fixture
def zh_page(browser, live_server, settings):
    """A page whose browser asks for Simplified Chinese, with the site's default (zh-hans)
    restored over tests/conftest.py's English one."""
    settings.LANGUAGE_CODE = "zh-hans"
    context, page = _new_page(browser, live_server, "zh-CN")
    yield page
    context.close()


@pytest.fixture
def feishu(sandbox, live_server, settings):
    """The sandbox, pushing signed and encrypted events to the live server's webhook."""
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN
    sandbox.configure(
        webhook_url=live_server.url + "/feishu/events/", encrypt_key=ENCRYPT_KEY, verification_token=TOKEN
    )
    return sandbox


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test leaves a screenshot of where it stood."""
    report = yield
    if report.when == "call" and report.failed:
        for name in ("page", "zh_page"):
            page = item.funcargs.get(name)
            if page is not None and not page.is_closed():
                slug = re.sub(r"[^\w.-]+", "-", item.name)
                page.screenshot(path=Path(ARTIFACTS, f"FAILED-{slug}.png"), full_page=True)
    return report
