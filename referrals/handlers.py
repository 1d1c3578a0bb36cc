"""Feishu events consumed by the HR side."""

from .accounts.services import assets_event_apply, joiner_register, resigned
from .leavers.models import LeaverHow
from .leavers.services import leaver_event


def assets_updated(event) -> None:
    assets_event_apply(event)


def user_deleted(event) -> None:
    """contact.user.deleted_v3: the employee left."""
    leaver_event(event, LeaverHow.DELETED)


def user_updated(event) -> None:
    """contact.user.updated_v3: only a change to resigned concerns the referrals."""
    if resigned(event.payload):
        leaver_event(event, LeaverHow.RESIGNED)


def user_created(event) -> None:
    """contact.user.created_v3: a new employee (registered when REFERRAL_REGISTER_JOINERS)."""
    joiner_register(event)
