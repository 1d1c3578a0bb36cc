"""The Content-Security-Policy in Chromium, on pages as production serves them (gunicorn, DEBUG
off, collected static files): the API's docs page (Swagger UI), the language switcher, an
admin change list's actions and a change form's two-box selector all work under the enforced
policy, and the browser reports no violation of it on any page (every ``securitypolicyviolation``
event and every console line about the policy is collected, whatever the page)."""

import re

import pytest
from django.contrib.auth.models import Group

from tests.conftest import STAFF_PASSWORD

from .admin_ui import expect, log_in_as, screenshot
from .conftest import VIEWPORT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Before any script of each page (Playwright adds it outside the page's policy): every
# violation the browser reports, sent to the test.
WATCH = """
document.addEventListener('securitypolicyviolation', (e) => window.cspViolation(
  `${e.disposition} ${e.effectiveDirective}: ${e.blockedURI || 'inline'} on ${e.documentURI}`
  + ` (${e.sourceFile || '?'}:${e.lineNumber})`));
"""


class Watched:
    """A page in a fresh context, its policy violations and console errors collected."""

    def __init__(self, browser, base_url: str):
        self.context = browser.new_context(base_url=base_url, locale="en-US", viewport=VIEWPORT)
        self.violations: list[str] = []
        self.console: list[str] = []
        self.context.expose_function("cspViolation", lambda text: self.violations.append(text))
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))

    def _on_console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.console.append(message.text)

    def clean(self) -> None:
        # A violation's event reaches the test a moment after the page reported it.
        self.page.wait_for_timeout(300)
        assert self.violations == [], self.violations
        assert self.console == [], self.console


@pytest.fixture
def watched(browser, admin_server):
    watched = Watched(browser, admin_server)
    yield watched
    watched.context.close()


def test_the_docs_page_and_the_admins_widgets_work_under_the_policy(watched, admin_server, django_user_model):
    page = watched.page

    # The partners' docs: Swagger UI from our own static files draws every operation from the
    # OpenAPI document it fetches, and an operation opens to its parameters.
    docs = page.goto("/api/v1/docs")
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("hireops partner API")
    operations = page.locator(".swagger-ui .opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 10
    operations.first.locator(".opblock-summary").click()
    expect(operations.first.locator(".opblock-body")).to_be_visible()
    expect(operations.first.get_by_role("button", name="Try it out")).to_be_visible()
    screenshot(page, "csp-1-docs")
    watched.clean()

    # The admin: the language switcher (our own file) sends its form on a change.
    django_user_model.objects.create_superuser("root", "root@example.com", STAFF_PASSWORD)
    log_in_as(page, "root")
    page.locator("#language-switcher-select").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("#language-switcher-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # A change list: the header's box ticks every row and the counter follows (actions.js).
    for name in ("Partners A", "Partners B"):
        Group.objects.get_or_create(name=name)
    page.goto("/admin/auth/group/")
    rows = page.locator("#result_list input.action-select")
    expect(rows.first).to_be_visible()
    page.locator("#action-toggle").check()
    for i in range(rows.count()):
        expect(rows.nth(i)).to_be_checked()
    expect(page.locator(".action-counter")).to_contain_text(f"{rows.count()} of {rows.count()} selected")
    screenshot(page, "csp-2-changelist")
    watched.clean()

    # A change form: the permissions' two-box selector (SelectFilter2.js), filtered and chosen.
    group = Group.objects.get(name="Partners A")
    page.goto(f"/admin/auth/group/{group.pk}/change/")
    available, chosen = page.locator("#id_permissions_from"), page.locator("#id_permissions_to")
    expect(available).to_be_visible()  # drawn by the script: without it, one plain <select>
    page.locator("#id_permissions_input").press_sequentially("webhook endpoint")  # filtered on keyup
    shown = available.locator("option")
    expect(shown.first).to_be_visible()
    wanted = shown.count()
    assert 0 < wanted < 20, wanted
    page.locator("#id_permissions_add_all").click()
    expect(chosen.locator("option")).to_have_count(wanted)
    screenshot(page, "csp-3-change-form")
    watched.clean()

    # The watch itself: a script the page did not ship is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.append(s); }"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.injected") is None
    assert any(re.match(r"enforce script-src-elem: inline", v) for v in watched.violations), (
        watched.violations
    )
