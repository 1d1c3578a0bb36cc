"""A failed call to Feishu, as every service handles it: retry or not, and what staff read.

``judge(exc)`` is the one decision (docs/feishu.md §11). It follows the error's own
``retryable`` (``hireops.feishu.errors`` classifies every answer): only HTTP ≥ 500, Feishu's
"internal error" codes, timeouts, lost connections and rate limits (429 / 99991400) are
tried again; a refusal (any other code, 1002001 with HTTP 400 included), a configuration or
authentication error and an exhausted monthly quota (99991403) are final and shown to staff.
An outcome that is unknown (the call may have been applied) is retried by the caller with the
same idempotency key, never as a new request.

The explanations of Feishu's codes for staff live here for every app, each with the API
that answers it (``explanation``). Each ``reason`` is a ``Message``: stored on a row, it
reads in each reader's language.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from hireops.core.messages import Message, reworded
from hireops.feishu import (
    FeishuAuthError,
    FeishuError,
    FeishuQuotaExhausted,
    FeishuTransportError,
    TenantUnavailable,
)
from hireops.feishu.errors import SYSTEM_ERROR

# Codes any API may answer: the app's configuration, its tokens, the limits (docs/feishu.md
# §1.3, §11). A person must change something in the Feishu console, or wait.
PLATFORM = {
    10014: gettext_noop("The Feishu app is disabled: enable it in the Feishu developer console."),
    10015: gettext_noop("The Feishu app secret is wrong: check FEISHU_APP_SECRET."),
    99991543: gettext_noop(
        "The Feishu app id or secret does not exist: check FEISHU_APP_ID and FEISHU_APP_SECRET."
    ),
    99991672: gettext_noop(
        "The Feishu app lacks the permission (scope) this call needs: add it in the console."
    ),
    99991401: gettext_noop("Feishu refused this server's IP address: add it to the app's IP allowlist."),
    99991663: gettext_noop("Feishu refused the access token even after a fresh one was fetched."),
    99991664: gettext_noop("Feishu refused the app access token even after a fresh one was fetched."),
    99991665: gettext_noop("Feishu refused the tenant access token even after a fresh one was fetched."),
    10012: gettext_noop("Feishu could not issue an app access token (app_ticket missing or stale)."),
    10013: gettext_noop("Feishu could not issue a tenant access token: has the tenant removed the app?"),
    99991400: gettext_noop("Feishu's rate limit was reached; the call is tried again later."),
    99991403: gettext_noop(
        "The Feishu app has used up this month's API call quota: calls to Feishu are stopped until "
        "the quota renews on the 1st (or until it is raised in the Feishu console)."
    ),
}

# Hire's own codes mean what the API that answered them says: 1002855 is an exam graded
# already from the exam API and an invalid order-form field from the background-check one
# (/work/shared/docs/feishu-api-2.md §2.1, §3.3, §5; docs/feishu.md §4). Keyed by the
# client's endpoint name ("hire.eco_exam.update_result") or an API family, a leading part of
# it ("hire.eco_exam"); the longest that has the code explains it.
BY_API = {
    # The Hire-wide error page: "Parameter illegal".
    "hire": {1002002: gettext_noop("Feishu rejected the request as invalid.")},
    "hire.referral_account": {
        1002551: gettext_noop("No employee in Feishu has this mobile number or email."),
        1002552: gettext_noop(
            "This mobile number or email matches several employees in Feishu; register with the other one."
        ),
        1002553: gettext_noop("Feishu does not know this referral account."),
        1002555: gettext_noop("The account is deactivated in Feishu: enable it before withdrawing."),
    },
    # docs/feishu.md §4.1: the page's codes are UNCONFIRMED; the sandbox answers 1002002.
    "hire.external_referral_reward": {
        1002002: gettext_noop(
            "Feishu refused the reward as invalid: check the referrer's user id, the application or "
            "talent id, and the amount."
        ),
    },
    "hire.eco_background_check_package": {
        1002859: gettext_noop("Feishu refused the deletion as invalid."),
    },
    "hire.eco_background_check_custom_field": {
        # The page's text for it is "parameter error or system exception": what was wrong
        # (an account Feishu does not know, a field, a key retired on the account) is in its msg.
        1002855: reworded(
            gettext_noop(
                "Feishu refused the order-form fields as invalid (a parameter error: Feishu's "
                "message says what, for example an account it does not know or a key deleted before "
                "on this account)."
            ),
            was="Feishu refused the order-form fields as invalid (a key deleted before cannot be used "
            "again on this account).",
        ),
        1002860: gettext_noop("Feishu refused the deletion as invalid."),
    },
    "hire.eco_background_check": {
        1002858: gettext_noop(
            "Feishu says the order is not in a state that allows this (completed or cancelled)."
        ),
        1002862: gettext_noop("Feishu does not know this background-check order."),
    },
    "hire.eco_exam": {
        1002851: gettext_noop("Feishu says the exam is not in a state that allows this."),
        1002855: gettext_noop("Feishu refused the score: the customer has already graded the exam in Hire."),
    },
    # Messages from the app to a person (docs/feishu.md §18).
    "im.message": {
        230001: gettext_noop("Feishu refused the message as invalid."),
        230006: gettext_noop(
            "The Feishu app's bot ability is off: add the bot in the developer console and publish a version."
        ),
        230013: gettext_noop(
            "This person is outside the Feishu app's availability scope: add them in the developer "
            "console and publish a version."
        ),
        230025: gettext_noop("The message is larger than Feishu allows."),
        230029: gettext_noop("This person has left the company in Feishu."),
        230034: gettext_noop("Feishu does not know this person in this app."),
        230038: gettext_noop("Feishu does not let the app message a person of another company."),
        230053: gettext_noop("This person has stopped the app's bot from sending them messages."),
        230099: gettext_noop("Feishu could not build the message's card."),
        99992351: gettext_noop("Feishu does not know this person in this app."),
        99992361: gettext_noop(
            "This person's Feishu identity belongs to another app: staff sign in with an app other "
            "than the one that sends messages."
        ),
    },
    # The tenant info API (docs/feishu.md §7.7).
    "tenant.tenant.query": {
        1184000: gettext_noop("Feishu does not know this tenant."),
        1184001: gettext_noop(
            "Feishu does not let the app read this tenant's information (for example a store app "
            "pre-installed there and unused for 180 days). Type a name for it instead."
        ),
    },
}
# Read on rows stored before explanations were keyed by the API (one text served both).
EARLIER = (gettext_noop("Feishu refused the request: the exam is already graded, or a field is invalid."),)

# A code explained nowhere above, from any API.
REFUSED = gettext_noop("Feishu refused the request.")
FAILED_FOR_NOW = gettext_noop("Feishu could not handle the request; the call is tried again later.")


def explanation(endpoint: str | None, code: int | None) -> str | None:
    """The msgid explaining ``code`` as ``endpoint`` (or its API family) means it, else as any
    API does; None when neither has it."""
    parts = (endpoint or "").split(".")
    for n in range(len(parts), 0, -1):
        found = BY_API.get(".".join(parts[:n]), {}).get(code)  # type: ignore[arg-type]  # None: not found
        if found:
            return found
    return PLATFORM.get(code)  # type: ignore[arg-type]  # None: not found


SYSTEM_ERROR_REFUSED = gettext_noop(
    "Feishu refused the request (its code 1002001 with HTTP 400: a parameter error or an "
    "exception on its side). It is not retried; check the data and try again."
)
SYSTEM_ERROR_LATER = gettext_noop("Feishu had an internal error; the call is tried again later.")
UNREACHABLE = gettext_noop("Feishu could not be reached; the call is tried again later.")


def _detail(exc: FeishuError) -> str:
    """Feishu's own words: code and msg (or the HTTP status), and the log id to quote."""
    if exc.code is not None:
        said = f"Feishu {exc.code}: {exc.msg}"
    elif exc.http_status is not None:
        said = f"HTTP {exc.http_status}: {exc.msg}"
    else:  # no answer at all (a timeout), or refused here before sending
        said = exc.msg
    return f"{said}; log id {exc.log_id}" if exc.log_id else said


