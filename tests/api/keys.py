"""Keys for the API tests, made through the service the admin and the command use."""

from hireops.api import keys


def make_key(*scopes, tenants=(), days=None, name="partner", by=None) -> str:
    """A key as the command makes it (``by``: as that person makes it in the admin; a key
    that moves money needs a person behind it)."""
    return keys.create(name, scopes, tenant_keys=tenants, expires_in_days=days, by=by).key


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}
