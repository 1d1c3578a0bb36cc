"""Who a staff user is in Feishu, for the messages the app sends them there, and the language
those messages are written in.

A user linked by signing in with Feishu (an invitation, or their company mailbox: the
adapters) has the identity allauth keeps, its uid the person's ``open_id`` in the login app.
An open_id belongs to one app (docs/feishu.md §16.2): the app that sends messages
(``FEISHU_APP_ID``) can name the person by it only when it is the login app too, as the
Hire app is by default. Otherwise, or with ``FEISHU_MESSAGES`` off, nobody is reachable so,
and whatever would have told them in Feishu tells them by e-mail.

The language is the one they last used hireops in: at their last sign-in, or when they switched
it (``StaffLanguage``); unknown until then, when the site's default (``LANGUAGE_CODE``) is
used.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.utils import translation

from .models import StaffLanguage

PROVIDER = "feishu"


@dataclass(frozen=True)
class FeishuIdentity:
    open_id: str
    tenant_key: str


def messages_reach_staff() -> bool:
    """Whether the app's messages can name staff by the identity they sign in with."""
    app_id = settings.FEISHU_APP_ID
    return bool(settings.FEISHU_MESSAGES and app_id and app_id == settings.FEISHU_LOGIN_APP_ID)


def feishu_identities(user_pks: Iterable[int]) -> dict[int, FeishuIdentity]:
    """The Feishu identity of each of these users the app's messages can reach (the others are
    left out: not linked, or not reachable by the sending app)."""
    pks = list(user_pks)
    if not pks or not messages_reach_staff():
        return {}
    rows = SocialAccount.objects.filter(provider=PROVIDER, user_id__in=pks).values_list(
        "user_id", "uid", "extra_data"
    )
    return {
        user_pk: FeishuIdentity(uid, str((extra or {}).get("tenant_key") or ""))
        for user_pk, uid, extra in rows
        if uid
    }


def _supported(language: str) -> str:
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return ""


def remember_language(user, language: str) -> None:
    """The language ``user`` uses hireops in now (one of the site's, else nothing is kept)."""
    language = _supported(language)
    if language and getattr(user, "pk", None):
        StaffLanguage.objects.update_or_create(user_id=user.pk, defaults={"language": language})


def languages(user_pks: Iterable[int]) -> dict[int, str]:
    """Each user's language: the one they last used hireops in, else the site's default."""
    pks = list(user_pks)
    known = dict(StaffLanguage.objects.filter(user_id__in=pks).values_list("user_id", "language"))
    return {pk: _supported(known.get(pk, "")) or settings.LANGUAGE_CODE for pk in pks}


def link_identity(user, open_id: str, tenant_key: str) -> None:
    """``user`` signs in as this Feishu identity from now on (the demo's approver, made with its
    link: a real link is made by signing in, never by this)."""
    SocialAccount.objects.update_or_create(
        provider=PROVIDER,
        uid=open_id,
        defaults={"user": user, "extra_data": {"open_id": open_id, "tenant_key": tenant_key}},
    )


@dataclass(frozen=True)
class Person:
    """Who a staff user is in the company's directory, as far as hireops knows: the employee
    ids (Feishu's ``user_id``) their linked Feishu identities gave at sign-in, and their email
    addresses (the user's own, and the identities' company and personal ones), lower case."""

    employee_ids: frozenset[str]
    emails: frozenset[str]


def person(user) -> Person:
    ids, emails = set(), set()
    if getattr(user, "email", ""):
        emails.add(user.email.strip().lower())
    for extra in SocialAccount.objects.filter(provider=PROVIDER, user_id=user.pk).values_list(
        "extra_data", flat=True
    ):
        extra = extra if isinstance(extra, dict) else {}
        if extra.get("user_id"):
            ids.add(str(extra["user_id"]))
        for key in ("enterprise_email", "email"):
            if extra.get(key):
                emails.add(str(extra[key]).strip().lower())
    return Person(frozenset(ids), frozenset(emails))
