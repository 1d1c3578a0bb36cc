"""``manage.py create_api_key NAME --scope SCOPE …``: a key for a partner's system, made by an
operator. What could never work is refused before anything is made: an unknown scope, a tenant
hireops does not know, and a scope that moves money (a key acts on the authority of the person
who made it, and this command has nobody behind it: docs/api.md, "Scopes")."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from hireops.api import keys
from hireops.api.scopes import Scope, all_scopes
from hireops.core.management.base import HireopsCommand
from hireops.signin import second_factor
from hireops.tenants.models import Tenant

SHOWN_TENANTS = 20  # an unknown tenant's refusal names this many of the known ones


def moves_money(scope: Scope) -> bool:
    return scope.permission in second_factor.money_permissions()


class Command(HireopsCommand):
    help = (
        "Make an API key for a partner's system and print it (alone on the last line). It is "
        "shown only now: hireops keeps its hash."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="What the key is for, e.g. 'payroll sync'.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            dest="scopes",
            help="A scope; repeat for more (--list-scopes lists them).",
        )
        parser.add_argument(
            "--tenant",
            action="append",
            default=[],
            dest="tenants",
            help="Limit the key to this tenant key (one hireops knows); repeat for more. None: every tenant.",
        )
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Days until the key stops working (default: never).",
        )
        parser.add_argument(
            "--list-scopes",
            action="store_true",
            help="List the scopes a key may hold, with what each allows, and make nothing.",
        )

    def handle(
        self,
        name: str | None,
        scopes: list[str],
        tenants: list[str],
        expires_in_days: int | None,
        list_scopes: bool,
        **options: Any,
    ) -> None:
        if list_scopes:
            self._list_scopes()
            return
        if not name or not scopes:
            raise CommandError(_("Give the key a name and at least one --scope (--list-scopes lists them)."))
        known = all_scopes()
        if bad := [s for s in scopes if s not in known]:
            raise CommandError(
                _("Unknown scope: %(scopes)s. Scopes: %(known)s.")
                % {"scopes": ", ".join(bad), "known": ", ".join(known)}
            )
        if money := sorted({s for s in scopes if moves_money(known[s])}):
            raise CommandError(
                _(
                    "%(scopes)s moves money, which a key does only on the authority of the person who "
                    "made it: a key made by this command has nobody behind it and could never use it. "
                    "Make the key in the admin (Partner API → API keys)."
                )
                % {"scopes": ", ".join(money)}
            )
        self._check_tenants(tenants)
        try:
            made = keys.create(name, scopes, tenant_keys=tenants, expires_in_days=expires_in_days)
        except keys.KeyRefused as exc:
            raise CommandError(str(exc)) from None
        row = made.row
        self.stderr.write(
            _("API key %(name)s (%(prefix)s…), scopes %(scopes)s, %(tenants)s%(expiry)s. It is shown once:")
            % {
                "name": repr(row.name),
                "prefix": row.prefix,
                "scopes": ", ".join(row.scopes),
                "tenants": _("tenants %(tenants)s") % {"tenants": ", ".join(row.tenant_keys)}
                if row.tenant_keys
                else _("every tenant"),
                "expiry": _(", expires %(at)s") % {"at": f"{row.expires_at:%Y-%m-%d %H:%M} UTC"}
                if row.expires_at
                else "",
            }
        )
        self.stdout.write(made.key)

    def _list_scopes(self) -> None:
        scopes = all_scopes()
        width = max(len(name) for name in scopes)
        for name, scope in scopes.items():
            line = f"{name:<{width}}  {scope.description}"
            if moves_money(scope):
                line += " " + _("(moves money: only a key made in the admin by a person may hold it)")
            self.stdout.write(line)

    def _check_tenants(self, tenants: list[str]) -> None:
        """Every tenant named is one hireops knows (from its events, or the store app's install):
        a key limited to another sees nothing, ever."""
        if unknown := keys.unknown_tenants(tenants):
            known = list(
                Tenant.objects.order_by("tenant_key").values_list("tenant_key", flat=True)[
                    : SHOWN_TENANTS + 1
                ]
            )
            listed = ", ".join(known[:SHOWN_TENANTS]) + (", …" if len(known) > SHOWN_TENANTS else "")
            raise CommandError(
                _("Unknown tenant: %(tenants)s. The tenants hireops knows: %(known)s.")
                % {"tenants": ", ".join(unknown), "known": listed or _("none yet")}
            )
