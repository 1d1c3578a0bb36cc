"""Each pytest-xdist worker gets its own var directory (SQLite test database, file broker,
cache, metrics), its own Redis databases (cache, broker, coordination) and therefore its own
queues; ports are always free ones (``free_port``). Imported by the test settings
(``tests/settings.py``), first, when xdist names the worker (``PYTEST_XDIST_WORKER``, in the
environment before the worker's pytest starts): the settings then read these values as they
would any deployment's, and every process a test starts (a worker, a server) inherits them,
and reads them again here unchanged.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", …
REDIS_DATABASES = 16  # Redis's default; CI's own run uses 0 (cache) and 1 (broker)


def _own_database(url: str, number: int, offset: int) -> str:
    """``redis://host:port/N`` → the worker's database: two per worker after CI's 0 and 1."""
    parts = urlsplit(url)
    database = 2 + 2 * number + offset
    if database >= REDIS_DATABASES:
        raise RuntimeError(f"worker {WORKER}: Redis has no database {database}; run fewer workers (-n)")
    return urlunsplit(parts._replace(path=f"/{database}"))


if WORKER:
    number = int(WORKER.removeprefix("gw"))
    root = Path(__file__).resolve().parent.parent
    base = Path(os.environ.get("HIREOPS_VAR_DIR") or root / "var" / "test")
    if base.name != WORKER:  # a child of the worker inherits its directory already
        os.environ["HIREOPS_VAR_DIR"] = str(base / WORKER)
    # The metrics files too: the controller's settings exported its own folder, which every
    # worker inherited, and two workers' counters would add up in one file set.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(os.environ["HIREOPS_VAR_DIR"]) / "metrics")
    for name, offset in (("REDIS_URL", 0), ("CACHE_URL", 0), ("CELERY_BROKER_URL", 1)):
        url = os.environ.get(name, "")
        if url.startswith("redis://"):
            os.environ[name] = _own_database(url, number, offset)
