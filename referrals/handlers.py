"""Feishu events consumed by the HR side."""

from .balances import assets_event_apply
from .directory import resigned
from .joiners import joiner_register
from .leavers import leaver_event
from .models import LeaverHow


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
