from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hireops.api import keys


class Command(BaseCommand):
    help = (
        "Revoke an API key, named by its prefix (hko_ and at least 4 more characters); "
        "it stops working at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix")

    def handle(self, prefix: str, **options: Any) -> None:
        try:
            row = keys.revoke(prefix)
        except keys.KeyRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Revoked {row.name!r} ({row.prefix}…) at {row.revoked_at:%Y-%m-%d %H:%M:%S} UTC.")
