"""One status report for the command, the admin page and the alerts: this process's
readiness probes and every app's findings."""

from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import probes, status

# Exit codes of ``manage.py hireops_status``, for cron and orchestrators.
OK, NEEDS_A_PERSON, UNREADABLE = 0, 1, 2


@dataclass(frozen=True)
class Report:
    probes: list
    findings: list

    @property
    def readable(self) -> bool:
        """The findings come from the database: without it there is nothing to say."""
        return all(p.ok for p in self.probes if p.name == "database")

    @property
    def needing_a_person(self) -> list:
        return status.needing_a_person(self.findings)

    @property
    def exit_code(self) -> int:
        if not self.readable:
            return UNREADABLE
        return NEEDS_A_PERSON if self.needing_a_person else OK


# What people read for each probe (hireops.ops.probes); /readyz, the keys and the metrics keep
# the probes' own names, which machines read.
PROBE_NAMES = {
    "database": _("database"),
    "cache": _("cache"),
    "broker": _("task queue (broker)"),
    "coordination": _("shared locks and rate limits (coordination)"),
}
PROBE_DETAILS = {
    "timed out": _("no answer in time"),
    "still waiting on an earlier check": _("still no answer to an earlier check"),
}


def probe_findings(results) -> list:
    """Dependencies this process cannot reach, as findings (key ``probe.<name>``)."""
    return [
        status.Finding(
            f"probe.{r.name}",
            format_lazy(_("Reachable from here: {name}"), name=PROBE_NAMES.get(r.name, r.name)),
            PROBE_DETAILS.get(r.detail, r.detail) or _("yes"),  # else an error's type, for maintainers
            r.ok,
        )
        for r in results
    ]


def build() -> Report:
    results = probes.readiness()
    report = Report(results, probe_findings(results))
    if report.readable:
        report.findings.extend(status.findings())
    return report
