"""One external reward as the services take it: ``RewardInput``, typed and checked here, once.

Three ways in reach it: the import file's row and the admin's add form as text
(``RewardInput.from_text``), and the partners' API as JSON already typed (``referrals.api``
builds one from its schema). Whichever way it came, a ``RewardInput`` that exists is a reward
Feishu can take: building one that is not raises ``ValidationError`` naming every bad field, in
the reader's language (the API answers in English), so bad input changes nothing. Text that
cannot be read as its type is refused here too, with the words of that field's check.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import ExternalReferralReward, RewardBonusType, RewardRuleType, RewardStage

# The columns of an import file, and the fields of the add form (the same names).
COLUMNS = (
    "external_id",
    "employee_id",
    "name",
    "application_id",
    "talent_id",
    "job_id",
    "rule_type",
    "stage",
    "points",
    "currency",
    "amount",
    "reason",
    "comment",
    "create_time",
    "confirm_time",
    "pay_time",
    "onboard_time",
    "conversion_time",
)
TIMES = ("create_time", "confirm_time", "pay_time", "onboard_time", "conversion_time")
TEXTS = ("tenant_key", "external_id", "employee_id", "name", "application_id", "talent_id", "job_id")
RULE_WORDS = {"onboard": 1, "process": 2, "activity": 3, "open_source": 4, "other": 5}
STAGE_WORDS = {"to_be_confirmed": 1, "confirmed": 2, "paid": 3}
_ID = re.compile(r"[\w.:-]{1,64}")  # what we accept as an external id (no spaces, no slashes)
_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_POINTS = 10**15
MAX_AMOUNT = Decimal("9999999999999999.99")  # the column's 18 digits
# Feishu takes the times as 13-digit millisecond timestamps.
EARLIEST, LATEST = 10**12, 10**13 - 1
# What text that is not a number of its field is read as: a value its field's check refuses
# with that field's words (a points column of "abc" is refused as points are, not as missing).
_NOT_POINTS = -1
_NOT_AMOUNT = Decimal("NaN")


@dataclass(frozen=True, kw_only=True)
class RewardInput:
    """A reward to import into a referral account (docs/feishu.md §4.1): points, or a cash
    amount with its currency; the times in Feishu's milliseconds. Text is kept stripped and
    the currency upper-case, as the row stores them."""

    external_id: str
    employee_id: str  # the referrer's Feishu user id
    rule_type: int  # RewardRuleType
    stage: int  # RewardStage
    tenant_key: str = ""
    name: str = ""
    application_id: str = ""
    talent_id: str = ""
    job_id: str = ""
    points: int | None = None
    currency: str = ""
    amount: Decimal | None = None
    reason: str = ""
    comment: str = ""
    create_time: int | None = None
    confirm_time: int | None = None
    pay_time: int | None = None
    onboard_time: int | None = None
    conversion_time: int | None = None

    def __post_init__(self) -> None:
        for name in (*TEXTS, "currency", "reason", "comment"):
            object.__setattr__(self, name, str(getattr(self, name) or "").strip())
        object.__setattr__(self, "currency", self.currency.upper())
        errors = _problems(self)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def from_text(cls, data: dict, tenant_key: str = "") -> "RewardInput":
        """A reward from the import file's row or the add form's values (``COLUMNS``, as text);
        ``ValidationError`` naming every bad field."""
        text = {name: str(data.get(name) or "").strip() for name in COLUMNS}
        errors: dict[str, str] = {}  # what could not be read at all
        values: dict[str, Any] = {
            **text,
            "rule_type": _number(text["rule_type"], RULE_WORDS),
            "stage": _number(text["stage"], STAGE_WORDS),
            "points": _whole(text["points"]),
            "amount": _decimal(text["amount"]),
            **{name: _time_ms(text[name], name, errors) for name in TIMES},
        }
        try:
            reward = cls(tenant_key=tenant_key or "", **values)
        except ValidationError as exc:
            checked = {field: " ".join(messages) for field, messages in exc.message_dict.items()}
            raise ValidationError({**checked, **errors}) from None
        if errors:
            raise ValidationError(errors)
        return reward

    def row(self) -> ExternalReferralReward:
        """The unsaved row this reward is kept as."""
        points = self.points is not None
        return ExternalReferralReward(
            tenant_key=self.tenant_key,
            external_id=self.external_id,
            employee_id=self.employee_id,
            name=self.name,
            application_id=self.application_id,
            talent_id=self.talent_id,
            job_id=self.job_id,
            rule_type=self.rule_type,
            stage=self.stage,
            bonus_type=RewardBonusType.POINTS if points else RewardBonusType.CASH,
            points=self.points,
            currency="" if points else self.currency,
            amount=self.amount,
            reason=self.reason,
            comment=self.comment,
            **{name: getattr(self, name) for name in TIMES},
        )


def moment_ms(moment: datetime) -> int:
    """A time as Feishu's milliseconds (one without an offset is the deployment's); one too far
    out to count in milliseconds reads as -1, which the times' check refuses."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        return int(moment.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):
        return -1


