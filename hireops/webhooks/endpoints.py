"""Making and changing endpoints, for the admin and the API alike: the same checks on both paths."""

from django.db import transaction
from django.utils.translation import gettext as _

from hireops.api.scopes import all_scopes, grantable_by

from . import events, signing
from .addresses import RefusedAddress, check_url
from .models import WebhookEndpoint


class EndpointRefused(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def data_scopes() -> list[str]:
    """The scopes an endpoint may carry: those its events' data are read with."""
    named: set[str] = set()
    for t in events.types().values():
        named.update(s for s in (t.scope, t.personal_scope) if s)
    return sorted(named & set(all_scopes()))


def check(*, url=None, event_types=None, scopes=None, tenants=None, by=None, limited_to=None) -> None:
    """Refuse what may not be saved. ``by``: the person (their permissions bound the scopes);
    ``limited_to``: the tenants of the API key making it (its endpoints hear no others)."""
    if url is not None:
        try:
            check_url(url)
        except RefusedAddress as exc:
            raise EndpointRefused(str(exc), "url") from exc
    if event_types is not None:
        unknown = sorted(set(event_types) - set(events.types()))
        if unknown:
            raise EndpointRefused(
                _("Unknown event types: %(names)s.") % {"names": ", ".join(unknown)}, "event_types"
            )
    if scopes is not None:
        unknown = sorted(set(scopes) - set(data_scopes()))
        if unknown:
            raise EndpointRefused(
                _("Not a scope of events' data: %(names)s.") % {"names": ", ".join(unknown)}, "scopes"
            )
        if by is not None and (refused := grantable_by(by, scopes)):
            raise EndpointRefused(
                _("You may not give an endpoint these scopes: %(names)s.") % {"names": ", ".join(refused)},
                "scopes",
            )
    if limited_to and tenants is not None and (not tenants or set(tenants) - set(limited_to)):
        raise EndpointRefused(_("This key may name only its own tenants."), "tenants")


def create(
    *, url, description="", event_types=(), tenants=(), scopes=(), by=None, limited_to=None, actor=None
):
    """A new endpoint and its secret (returned once: the only time it is shown unasked). ``by``:
    the person making it (their permissions bound its scopes); ``actor``: the API key's user
    making it (the key's own scopes bound them, checked by the API)."""
    check(
        url=url, event_types=event_types, scopes=scopes, tenants=list(tenants), by=by, limited_to=limited_to
    )
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        event_types=sorted(set(event_types)),
        tenants=sorted(set(tenants)),
        scopes=sorted(set(scopes)),
        created_by=by or actor,
    )
    secret = signing.set_new_secret(endpoint)
    with transaction.atomic():
        endpoint.save()
    return endpoint, secret


def enable(endpoint: WebhookEndpoint) -> None:
    """Enabled again: its failures forgotten (deliveries failed meanwhile are resent by hand)."""
    endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since = True, "", None
