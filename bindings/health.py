"""Custom-field publishes that need a person (hireops.ops.status)."""

from hireops.ops import status

from .models import FieldPublish


@status.check
def publishes():
    yield from status.feishu_calls("bindings.publishes", FieldPublish)
