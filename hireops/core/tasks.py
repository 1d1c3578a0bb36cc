"""Housekeeping tasks that belong to no single app."""

import logging

from celery import shared_task

from . import trends
from .trends import sections

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


@shared_task(name="core.trends_refresh", ignore_result=True)
def trends_refresh() -> int:
    """Draw the dashboards' trends anew for the readers of the last day (sections.refresh):
    safe to kill (what was drawn stays kept), to run twice."""
    return sections.refresh()
