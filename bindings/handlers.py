"""Feishu events consumed by the vendor side."""

from .matching import binding_upsert_from_event


def eco_account_created(event) -> None:
    """``hire.eco_account.created_v1``: a Feishu Hire customer added our account."""
    binding_upsert_from_event(
        app_id=event.app_id,
        tenant_key=event.tenant_key,
        event_id=event.event_id,
        event=event.payload.get("event") or {},
    )
