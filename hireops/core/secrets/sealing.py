"""Secrets kept in the database, encrypted at rest (an exam's password, for one).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``, already a dependency) with keys
from ``FIELD_ENCRYPTION_KEYS``: the first encrypts, every one decrypts, so a key is rotated
by putting a new one first. Without the setting a key is derived from ``SECRET_KEY``, which
is then also the key to these secrets: set ``FIELD_ENCRYPTION_KEYS`` in production.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class Unreadable(Exception):
    """A sealed value no configured key opens (a key was removed, or the text is not ours)."""


def _key(text: str) -> bytes:
    try:
        Fernet(text.encode())
        return text.encode()  # already a Fernet key
    except (ValueError, TypeError):
        return base64.urlsafe_b64encode(hashlib.sha256(("hireops.sealing:" + text).encode()).digest())


def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []) or [settings.SECRET_KEY]
    return MultiFernet([Fernet(_key(k)) for k in keys])


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode() if text else ""


def unseal(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise Unreadable("no configured key opens this value (FIELD_ENCRYPTION_KEYS)") from exc
