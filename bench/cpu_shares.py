"""Where a machine's CPU went during a window, by role: a benchmark's diagnostic.

    shares = CpuShares(roles={"ingest": ingest_pid, "worker": worker_pid}, database_url=...)
    shares.start(); ...; print(shares.report())

Each role is a process and its descendants; PostgreSQL's backends are split by their client's
``application_name`` (set ``PGAPPNAME`` in a client's environment: libpq reads it), and Redis,
wrk and everything else on the machine are their own lines. Read from ``/proc`` (Linux only).
"""

import os
import subprocess
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command, parent pid, CPU seconds) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _snapshot() -> dict[int, tuple[str, int, float]]:
    seen = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            seen[int(entry.name)] = stat
    return seen


def _reaped() -> float:
    """CPU seconds of this process's children that ended (wrk, once the window is over)."""
    times = os.times()
    return times.children_user + times.children_system


def _backends(database_url: str) -> dict[int, str]:
    """PostgreSQL backend pid → its client's application_name."""
    out = subprocess.run(
        ["psql", database_url, "-AtF", "\t", "-c", "SELECT pid, application_name FROM pg_stat_activity"],
        capture_output=True,
        text=True,
    ).stdout
    return {int(pid): name or "?" for pid, _, name in (line.partition("\t") for line in out.splitlines())}


class CpuShares:
    def __init__(self, roles: dict[str, int], database_url: str):
        self.roles, self.database_url = roles, database_url

    def start(self) -> None:
        self.before, self.reaped = _snapshot(), _reaped()

    def _role(self, pid: int, seen: dict, backends: dict) -> str:
        if pid in backends:
            return f"postgres for {backends[pid]}"
        comm = seen[pid][0]
        if comm in ("wrk", "psql") or comm.startswith(("postgres", "redis")):
            return "postgres (other)" if comm.startswith("postgres") else comm.split(":")[0]
        walk = pid
        while walk in seen and walk > 1:
            for role, root in self.roles.items():
                if walk == root:
                    return role
            walk = seen[walk][1]
        return comm

    def report(self, wall: float) -> str:
        after, backends = _snapshot(), _backends(self.database_url)
        used: dict[str, float] = {}
        for pid, (_comm, _parent, cpu) in after.items():
            spent = cpu - (self.before[pid][2] if pid in self.before else 0.0)
            if spent > 0:
                role = self._role(pid, after, backends)
                used[role] = used.get(role, 0.0) + spent
        used["this process's ended children (wrk)"] = _reaped() - self.reaped
        lines = [f"    {'CPU s':>7}  {'cores':>5}  role (over {wall:.0f} s)"]
        for role, spent in sorted(used.items(), key=lambda kv: -kv[1]):
            if spent >= 0.05 * wall / 10:
                lines.append(f"    {spent:7.1f}  {spent / wall:5.2f}  {role}")
        return "\n".join(lines)
