"""Amounts of payout runs: how a line's cash is written, compared, shown and added up."""

from decimal import Decimal

BATCH = 2000  # lines read or written at a time


class PayoutRefused(Exception):
    """Why a run cannot be prepared or decided as asked (shown to the person as it is)."""


def normalised(cash: dict | None) -> dict[str, str]:
    """``{currency: amount}`` with two decimals and without zero amounts: how lines compare."""
    amounts = {}
    for currency, amount in (cash or {}).items():
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
        if value:
            amounts[currency] = str(value)
    return dict(sorted(amounts.items()))


def cash_text(cash: dict | None) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in normalised(cash).items()) or "0"


def add_totals(totals: dict[str, Decimal], cash: dict) -> None:
    for currency, amount in cash.items():
        totals[currency] = totals.get(currency, Decimal(0)) + Decimal(str(amount))


def totals_json(totals: dict[str, Decimal]) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in sorted(totals.items())}
