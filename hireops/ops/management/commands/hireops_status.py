"""``manage.py hireops_status``: what needs a person, for people, cron and orchestrators.

Exit codes: 0 nothing needs a person; 1 something does (the lines marked "!!"); 2 the status
cannot be read (the database is unreachable from here).
"""

import json
import sys

from django.utils.translation import gettext as _

from hireops.core.management.base import HireopsCommand
from hireops.ops import report


class Command(HireopsCommand):
    requires_system_checks = []  # cron reads this output: only the status
    help = "Show the operations status; exit 1 when something needs a person, 2 when it cannot be read."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object, for machines")
        parser.add_argument("--problems", action="store_true", help="only what needs a person")

    def handle(self, *args, **options):
        found = report.build()
        shown = found.needing_a_person if options["problems"] else found.findings
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(found, shown), ensure_ascii=False))
        else:
            for f in shown:
                mark = "  " if f.ok else "!!"
                self.stdout.write(
                    f"{mark} {f.title}: {f.value}" + (f"  ({f.url})" if f.url and not f.ok else "")
                )
            if not found.readable:
                self.stderr.write(_("The status cannot be read: the database is unreachable from here."))
        sys.exit(found.exit_code)


def _as_json(found, shown) -> dict:
    return {
        "exit_code": found.exit_code,
        "findings": [
            {"key": f.key, "title": str(f.title), "value": str(f.value), "ok": f.ok, "url": f.url}
            for f in shown
        ],
    }
