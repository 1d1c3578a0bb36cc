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
# Set once a worker's URLs point at its own databases: a process the worker starts inherits
# them already moved, and must not move them again.
MOVED = "HIREOPS_WORKER_REDIS_MOVED"


def own_database(url: str, number: int) -> str:
    """``redis://host:port/N`` → worker ``number``'s database: two per worker after the run's
    own N and N + 1 (the cache and the broker), so that N + 2 + 2 × number. Relative to N, two
    runs on one Redis whose URLs name databases far enough apart (CI's 0 and 1, a second run's
    8 and 9) never share, nor empty, each other's databases."""
    parts = urlsplit(url)
    given = int(parts.path.strip("/") or 0)
    database = given + 2 + 2 * number
    if database >= REDIS_DATABASES:
        raise RuntimeError(
            f"test worker gw{number}: {url} would move to Redis database {database}, but Redis has "
            f"databases 0 to {REDIS_DATABASES - 1}: name a lower database in the URL or run "
            "fewer workers (HIREOPS_TEST_WORKERS)"
        )
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
    if os.environ.get(MOVED) != WORKER:
        for name in ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL"):
            url = os.environ.get(name, "")
            if url.startswith("redis://"):
                os.environ[name] = own_database(url, number)
        os.environ[MOVED] = WORKER
