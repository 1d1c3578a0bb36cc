"""A delivery's lease must outlive its attempt: a worker still sending when the lease ends
would see the sweep hand the same delivery to another worker, and the partner would receive it
twice at once."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error


def attempt_fits_in_its_lease(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    from .delivery import LEASE, _time_limits

    _soft, hard = _time_limits()
    if timedelta(seconds=hard) < LEASE:
        return []
    longest = int(LEASE.total_seconds()) - (hard - int(settings.WEBHOOK_TIMEOUT)) - 1
    return [
        Error(
            f"WEBHOOK_TIMEOUT is {settings.WEBHOOK_TIMEOUT:g} s: an attempt may then run {hard} s, "
            f"past its delivery's lease of {int(LEASE.total_seconds())} s, and be sent a second time "
            "beside it.",
            hint=f"Set WEBHOOK_TIMEOUT to at most {longest} s (Standard Webhooks' receivers answer "
            "within seconds; the default is 15).",
            id="hireops.E040",
        )
    ]
