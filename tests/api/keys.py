"""Keys for the API tests, made through the service the admin and the command use."""

from hireops.api import keys


def make_key(*scopes, tenants=(), days=None, name="partner") -> str:
    return keys.create(name, scopes, tenant_keys=tenants, expires_in_days=days).key


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}
