"""Order writes and catalogue pushes that need a person (hireops.ops.status)."""

from hireops.ops import status

from .catalogue.models import CataloguePush
from .models import OrderWrite


@status.check
def writes_and_pushes():
    yield from status.feishu_calls("orders.writes", OrderWrite)
    yield from status.feishu_calls("orders.catalogue_pushes", CataloguePush)
