"""Making, changing, re-keying and removing endpoints, for the admin and the API alike: the same
checks on both paths.

Whoever acts has a ``Reach``: the scopes they may give (a key's own; a person's, by the
permissions behind each scope) and the tenants they may name (a key limited to tenants). Every
save checks the endpoint as it will be, not only what a request sends: a change of address,
or of anything else, never leaves an endpoint telling more than the one acting could read.

An endpoint is never deaf by omission: ``scopes`` left empty become the read scopes its event
types need among those the one acting holds (every such scope when it names no type), never a
personal-data scope unless asked; an event type none of its scopes can hear is refused, naming
the scope it needs.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from hireops.api.scopes import all_scopes, grantable_by
from hireops.core import audit
from hireops.core.messages import Message

from . import events, signing
from .addresses import RefusedAddress, check_url
from .models import WebhookEndpoint

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

    from hireops.api.models import ApiKey


class EndpointRefused(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Reach:
    """What the one acting may give an endpoint: ``holds(scope)``, and the tenants it may name
    (None: every tenant). ``who`` names it in refusals ("this key", "you")."""

    holds: Callable[[str], bool]
    tenants: frozenset[str] | None
    who: str

    @classmethod
    def of_key(cls, key: "ApiKey") -> "Reach":
        held = frozenset(key.scopes)
        return cls(held.__contains__, frozenset(key.tenant_keys) or None, _("This key"))

    @classmethod
    def of_person(cls, user: "AbstractBaseUser | AnonymousUser") -> "Reach":
        return cls(lambda scope: not grantable_by(user, [scope]), None, _("You"))  # type: ignore[arg-type]

    @classmethod
    def unlimited(cls) -> "Reach":
        """The system's own (the demo, the tests' setup): every scope, every tenant."""
        return cls(lambda scope: True, None, "hireops")

    def lacks(self, scopes: Iterable[str]) -> list[str]:
        return sorted(s for s in set(scopes) if not self.holds(s))

    def covers(self, endpoint: WebhookEndpoint) -> bool:
        """Whether it may manage this endpoint as it is: every scope held, and (limited to
        tenants) only its tenants named."""
        if self.lacks(endpoint.scopes):
            return False
        return self.tenants is None or (bool(endpoint.tenants) and set(endpoint.tenants) <= self.tenants)


def data_scopes() -> list[str]:
    """The scopes an endpoint may carry: those its events' data are read with."""
    named: set[str] = set()
    for t in events.types().values():
        named.update(s for s in (t.scope, t.personal_scope) if s)
    return sorted(named & set(all_scopes()))


def read_scopes(event_types: Iterable[str] = ()) -> list[str]:
    """The scopes ``event_types`` are heard with (every type's when none is named)."""
    declared = events.types()
    chosen = [declared[name] for name in event_types if name in declared] or declared.values()
    return sorted({t.scope for t in chosen if t.scope})


def default_scopes(reach: Reach, event_types: Iterable[str]) -> list[str]:
    """What an endpoint whose ``scopes`` were left empty reads with: the read scopes of its
    event types (of every type when it names none) that the one acting holds."""
    return [s for s in read_scopes(event_types) if reach.holds(s)]


def _deaf_to(event_types: Iterable[str], scopes: Iterable[str]) -> dict[str, str]:
    """{type: the scope it needs} for each named type these scopes cannot hear."""
    declared, held = events.types(), set(scopes)
    return {
        name: declared[name].scope  # type: ignore[misc]  # tested not None
        for name in event_types
        if name in declared and declared[name].scope and declared[name].scope not in held
    }


def check(
    reach: Reach,
    *,
    event_types: list[str],
    scopes: list[str],
    tenants: list[str],
    url: str | None = None,
) -> None:
    """Refuse an endpoint, as it would be saved, that ``reach`` may not make (``url``: checked
    when it is new or changes; an address is resolved, and may have moved since)."""
    if url is not None:
        try:
            check_url(url)
        except RefusedAddress as exc:
            raise EndpointRefused(str(exc), "url") from exc
    unknown = sorted(set(event_types) - set(events.types()))
    if unknown:
        raise EndpointRefused(
            _("Unknown event types: %(names)s.") % {"names": ", ".join(unknown)}, "event_types"
        )
    unknown = sorted(set(scopes) - set(data_scopes()))
    if unknown:
        raise EndpointRefused(
            _("Not a scope of events' data: %(names)s.") % {"names": ", ".join(unknown)}, "scopes"
        )
    if beyond := reach.lacks(scopes):
        raise EndpointRefused(
            _("%(who)s may not give an endpoint these scopes: %(names)s.")
            % {"who": reach.who, "names": ", ".join(beyond)},
            "scopes",
        )
    if deaf := _deaf_to(event_types, scopes):
        needs = "; ".join(
            _("%(type)s is heard with %(scope)s") % {"type": t, "scope": s} for t, s in sorted(deaf.items())
        )
        raise EndpointRefused(
            _("The endpoint would never hear some of its event types: %(needs)s.") % {"needs": needs},
            "scopes",
        )
    if not event_types and not set(scopes) & set(read_scopes()):
        raise EndpointRefused(
            _("The endpoint would hear nothing but pings: it needs one of %(scopes)s.")
            % {"scopes": ", ".join(read_scopes())},
            "scopes",
        )
    if reach.tenants is not None and (not tenants or set(tenants) - reach.tenants):
        raise EndpointRefused(_("This key may name only its own tenants."), "tenants")


def resolved_scopes(reach: Reach, event_types: list[str], scopes: Iterable[str]) -> list[str]:
    """The scopes as saved: those given, or the defaults when none were."""
    chosen = sorted(set(scopes))
    return chosen or default_scopes(reach, event_types)


