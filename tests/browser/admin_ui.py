"""What staff do in the admin, as browser steps: log in, run a list action, wait, take a screenshot."""

import time

from tests.conftest import ROOT, STAFF_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason before any test runs
    expect = None

ARTIFACTS = ROOT / "test-artifacts" / "browser"


def screenshot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def log_in(page, user) -> None:
    """Through the login form, as a person does (django-axes watches it)."""
    log_in_as(page, user.username)


def log_in_as(page, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto("/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#login-form [type=submit]").click()
    expect(page.locator("#user-tools")).to_contain_text(username)


def row(page, text: str):
    """The changelist row that shows ``text``."""
    return page.locator("#result_list tbody tr", has_text=text)


def run_action(page, row_text: str, action: str) -> None:
    """Tick the row showing ``row_text``, choose ``action`` (its value) and press Go."""
    row(page, row_text).locator("input.action-select").check()
    page.locator("select[name=action]").select_option(action)
    page.locator("button[name=index]").click()


def reload_until(page, locator, timeout: float = 20.0) -> None:
    """Reload until ``locator`` is visible: what the page shows comes from work done in the
    background (event pushes, Celery), so it may not be there on the first load."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator).to_be_visible(timeout=500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()
