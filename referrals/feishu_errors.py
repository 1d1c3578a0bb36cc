"""Feishu's referral-account error codes, explained for HR staff (feishu-api.md §4)."""

from django.utils.translation import gettext_lazy as _

from hireops.feishu import FeishuError

EXPLANATIONS = {
    1002001: _("Feishu had an internal error; try again later."),
    1002002: _("Feishu rejected the request as invalid."),
    1002551: _("No employee in Feishu has this mobile number or email."),
    1002552: _(
        "This mobile number or email matches several employees in Feishu; register with the other one."
    ),
    1002553: _("Feishu does not know this referral account."),
    1002555: _("The account is deactivated in Feishu: enable it before withdrawing."),
}


def explain(exc: FeishuError) -> str:
    text = EXPLANATIONS.get(exc.code)
    detail = f"Feishu {exc.code}: {exc.msg}" if exc.code is not None else f"HTTP {exc.http_status}: {exc.msg}"
    return f"{text} ({detail})" if text else detail
