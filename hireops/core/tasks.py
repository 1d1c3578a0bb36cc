"""Housekeeping tasks that belong to no single app."""

import logging

from celery import shared_task

from . import trends

log = logging.getLogger(__name__)


@shared_task(name="hireops.core.ping")
def ping(token: str = "") -> str:
    """Round trip used by the health check and the real-worker tests."""
    log.info("ping %s", token)
    return f"pong {token}".strip()


@shared_task(name="core.trends_recompute", ignore_result=True)
def trends_recompute() -> int:
    """Recompute the trends' dirty hours (hireops.core.trends): safe to kill, to run twice."""
    return trends.recompute()
