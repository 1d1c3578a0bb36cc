"""The platform's own operation: what the calling key is (a partner checks its setup)."""

from ninja import Router, Schema

from .keys import KeyedRequest
from .schemas import Moment
from .site import operation, register

router = Router(tags=["Keys"])


class KeyOut(Schema):
    name: str
    prefix: str
    scopes: list[str]
    tenants: list[str]
    expires_at: Moment | None


@operation(
    router.get,
    "/key",
    "getCurrentKey",
    scope=None,
    summary="The calling key: its name, scopes, tenants and expiry",
    response=KeyOut,
)
def current_key(request: KeyedRequest) -> KeyOut:
    key = request.api_key
    return KeyOut(
        name=key.name,
        prefix=key.prefix,
        scopes=key.scopes,
        tenants=key.tenant_keys,
        expires_at=key.expires_at,
    )


register(router)
