"""Every URL the project and its libraries mount, tried over HTTP as an attacker holding one
staff password would: with a session that signed in through the admin's password form only,
nothing but the second factor's step (or the enrolment), signing out and the language switcher
answers; with a session that proved its factor long ago, nothing that shows or changes how
someone signs in works without a fresh code. The pages come from the URL resolver, so a page
added tomorrow (by hireops or by a library) is tried without a new test."""

import re
from urllib.parse import urlencode

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from hireops.signin.middleware import ADDING, ALWAYS, ENROLMENT, STEP, allowed_before_the_second_factor
from hireops.signin.urls import ALLAUTH_PAGES
from tests.conftest import STAFF_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor_unproven]

NEW_PASSWORD = "An0ther-Pw-789!"
ATTACKER_EMAIL = "attacker@example.com"

# Pages that show or change how someone signs in: the sweep must have found and tried each
# (so it cannot pass by trying nothing), and each must ask for a fresh code.
SENSITIVE = {
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_add_webauthn",
    "mfa_edit_webauthn",
    "mfa_remove_webauthn",
    "admin:password_change",
    "admin:auth_user_password_change",
    "admin:auth_user_change",
}
# Found by the sweep too: the admin itself and its lists.
KNOWN = SENSITIVE | {"admin:index", "admin:auth_user_changelist", "mfa_index", "feishu_login"}


# --- the project's URLs, from its resolver ---------------------------------------------------------


def _group_spans(regex: str):
    """(name, start, end, body) of each named group ``(?P<name>body)`` of ``regex``."""
    for found in re.finditer(r"\(\?P<(\w+)>", regex):
        depth, i = 1, found.end()
        while depth:
            if regex[i] == "\\":
                i += 2
                continue
            depth += {"(": 1, ")": -1}.get(regex[i], 0)
            i += 1
        yield found.group(1), found.start(), i, regex[found.end() : i - 1]


def _sample(body: str, pk: int) -> str:
    for candidate in (str(pk), "x", "auth", "1-x", "00000000-0000-0000-0000-000000000000"):
        if re.fullmatch(body, candidate):
            return candidate
    raise AssertionError(f"no sample value for ({body})")


def _concrete(pattern, pk: int) -> str:
    """One path ``pattern`` (a route or a regex) matches, its arguments filled with dummies."""
    regex = pattern.regex.pattern
    parts, last = [], 0
    for _name, start, end, body in _group_spans(regex):
        parts += [regex[last:start], _sample(body, pk)]
        last = end
    parts.append(regex[last:])
    path = "".join(parts).removeprefix("^").removeprefix("\\A").removesuffix("\\Z").removesuffix("$")
    return path.replace("\\", "")


def mounted_paths(pk: int) -> dict[str, str]:
    """Every pattern the resolver mounts, as a concrete path → the view name that answers it
    (a pattern another one shadows is answered by that one: the name is what really answers)."""
    paths, unbuilt = {}, []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + _concrete(pattern.pattern, pk))
            elif isinstance(pattern, URLPattern):
                path = "/" + prefix + _concrete(pattern.pattern, pk)
                try:
                    paths[path] = resolve(path).view_name
                except Resolver404:
                    unbuilt.append((path, str(pattern.pattern)))

    walk(get_resolver().url_patterns, "")
    assert not unbuilt, f"patterns the sweep could not build a path for: {unbuilt}"
    return paths


# --- who attacks ---------------------------------------------------------------------------------


def password_only(client, username):
    """Signed in through the admin's real password form, nothing more."""
    resp = client.post("/admin/login/", {"username": username, "password": STAFF_PASSWORD})
    assert resp.status_code == 302, resp.content.decode()[:500]
    assert client.session.get("_auth_user_id")


def sign_in_data(user) -> tuple:
    """What an attacker would like to change: the password, the email, the factors."""
    user = get_user_model().objects.get(pk=user.pk)
    factors = sorted((a.pk, a.type, str(a.data)) for a in Authenticator.objects.filter(user=user))
    return user.password, user.email, factors


def recovery_codes(user) -> list[str]:
    rc = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
    return rc.wrap().get_unused_codes() if rc else []


def attack_payload(user) -> dict:
    """Posted to every page: what its forms would need to change a password or an email, or
    to prove a factor with a guessed code."""
    return {
        "old_password": STAFF_PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "usable_password": "true",
        "username": user.get_username(),
        "email": ATTACKER_EMAIL,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "code": "000000",
        "name": "attacker's key",
    }


def expect_step(resp, step: str, path: str, method: str) -> None:
    assert resp.status_code == 302, f"{method} {path} answered {resp.status_code}"
    want = step + (f"?{urlencode({'next': path})}" if method == "GET" else "")
    assert resp["Location"] == want, f"{method} {path} → {resp['Location']}"


# --- the tests ---------------------------------------------------------------------------------


def test_the_allowlist_is_small_named_and_mounted():
    assert {"admin:logout", "account_logout", "set_language"} == ALWAYS
    assert {"mfa_reauthenticate", "mfa_reauthenticate_webauthn"} == STEP
    assert {
        "signin_enrol",
        "signin_enrolment_link",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "feishu_login",
        "feishu_callback",
    } == ENROLMENT
    assert {"mfa_activate_totp", "mfa_add_webauthn"} == ADDING
    mounted = set(mounted_paths(1).values())
    assert mounted >= ALWAYS | STEP | ENROLMENT
    assert mounted >= KNOWN


