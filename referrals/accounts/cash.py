"""Cash as Feishu gives it, ``{currency: amount}`` with each amount a string or a number, in
whole hundredths: what the trends keep, integers summed exactly."""

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation


def hundredths(amount: Decimal) -> int:
    """An amount of money as a whole number of hundredths: the rollups keep integers, summed
    exactly."""
    return int(amount.scaleb(2).to_integral_value())


def cash_hundredths(cash: dict | None) -> Iterator[tuple[str, int]]:
    """(currency, hundredths) of each amount of ``cash``. An amount that is not a number is
    left out: it is kept as Feishu said it, and there is nothing to add up."""
    for currency, amount in (cash or {}).items():
        try:
            yield currency, hundredths(Decimal(str(amount)))
        except (InvalidOperation, ValueError):
            continue