# --- the checks ------------------------------------------------------------------------------


def _problems(reward: RewardInput) -> dict[str, str]:
    """Every field at fault, with what is wrong, in the reader's language."""
    errors: dict[str, str] = {}
    if not _ID.fullmatch(reward.external_id):
        errors["external_id"] = _(
            "The external id is required: up to 64 letters, digits, dots, colons, dashes or underscores."
        )
    if not reward.employee_id or len(reward.employee_id) > 128:
        errors["employee_id"] = _("The referrer's Feishu user id (employee id) is required.")
    if not (reward.application_id or reward.talent_id):
        errors["application_id"] = _("Give the application id or the talent id (or both).")
    for name in ("application_id", "talent_id", "job_id"):
        if len(getattr(reward, name)) > 64:
            errors[name] = _("An id has at most 64 characters.")
    _choice(reward.rule_type, RULE_WORDS, RewardRuleType, "rule_type", _("rule type"), errors)
    _choice(reward.stage, STAGE_WORDS, RewardStage, "stage", _("reward status"), errors)
    _bonus(reward, errors)
    for name, limit in (("name", 100), ("reason", 200), ("comment", 500)):
        if len(getattr(reward, name)) > limit:
            errors[name] = ngettext("At most %(n)d character.", "At most %(n)d characters.", limit) % {
                "n": limit
            }
    for name in TIMES:
        ms = getattr(reward, name)
        if ms is not None and not EARLIEST <= ms <= LATEST:
            errors[name] = _("A time from %(earliest)s to %(latest)s.") % {
                "earliest": _bound(EARLIEST),
                "latest": _bound(LATEST),
            }
    return errors


def _choice(number: int, words: dict, choices, field: str, what: str, errors: dict) -> None:
    if number not in choices.values:
        errors[field] = _("Choose the %(what)s: %(allowed)s.") % {
            "what": what,
            "allowed": ", ".join(f"{v} ({w})" for w, v in words.items()),
        }


def _bonus(reward: RewardInput, errors: dict) -> None:
    """Points, or a cash amount (cents at most) with its currency: one of the two."""
    amount, currency = reward.amount, reward.currency
    if reward.points is not None and (amount is not None or currency):
        errors["points"] = _("A reward is points or cash, not both.")
    elif reward.points is not None:
        if not 0 <= reward.points <= MAX_POINTS:
            errors["points"] = _("Points are a whole number, 0 or more.")
    elif amount is not None:
        # Finite and bounded before quantize: "1e400" is a finite Decimal that quantize cannot hold.
        cents = (
            amount.is_finite() and 0 <= amount <= MAX_AMOUNT and amount == amount.quantize(Decimal("0.01"))
        )
        if not cents:
            errors["amount"] = _("The amount is a number, 0 or more, with at most two decimals.")
        if not _CURRENCY.fullmatch(currency):
            errors["currency"] = _("A cash reward needs its currency, e.g. CNY.")
    else:
        errors["points"] = _("Give the points, or the cash amount and its currency.")


def _bound(ms: int) -> str:
    """A bound in a refusal, as the API writes its times (UTC, to the millisecond)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- text, read as its type ------------------------------------------------------------------


def _digits(raw: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return raw.isascii() and raw.isdigit()


def _number(raw: str, words: dict) -> int:
    """A choice given by its word or its number; 0 (no choice) for anything else."""
    raw = raw.lower()
    return words.get(raw, int(raw) if _digits(raw) and len(raw) < 5 else 0)


def _whole(raw: str) -> int | None:
    if not raw:
        return None
    return int(raw) if _digits(raw) and len(raw) <= 16 else _NOT_POINTS


def _decimal(raw: str) -> Decimal | None:
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return _NOT_AMOUNT


def _time_ms(raw: str, field: str, errors: dict) -> int | None:
    """A 13-digit millisecond timestamp, or a date (YYYY-MM-DD, the deployment's midnight)."""
    if not raw:
        return None
    if _digits(raw) and len(raw) == 13:
        return int(raw)
    try:
        day = datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        errors[field] = _("Give a date as YYYY-MM-DD (or a 13-digit millisecond timestamp).")
        return None
    return int(timezone.make_aware(day).timestamp() * 1000)