def explain(exc: FeishuError) -> str:
    """Our explanation of the error (a general one for a code we do not know), then Feishu's
    own words."""
    if isinstance(exc, TenantUnavailable):  # never sent: nothing of Feishu's to quote
        # The tenant gate gives a Message; the client, which imports nothing above it, a msgid.
        return exc.reason if isinstance(exc.reason, Message) else Message(exc.reason)
    if exc.code == SYSTEM_ERROR:
        msgid = SYSTEM_ERROR_LATER if exc.retryable else SYSTEM_ERROR_REFUSED
    elif isinstance(exc, FeishuTransportError):
        msgid = UNREACHABLE
    else:
        msgid = explanation(exc.endpoint, exc.code) or (FAILED_FOR_NOW if exc.retryable else REFUSED)
    return Message(
        gettext_noop("%(explanation)s (%(detail)s)"), explanation=Message(msgid), detail=_detail(exc)
    )


@dataclass(frozen=True)
class Failure:
    """What a failed call means for the row that asked for it."""

    retry: bool  # try the same call again later (same idempotency key)
    maybe_applied: bool  # Feishu may have acted although we saw no answer
    reason: str  # for staff, in their language
    code: int | None
    log_id: str
    stops_calls: bool  # no call of this app is sent until the quota renews
    app_wide: bool  # every call of the app would fail alike (configuration, auth, quota): stop a loop
    after: float | None = None  # seconds before the next try, if the kind has its own schedule

    def fields(self) -> dict:
        """The columns of a ``FeishuCall`` row (or any row with error, error_code, log_id)."""
        return {"error": self.reason, "error_code": self.code, "log_id": self.log_id}


def judge(exc: FeishuError) -> Failure:
    return Failure(
        retry=exc.retryable,
        maybe_applied=exc.maybe_applied,
        reason=explain(exc),
        code=exc.code,
        log_id=exc.log_id or "",
        stops_calls=isinstance(exc, FeishuQuotaExhausted),
        app_wide=not exc.retryable and isinstance(exc, FeishuAuthError | FeishuQuotaExhausted),
    )
