"""Feishu events consumed by the vendor orders (registered in ``apps.py``)."""

from . import intake


def _args(event) -> dict:
    return {
        "app_id": event.app_id,
        "tenant_key": event.tenant_key,
        "event_id": event.event_id,
        "event": event.payload.get("event") or {},
    }


def background_check_created(event) -> None:
    """``hire.eco_background_check.created_v1``: a customer arranged a background check."""
    intake.background_check_created(**_args(event))


def background_check_canceled(event) -> None:
    """``hire.eco_background_check.canceled_v1``: the customer terminated it in Hire."""
    intake.background_check_canceled(**_args(event))


def exam_created(event) -> None:
    """``hire.eco_exam.created_v1``: a customer arranged an exam."""
    intake.exam_created(**_args(event))
