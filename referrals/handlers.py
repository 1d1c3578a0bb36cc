"""Feishu events consumed by the HR side."""

from .balances import assets_event_apply


def assets_updated(event) -> None:
    assets_event_apply(event)
