"""A second factor for tests: an authenticator app's secret given to a user, and its codes."""

import time

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)


def give_totp(user) -> str:
    """Enrol ``user`` with a new TOTP secret, as if they had scanned the QR code; the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code the authenticator app shows now. Within the last 3 s of its 30 s window, the
    next one: a person would wait for it too, rather than type a code that expires in transit
    (allauth accepts the current window only)."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
