"""Making, finding and revoking API keys.

A key is ``hko_`` and 40 random base62 characters (about 238 bits): the prefix names it as
hireops' (secret scanners and people recognise it in a log), the first 12 characters are
kept in clear to tell keys apart, and only the SHA-256 of the whole key is stored (a slow
hash is for passwords people choose; this one is random and long)."""

import hashlib
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops.core import audit
from hireops.core.compiled import OneRow
from hireops.tenants.models import Tenant

from . import scopes as scope_registry
from .models import ApiKey

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PREFIX = "hko_"
_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 40
SHOWN = len(PREFIX) + 8  # "hko_AbCd1234": what lists and commands show
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often

CREATED = gettext_noop("Created the API key %(prefix)s… with scopes %(scopes)s")
REVOKED = gettext_noop("Revoked the API key %(prefix)s…")


# Sent (key=the row) once a key is revoked: what a key made stops with it (the webhook
# endpoints it owns, hireops.webhooks.retire, which also checks every delivery's key itself).
retired = Signal()


class KeyRefused(ValueError):
    """Why a key cannot be made as asked (its message is shown to the person or command)."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyedRequest(HttpRequest):
    """For annotations: the request an operation answers. Its auth (``site.ApiKey``) lets it in
    only with the usable key the middleware found and put here."""

    api_key: ApiKey


@dataclass(frozen=True)
class NewKey:
    row: ApiKey
    key: str  # shown once, never stored


def unknown_tenants(tenant_keys: Iterable[str]) -> list[str]:
    """The tenant keys hireops does not know (from their events, or the store app's install),
    sorted: a key limited to one would see nothing, ever."""
    named = set(tenant_keys)
    known = set(Tenant.objects.filter(tenant_key__in=named).values_list("tenant_key", flat=True))
    return sorted(named - known)


def create(
    name: str,
    scopes: Iterable[str],
    *,
    tenant_keys: Iterable[str] = (),
    expires_in_days: int | None = None,
    by: "User | None" = None,
) -> NewKey:
    """A new key. ``by``: the person making it (None: a command run by an operator), who
    must hold the permission behind each scope."""
    name = (name or "").strip()
    scopes = sorted(set(scopes))
    if not name:
        raise KeyRefused(_("A key needs a name."))
    if not scopes:
        raise KeyRefused(_("A key needs at least one scope."))
    if bad := scope_registry.unknown(scopes):
        raise KeyRefused(_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(bad)})
    if by is not None and (missing := scope_registry.grantable_by(by, scopes)):
        raise KeyRefused(
            _("You may not give a key a scope whose permission you lack: %(scopes)s.")
            % {"scopes": ", ".join(missing)}
        )
    if expires_in_days is not None and expires_in_days < 1:
        raise KeyRefused(_("A key expires at least one day after it is made."))
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    for _attempt in range(5):
        key = PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
        try:
            with transaction.atomic():
                actor = get_user_model().objects.create(
                    username=f"api-key:{key[:SHOWN]}", first_name=name[:150], is_active=False
                )
                actor.set_unusable_password()
                actor.save(update_fields=["password"])
                row = ApiKey.objects.create(
                    name=name,
                    prefix=key[:SHOWN],
                    secret_hash=digest(key),
                    scopes=scopes,
                    tenant_keys=sorted(set(tenant_keys)),
                    actor=actor,
                    created_by=by,
                    expires_at=expires_at,
                )
                audit.record(by, [row], CREATED, {"prefix": row.prefix, "scopes": ", ".join(scopes)})
        except IntegrityError:  # the same 12 characters twice: draw again
            continue
        return NewKey(row, key)
    raise RuntimeError("could not draw an unused key prefix")


# Every request asks it: compiled once. Its actor with it: every write records who made it
# (the change history).
_BY_HASH = OneRow(
    ApiKey,
    lambda secret_hash: ApiKey.objects.select_related("actor").filter(secret_hash=secret_hash),
    "0" * 64,
)


def authenticate(key: str) -> ApiKey | None:
    """The usable key ``key`` is, or None. One indexed lookup on the hash (equality on a
    digest of a 238-bit secret leaks nothing a timing could use)."""
    if not key.startswith(PREFIX) or len(key) != len(PREFIX) + SECRET_LENGTH:
        return None
    row = _BY_HASH.get(digest(key))
    if row is None or not row.usable:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def revoke(prefix: str, *, by: "User | None" = None) -> ApiKey:
    """Revoke the key whose shown prefix is ``prefix`` (at least its first 8 characters)."""
    prefix = prefix.strip().rstrip("…").rstrip(".")
    if len(prefix) < len(PREFIX) + 4:
        raise KeyRefused(_("Give at least the first 8 characters of the key."))
    found = list(ApiKey.objects.filter(prefix__startswith=prefix[:SHOWN])[:2])
    if not found:
        raise KeyRefused(_("No key starts with %(prefix)s.") % {"prefix": prefix})
    if len(found) > 1:
        raise KeyRefused(_("More than one key starts with %(prefix)s: give more of it.") % {"prefix": prefix})
    row = found[0]
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.revoked_by = by
        with transaction.atomic():
            row.save(update_fields=["revoked_at", "revoked_by"])
            audit.record(by, [row], REVOKED, {"prefix": row.prefix})
            retired.send(sender=ApiKey, key=row)
    return row
