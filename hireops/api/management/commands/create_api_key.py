from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hireops.api import keys
from hireops.api.scopes import all_scopes


class Command(BaseCommand):
    help = (
        "Make an API key for a partner's system and print it (alone on the last line). It is "
        "shown only now: hireops keeps its hash."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="What the key is for, e.g. 'payroll sync'.")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            dest="scopes",
            help="A scope; repeat for more (see --list-scopes in docs/api.md).",
        )
        parser.add_argument(
            "--tenant",
            action="append",
            default=[],
            dest="tenants",
            help="Limit the key to this tenant key; repeat for more. None: every tenant.",
        )
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Days until the key stops working (default: never).",
        )

    def handle(
        self, name: str, scopes: list[str], tenants: list[str], expires_in_days: int | None, **options: Any
    ) -> None:
        try:
            made = keys.create(name, scopes, tenant_keys=tenants, expires_in_days=expires_in_days)
        except keys.KeyRefused as exc:
            known = ", ".join(all_scopes())
            raise CommandError(f"{exc} Scopes: {known}.") from None
        row = made.row
        self.stderr.write(
            f"API key {row.name!r} ({row.prefix}…), scopes {', '.join(row.scopes)}"
            + (f", tenants {', '.join(row.tenant_keys)}" if row.tenant_keys else ", every tenant")
            + (f", expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else "")
            + ". It is shown once:"
        )
        self.stdout.write(made.key)
