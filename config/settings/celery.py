"""Celery: the broker, acknowledgements, time limits, the queues and beat's scheduler."""

from .base import VAR_DIR, env
from .django import REDIS_URL

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "polling_interval": 0.2,
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # kombu's transport, with each message written whole before a worker can take it.
    CELERY_BROKER_TRANSPORT = "config.filesystem_broker:Transport"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep a worker's database connections across tasks (Celery's fixup would close them after
# each); Django's CONN_MAX_AGE and health checks decide instead (config/celery.py).
CELERY_DB_REUSE_MAX = 2**31
# A worker whose work may wait (the webhooks' deliveries) runs only on CPU nothing else wants
# (Linux's SCHED_IDLE, config/celery.py): on a host it shares with the ingest server, Feishu's
# pushes keep their throughput. Unlike nice 19, an idle thread yields the moment another wakes.
WORKER_CPU_IDLE = env.bool("WORKER_CPU_IDLE", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# No task may hold a worker forever (a stuck call, a lock that never comes): past the soft
# limit the task gets SoftTimeLimitExceeded and can leave its row to be retried, past the
# hard one the worker process running it is replaced. Tasks that call Feishu have their own,
# longer pair (below the outbound engine's lease); a bulk job works in slices shorter than
# the soft limit and queues itself again. Enforced by the prefork pool (production's).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# A call to Feishu may wait out 429s (up to 5 × 60 s) on top of its timeout.
OUTBOUND_TASK_SOFT_TIME_LIMIT = env.int("OUTBOUND_TASK_SOFT_TIME_LIMIT", default=600)
OUTBOUND_TASK_TIME_LIMIT = env.int("OUTBOUND_TASK_TIME_LIMIT", default=660)
# A batch of calls (a payout run's lines, ten to a task) records quick answers together: none
# waits much longer than this for the others (hireops.outbound.run_batch).
OUTBOUND_BATCH_RECORD_WITHIN = env.float("OUTBOUND_BATCH_RECORD_WITHIN", default=0.2)
# Schedules live in the database (django-celery-beat): the apps declare them in code
# (hireops.core.schedules.registry, rows made after migrate), staff switch them and change their timing;
# beat runs the declared ones only, each with its declared task and arguments.
CELERY_BEAT_SCHEDULER = "hireops.core.schedules.beat:DeclaredScheduler"
# Queues by kind of work, so a flood of one cannot starve another: Feishu's events, bulk
# jobs staff start, deliveries to partners' webhooks, and the default queue for outbound calls
# to Feishu and the schedules. A worker started without -Q consumes all four (./dev run, the
# tests); production can run one worker pool per queue (docs/deployment.md,
# "Queues by kind of work").
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {"celery": {}, "events": {}, "bulk": {}, "webhooks": {}}
CELERY_TASK_ROUTES = {
    "events.process_event*": {"queue": "events"},
    "jobs.*": {"queue": "bulk"},
    "webhooks.deliver": {"queue": "webhooks"},
    "referrals.payout_prepare_lines": {"queue": "bulk"},  # a large run's lines: bulk work
}
# Payout runs (referrals.payout_dispatch): the most lines in the workers' hands at once, a minute
# or two of their work (topped up as they pay); each tenant also gets no more than a minute of
# quota.
PAYOUT_LINES_PER_TICK = env.int("PAYOUT_LINES_PER_TICK", default=3000)
# When that bound, not the quota, held lines back, the dispatcher looks again this much later to
# top the workers up (referrals.payouts.dispatch). Not an operator's setting: the tests that
# watch a worker pay a run line by line shorten it (tests/settings.py).
PAYOUT_FOLLOW_UP_SECONDS = 5.0
# Balance pulls (referrals.accounts.pulls): the accounts claimed and not pulled yet at any time, at least
# (more once the workers pull more than half of it a minute); each tenant gets no more than a
# minute of its own quota.
BALANCE_PULLS_PER_TICK = env.int("BALANCE_PULLS_PER_TICK", default=3000)