def create(
    *,
    url: str,
    description: str = "",
    event_types: Iterable[str] = (),
    tenants: Iterable[str] = (),
    scopes: Iterable[str] = (),
    by: "User | None" = None,
    key: "ApiKey | None" = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once: the only time it is shown unasked). It
    belongs to ``key`` (made through the API) or to ``by`` (a person in the admin), and is
    bounded by their reach; neither: the system's own (the demo, the tests)."""
    reach = Reach.of_key(key) if key else Reach.of_person(by) if by else Reach.unlimited()
    types, tenant_keys = sorted(set(event_types)), sorted(set(tenants))
    chosen = resolved_scopes(reach, types, scopes)
    check(reach, url=url, event_types=types, scopes=chosen, tenants=tenant_keys)
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        event_types=types,
        tenants=tenant_keys,
        scopes=chosen,
        owner_key=key,
        created_by=key.actor if key else by,
    )
    secret = signing.set_new_secret(endpoint)
    with transaction.atomic():
        endpoint.save()
    return endpoint, secret


@dataclass
class Changes:
    """What a change asks for (None: left as it is)."""

    url: str | None = None
    description: str | None = None
    event_types: list[str] | None = None
    tenants: list[str] | None = None
    scopes: list[str] | None = None
    enabled: bool | None = None


DISABLED_ON_REQUEST = gettext_noop("disabled on request")
KEY_NOT_USABLE = gettext_noop(
    "Its API key %(prefix)s… no longer works: a superuser hands the endpoint to another key first."
)


def change(endpoint: WebhookEndpoint, reach: Reach, asked: Changes) -> str | None:
    """Apply ``asked`` to ``endpoint`` (locked by the caller) and save it, after checking the
    endpoint as it will be against ``reach``. A new address gets a new secret, the old one not
    carried over (whoever knew it learns nothing of the new receiver's deliveries): returned,
    or None when the address stays."""
    refuse_unless_covered(reach, endpoint)
    types = sorted(set(asked.event_types)) if asked.event_types is not None else endpoint.event_types
    tenants = sorted(set(asked.tenants)) if asked.tenants is not None else endpoint.tenants
    scopes = endpoint.scopes if asked.scopes is None else resolved_scopes(reach, types, asked.scopes)
    moved = asked.url is not None and asked.url != endpoint.url
    check(reach, url=asked.url if moved else None, event_types=types, scopes=scopes, tenants=tenants)
    endpoint.event_types, endpoint.tenants, endpoint.scopes = types, tenants, scopes
    if asked.description is not None:
        endpoint.description = asked.description
    secret = None
    if moved:
        endpoint.url = asked.url  # type: ignore[assignment]  # moved: not None
        secret = signing.set_new_secret(endpoint)
        endpoint.previous_secret, endpoint.previous_until = "", None
    if asked.enabled is True and not endpoint.enabled:
        enable(endpoint)
    elif asked.enabled is False and endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason = False, Message(DISABLED_ON_REQUEST)
    endpoint.save()
    return secret


def rotate_secret(endpoint: WebhookEndpoint, reach: Reach) -> str:
    """A new signing secret for ``endpoint`` (locked by the caller), the current one signing
    beside it for the overlap (``signing.rotate``): returned, the only time it is shown unasked."""
    refuse_unless_covered(reach, endpoint)
    return signing.rotate(endpoint)


def remove(endpoint: WebhookEndpoint, reach: Reach) -> None:
    """The endpoint gone, with its delivery log."""
    refuse_unless_covered(reach, endpoint)
    endpoint.delete()


NOT_THAT_KEY = gettext_lazy(
    "That key may not read all this endpoint is sent (its scopes and tenants), or no longer works."
)
HANDED_OVER = gettext_noop("Handed to %(to)s (it belonged to %(was)s).")
STAFF = gettext_noop("the staff")


def hand_over(endpoint: WebhookEndpoint, key: "ApiKey | None", *, by: "User | None") -> None:
    """Give ``endpoint`` to ``key`` (None: to the staff), which alone reaches it through the API
    from now on; a key that may not read all it is sent, or no longer works, is refused. Its
    secret stays (the partner behind a replaced key keeps verifying); its history says who
    handed it from whom to whom."""
    if key is not None and (not key.usable or not Reach.of_key(key).covers(endpoint)):
        raise EndpointRefused(str(NOT_THAT_KEY), "owner_key")
    was = endpoint.owner_key
    endpoint.owner_key = key
    endpoint.save(update_fields=["owner_key", "updated_at"])
    named = {"to": str(key) if key else STAFF, "was": str(was) if was else STAFF}
    audit.record(by, [endpoint], HANDED_OVER, named)


def refuse_unless_covered(reach: Reach, endpoint: WebhookEndpoint) -> None:
    """One who could not read what the endpoint is sent changes nothing of it, sends nothing
    to it again and never reads its secret."""
    if not reach.covers(endpoint):
        raise EndpointRefused(
            _("%(who)s may not manage an endpoint that reads with %(scopes)s.")
            % {"who": reach.who, "scopes": ", ".join(endpoint.scopes) or "-"},
            "scopes",
        )


def enable(endpoint: WebhookEndpoint) -> None:
    """Enabled again: its failures forgotten (deliveries failed meanwhile are resent by hand).
    Not while the key it belongs to no longer works: it would be the key's way back in."""
    key = endpoint.owner_key
    if key is not None and not key.usable:
        raise EndpointRefused(str(Message(KEY_NOT_USABLE, prefix=key.prefix)), "enabled")
    endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since = True, "", None