@pytest.mark.parametrize("who", ["superuser with an authenticator app", "withdrawer not enrolled yet"])
def test_a_password_alone_opens_nothing_but_the_second_factor(client, root, staff_user, who):
    if who.startswith("superuser"):
        user, step = root, "/accounts/2fa/reauthenticate/"
    else:
        user, step = staff_user("HR", "HR withdrawals", username="hr-lead"), "/accounts/second-factor/"
    password_only(client, user.get_username())
    before, codes = sign_in_data(user), recovery_codes(user)
    allowed = allowed_before_the_second_factor(enrolled=user == root)
    tried = set()
    for path, name in mounted_paths(user.pk).items():
        if name in allowed:
            continue
        tried.add(name)
        for method in ("GET", "POST"):
            resp = client.get(path) if method == "GET" else client.post(path, attack_payload(user))
            expect_step(resp, step, path, method)
    assert KNOWN - allowed <= tried
    assert len(tried) > 100  # the admin's pages, allauth's, the project's own
    if user != root:  # the pages that add a factor open, but not to a password alone
        adding = {name: path for path, name in mounted_paths(user.pk).items() if name in ADDING}
        assert set(adding) == ADDING
        for name, path in adding.items():
            for resp in (client.get(path), client.head(path), client.post(path, attack_payload(user))):
                assert resp.status_code == 302 and resp["Location"] == step, (name, resp.status_code)
        assert "mfa.totp.secret" not in client.session
    assert sign_in_data(user) == before and recovery_codes(user) == codes
    assert client.session.get("_auth_user_id") == str(
        user.pk
    )  # still signed in: nothing was skipped by a sign-out


def with_code(client, user) -> None:
    """Signed in with the password, then one of the recovery codes (the app's current code
    stays unused for the test's next step: allauth takes each code once)."""
    password_only(client, user.get_username())
    resp = client.post("/accounts/2fa/reauthenticate/", {"code": recovery_codes(user)[0]})
    assert resp.status_code == 302 and client.get("/admin/").status_code == 200


def age_the_proof(client, seconds: int) -> None:
    """The session proved its factor ``seconds`` ago (as if it had been left open since)."""
    session = client.session
    for entry in session["account_authentication_methods"]:
        entry["at"] -= seconds
    session.save()


# Transactional: the sweep reaches the webhook too, whose refusals a thread of its own records.
@pytest.mark.django_db(transaction=True)
def test_a_factor_proven_long_ago_shows_and_changes_nothing_that_signs_in(client, root):
    with_code(client, root)
    codes = recovery_codes(root)
    assert codes
    age_the_proof(client, 3600)
    # Whoever found the session open types the (stolen) password again: allauth alone would
    # count that as a recent confirmation.
    password_only(client, "root")
    before = sign_in_data(root)

    asked = set()
    for path, name in mounted_paths(root.pk).items():
        if name in ALWAYS:
            continue  # signing out would end the sweep; the language switcher changes nothing
        for method in ("GET", "POST"):
            resp = client.get(path) if method == "GET" else client.post(path, attack_payload(root))
            assert resp.status_code < 500, f"{method} {path} answered {resp.status_code}"
            body = b"".join(resp) if resp.streaming else resp.content
            assert not any(code.encode() in body for code in codes), f"{method} {path} shows recovery codes"
            location = resp.get("Location", "")
            if resp.status_code == 302 and location.startswith("/accounts/2fa/reauthenticate/"):
                asked.add(name)
            assert sign_in_data(root) == before, f"{method} {path} changed how root signs in"
    assert client.session.get("_auth_user_id") == str(root.pk)
    assert asked >= SENSITIVE, f"did not ask for a fresh code: {SENSITIVE - asked}"
    assert not {"admin:index", "admin:auth_user_changelist", "mfa_index"} & asked  # only those


def test_allauth_pages_hireops_does_not_use_are_not_mounted(client, root):
    """Sign-up, password reset and change, email management, login by code, connecting other
    accounts: not served, for anyone."""
    from allauth import urls as allauth_urls

    def names(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from names(pattern.url_patterns)
            elif pattern.name:
                yield pattern.name

    every = set(names(allauth_urls.urlpatterns))
    closed = every - ALLAUTH_PAGES
    assert {
        "account_signup",
        "account_email",
        "account_change_password",
        "socialaccount_connections",
    } <= closed
    assert not closed & set(mounted_paths(1).values())
    gone = ["signup/", "email/", "password/change/", "password/set/", "password/reset/", "3rdparty/"]
    for path in [f"/accounts/{p}" for p in gone] + ["/accounts/social/connections/"]:
        assert client.get(path).status_code == 404
    with_code(client, root)
    for path in ("/accounts/email/", "/accounts/password/change/", "/accounts/3rdparty/"):
        assert client.get(path).status_code == 404
    # The pages it keeps render (none refers to a page that is gone).
    for path in ("/accounts/2fa/", "/accounts/2fa/recovery-codes/", "/accounts/2fa/totp/deactivate/"):
        assert client.get(path).status_code == 200
