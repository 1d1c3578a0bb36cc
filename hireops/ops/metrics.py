"""Prometheus metrics (prometheus-client in multiprocess mode).

Every process (gunicorn's workers, Celery's, beat, the commands) writes its counters to
memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR`` (set by settings before this module is
imported); ``manage.py hireops_metrics`` serves the sum of them all, plus figures read from
the database and the broker at scrape time (``collectors.py``), on a port of its own that
is not public by default. The directory is per host: each host runs its own exporter.

Labels stay few and bounded: endpoint names (hireops.feishu.ratelimit.QUOTAS), event types
(the registry's, or "other"), Feishu's codes, task names. Nothing personal goes into one.
"""

import os
import socket

from prometheus_client import Counter, Histogram, values

_HOST = socket.gethostname().replace("_", "-")


def _process_id() -> str:
    """Files are named after this: containers sharing one directory all have small pids, and
    their host names keep them apart (no "_": the collector splits file names on it).
    prometheus-client calls it on every increment (to notice a fork), so the host name is
    read once: a system call per increment cost 30 µs on the event paths."""
    return f"{_HOST}-{os.getpid()}"


values.ValueClass = values.MultiProcessValue(process_identifier=_process_id)

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_LAG = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

deliveries = Counter(
    "hireops_webhook_deliveries",
    "Deliveries to the webhook, by outcome (stored, duplicate, challenge, rejected, unavailable, "
    "overloaded) and, for a refusal, its reason",
    ["outcome", "reason"],
)
slow_requests = Counter(
    "hireops_slow_requests",
    "Requests cut off because they had not arrived whole within REQUEST_READ_TIMEOUT, by server "
    "(ingest, listen) and the part still arriving (headers, body)",
    ["server", "part"],
)
longconn_events = Counter(
    "hireops_longconn_events",
    "Events received over the long connection, by outcome (stored, duplicate, rejected, "
    "unavailable, overloaded)",
    ["outcome"],
)
longconn_reconnects = Counter(
    "hireops_longconn_reconnects", "Times a listener tried to open its long connection again"
)
events_processed = Counter(
    "hireops_events_processed",
    "Events run through their handler, by type and outcome",
    ["event_type", "outcome"],
)
event_lag = Histogram(
    "hireops_event_processing_lag_seconds",
    "From an event's receipt to its processing",
    ["event_type"],
    buckets=_LAG,
)
tasks = Counter("hireops_celery_tasks", "Celery tasks finished, by name and outcome", ["task", "outcome"])
task_seconds = Histogram("hireops_celery_task_seconds", "Celery task run time", ["task"], buckets=_LATENCY)
feishu_calls = Counter(
    "hireops_feishu_calls",
    "HTTP calls to Feishu, by endpoint, HTTP status and Feishu code",
    ["endpoint", "status", "code"],
)
feishu_seconds = Histogram(
    "hireops_feishu_call_seconds", "Latency of calls to Feishu", ["endpoint"], buckets=_LATENCY
)
feishu_rate_limited = Counter("hireops_feishu_rate_limited", "429 answers met from Feishu", ["endpoint"])
limiter_wait = Histogram(
    "hireops_feishu_limiter_wait_seconds",
    "Time a call waited for its slot in the shared rate limiter",
    ["endpoint"],
    buckets=(0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
token_refreshes = Counter("hireops_feishu_token_refreshes", "Access tokens fetched from Feishu", ["kind"])
signins = Counter(
    "hireops_signins",
    "Sign-ins to the admin by method (password, feishu; enrolment_link for the links that let "
    "a session add a first second factor) and outcome (signed_in, used, or the refusal's reason: "
    "hireops.signin.refusals.Reason)",
    ["method", "outcome"],
)
security_notices = Counter(
    "hireops_security_notices",
    "Notices to the operators that someone's second factors were removed or reset, by outcome "
    "(sent; retried: a channel failed, tried again; failed: given up; no_channel: none configured)",
    ["outcome"],
)
