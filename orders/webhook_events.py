"""The orders' events for partners' webhooks (hireops.webhooks): ``data`` is the order as
``GET /api/v1/orders/{id}`` answers it, personal data only to an endpoint with
``orders:personal_data``."""

from django.utils.translation import gettext_lazy as _

from hireops.webhooks.events import EventType, declare

from .api.catalogue import push_out
from .api.catalogue_schemas import PushOut
from .api.schemas import Masker, OrderOut, one_order
from .api.scopes import PERSONAL, READ


def order_data(order, personal: bool, whole: bool) -> OrderOut:
    return one_order(order, Masker(full=personal))


ORDER_CREATED = declare(
    EventType(
        "order.created",
        _("Feishu Hire placed a background check or an exam with the vendor."),
        scope=READ,
        personal_scope=PERSONAL,
        schema=OrderOut,
        render=order_data,
    )
)
ORDER_CANCELED = declare(
    EventType(
        "order.canceled",
        _("The customer terminated a background check in Feishu Hire: it ends; writes queued for it close."),
        scope=READ,
        personal_scope=PERSONAL,
        schema=OrderOut,
        render=order_data,
    )
)
ORDER_WRITE_FAILED = declare(
    EventType(
        "order.write.failed",
        _(
            "Feishu refused for good a progress, result, login or score sent for an order: the order, "
            "its failed write among its writes, with Feishu's reason."
        ),
        scope=READ,
        personal_scope=PERSONAL,
        schema=OrderOut,
        render=order_data,
    )
)


def _push(push, personal: bool, whole: bool) -> PushOut:
    return push_out(push)


CATALOGUE_PUSH_FAILED = declare(
    EventType(
        "catalogue.push.failed",
        _("A catalogue (packages, exam papers) could not be pushed to a customer's account in Feishu."),
        scope="catalogue:read",
        schema=PushOut,
        render=_push,
    )
)
