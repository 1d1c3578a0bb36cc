"""Housekeeping tasks that belong to no single app."""

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="hireops.core.ping")
def ping(token: str = "") -> str:
    """Round trip used by the health check and the real-worker tests."""
    log.info("ping %s", token)
    return f"pong {token}".strip()
