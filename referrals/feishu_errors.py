"""Feishu's referral-account error codes, explained for HR staff (feishu-api.md §4).

``explain`` returns a ``Message``: stored on a row, it reads in each reader's language.
"""

from django.utils.translation import gettext_noop

from hireops.core.messages import Message
from hireops.feishu import FeishuError

EXPLANATIONS = {
    1002001: gettext_noop("Feishu had an internal error; try again later."),
    1002002: gettext_noop("Feishu rejected the request as invalid."),
    1002551: gettext_noop("No employee in Feishu has this mobile number or email."),
    1002552: gettext_noop(
        "This mobile number or email matches several employees in Feishu; register with the other one."
    ),
    1002553: gettext_noop("Feishu does not know this referral account."),
    1002555: gettext_noop("The account is deactivated in Feishu: enable it before withdrawing."),
}


def explain(exc: FeishuError) -> str:
    """Our explanation of Feishu's error code, if we have one, then Feishu's own words."""
    detail = f"Feishu {exc.code}: {exc.msg}" if exc.code is not None else f"HTTP {exc.http_status}: {exc.msg}"
    msgid = EXPLANATIONS.get(exc.code)
    if msgid is None:
        return detail
    return Message(gettext_noop("%(explanation)s (%(detail)s)"), explanation=Message(msgid), detail=detail)
