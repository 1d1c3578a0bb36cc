"""What staff do in the admin, as browser steps: log in, run a list action, wait, take a screenshot."""

import time

from tests.conftest import ROOT, STAFF_PASSWORD
from tests.second_factor import give_totp, totp_code

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason before any test runs
    expect = None

ARTIFACTS = ROOT / "test-artifacts" / "browser"


# Screenshots are for a person to look at; nothing compares their pixels. JPEG: Chromium encoded
# a tall dashboard's PNG in about a second of CPU, and the trend charts' test took 70 of them.
SHOT = {"type": "jpeg", "quality": 85}


def screenshot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.jpeg", full_page=True, **SHOT)


def log_in(page, user) -> None:
    """Through the login form, as a person does (django-axes watches it)."""
    log_in_as(page, user.username)


def log_in_as(page, username: str, password: str = STAFF_PASSWORD) -> None:
    secret = _authenticator_for(username)
    submit_password(page, username, password)
    if secret:
        enter_second_factor(page, secret)
    expect(page.locator("#user-tools")).to_contain_text(username)


def submit_password(page, username: str, password: str = STAFF_PASSWORD) -> None:
    """The admin's password form, filled and sent; whatever comes next is the caller's."""
    page.goto("/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_load_state()


def sign_in_with_feishu(page, open_id: str, shot: str | None = None) -> None:
    """From the admin's login page through Feishu's (the sandbox's) authorize page, choosing
    the employee ``open_id``; ``shot`` names a screenshot of that page."""
    page.goto("/admin/login/")
    page.locator("#feishu-login [type=submit]").click()
    employee = page.locator(f"button[data-open-id={open_id}]")
    expect(employee).to_be_visible()
    if shot:
        screenshot(page, shot)
    employee.click()
    page.wait_for_load_state()


def open_enrolment_link(page, username: str) -> None:
    """What a colleague does with the enrolment link an administrator gave them, signed in as
    themself: a password alone never sets up a first second factor (hireops.signin.enrolment).
    The link is issued here as ``manage.py enrolment_link`` would."""
    from django.contrib.auth import get_user_model

    from hireops.signin.models import EnrolmentLink

    _link, token = EnrolmentLink.issue(get_user_model().objects.get(username=username))
    page.goto(f"/accounts/second-factor/link/{token}/")
    expect(page.locator("#enrol-totp")).to_be_visible()


def activate_authenticator_app(page, shot: str | None = None, button: str = "Activate") -> str:
    """On allauth's activation page: the secret its QR code holds, the code typed from it, and
    the recovery codes shown next (``button``: "Activate" in the page's language). Returns the
    secret."""
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(totp_code(secret))
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")  # the recovery codes, shown once to keep
    return secret


_SECRETS: dict[str, tuple[str, int]] = {}  # username → (the app's secret, its authenticator's pk)


def _authenticator_for(username: str) -> str | None:
    """A user whose role needs a second factor gets an authenticator app (its secret known
    here) before signing in, so the sign-in ends with its code, as a person's does. One this
    module did not make (a test's seed gave the user its own) is replaced."""
    from allauth.mfa.models import Authenticator
    from django.contrib.auth import get_user_model

    from hireops.signin.second_factor import needs_second_factor

    user = get_user_model().objects.filter(username=username).first()
    if user is None or not needs_second_factor(user):
        return None
    app = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    known = _SECRETS.get(username)
    if known is None or app is None or app.pk != known[1]:
        Authenticator.objects.filter(user=user).delete()
        secret = give_totp(user)
        _SECRETS[username] = (secret, Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).pk)
    return _SECRETS[username][0]


def enter_second_factor(page, secret: str) -> None:
    """Type the authenticator app's code on the second-factor step. A code works once: a
    second sign-in within the same 30 s waits for the next one, as a person would."""
    for _ in range(2):
        expect(page.locator("input[name=code]")).to_be_visible()
        page.locator("input[name=code]").fill(totp_code(secret))
        page.locator("input[name=code]").press("Enter")
        page.wait_for_load_state()
        if "/accounts/2fa/" not in page.url:
            return
        time.sleep(30 - time.time() % 30 + 0.5)
    raise AssertionError(f"the second factor was refused: {page.url}")


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
