from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from hireops.api import keys
from hireops.core.management.base import HireopsCommand


class Command(HireopsCommand):
    help = (
        "Revoke an API key, named by its prefix (hko_ and at least 4 more characters); "
        "it stops working at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix", help="The key's first characters, as lists show them: hko_AbCd1234.")

    def handle(self, prefix: str, **options: Any) -> None:
        try:
            row = keys.revoke(prefix)
        except keys.KeyRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("Revoked %(name)s (%(prefix)s…) at %(at)s UTC.")
            % {"name": repr(row.name), "prefix": row.prefix, "at": f"{row.revoked_at:%Y-%m-%d %H:%M:%S}"}
        )
