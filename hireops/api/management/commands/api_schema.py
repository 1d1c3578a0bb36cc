import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from hireops.api.served import api
from hireops.core.management.base import HireopsCommand

SNAPSHOT = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def document() -> str:
    """The API's OpenAPI document as /api/v1/openapi.json serves it, in a stable text form."""
    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(HireopsCommand):
    help = (
        "Write the partner API's OpenAPI document to docs/openapi.json, the reviewed snapshot of "
        "the contract (tests/api/test_contract.py compares the served one with it)."
    )

    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Only say whether the snapshot is current.")

    def handle(self, check: bool, **options: Any) -> None:
        current = document()
        if check:
            if not SNAPSHOT.exists() or SNAPSHOT.read_text() != current:
                raise CommandError("docs/openapi.json is not the current contract: run manage.py api_schema")
            self.stdout.write("docs/openapi.json is current.")
            return
        SNAPSHOT.write_text(current)
        self.stdout.write(f"Wrote {SNAPSHOT.relative_to(settings.BASE_DIR)}.")
