"""The Feishu client and the events: the app's credentials, timeouts and retries, how events come
in, the inbox's limits and the client's coordination between processes."""

from .base import FEISHU_SANDBOX, VAR_DIR, env
from .django import REDIS_URL

# No working default credentials outside the emulator: its demo app's where it is installed
# (./dev run, tests, benchmarks), none in production (hireops.core.checks refuses to deploy
# without them).
_DEMO_APP = ("cli_sandbox_demo", "sandbox-demo-secret") if FEISHU_SANDBOX else ("", "")
FEISHU_BASE_URL = env.str("FEISHU_BASE_URL", default="https://open.feishu.cn")
FEISHU_APP_ID = env.str("FEISHU_APP_ID", default=_DEMO_APP[0])
FEISHU_APP_SECRET = env.str("FEISHU_APP_SECRET", default=_DEMO_APP[1])
FEISHU_APP_TYPE = env.str("FEISHU_APP_TYPE", default="self_built")
FEISHU_ENCRYPT_KEY = env.str("FEISHU_ENCRYPT_KEY", default="")
FEISHU_VERIFICATION_TOKEN = env.str("FEISHU_VERIFICATION_TOKEN", default="")
FEISHU_EVENT_RETENTION_DAYS = env.int("FEISHU_EVENT_RETENTION_DAYS", default=90)
# The ingest server's inbox writer refuses a delivery (503, Retry-After) rather than queue it
# behind this many rows waiting for their commit (hireops.events.inbox): memory stays bounded.
INBOX_QUEUE_MAX = env.int("INBOX_QUEUE_MAX", default=1000)
# Seconds a request to the ingest server or the listener's health port has to arrive whole
# (headers and body, from its first byte; a connection's first request from its opening):
# later, it is cut off (hireops.events.read_deadline), so slow senders cannot hold the
# connections. Feishu waits 3 s for its answer: nothing it still waits for is cut at 5.
REQUEST_READ_TIMEOUT = env.float("REQUEST_READ_TIMEOUT", default=5.0)
# The log of deliveries the webhook refused (admin: Rejected deliveries). Each server process
# records at most PER_SECOND of them (after a burst of BURST; 0 turns recording off) and
# counts the rest on its next record; the table keeps the newest KEPT rows, none older than
# RETENTION_DAYS.
REJECTED_DELIVERIES_PER_SECOND = env.float("REJECTED_DELIVERIES_PER_SECOND", default=5.0)
REJECTED_DELIVERIES_BURST = env.int("REJECTED_DELIVERIES_BURST", default=20)
REJECTED_DELIVERIES_KEPT = env.int("REJECTED_DELIVERIES_KEPT", default=10_000)
REJECTED_DELIVERIES_RETENTION_DAYS = env.int("REJECTED_DELIVERIES_RETENTION_DAYS", default=30)
FEISHU_TIMEOUT = env.float("FEISHU_TIMEOUT", default=10.0)
# Staff linked to Feishu (they sign in with it, through this app) hear of what waits for them
# in their chat with the app (payout runs: hireops.signin.identities); off: by e-mail only. The
# app needs its bot ability and im:message:send_as_bot (docs/deployment.md, "Payout runs").
FEISHU_MESSAGES = env.bool("FEISHU_MESSAGES", default=True)
# Seconds before a failed call's first retry, doubled for each next one (hireops.outbound.retry:
# 6 tries in all, the only repeats of a failed call). Tests shorten it to watch a real worker
# use up the budget.
FEISHU_RETRY_BACKOFF = env.float("FEISHU_RETRY_BACKOFF", default=30.0)
# How Feishu's events come in: "webhook" (the ingest server at a public URL),
# "long_connection" (manage.py feishu_listen holds a WebSocket to Feishu; self-built apps
# only) or "both" (one inbox: an event that comes both ways is stored and processed once).
FEISHU_EVENT_TRANSPORT = env.str("FEISHU_EVENT_TRANSPORT", default="webhook")
FEISHU_LISTEN_HEALTH_BIND = env.str("FEISHU_LISTEN_HEALTH_BIND", default="127.0.0.1:8002")
# Seconds a listener may stay disconnected before the status asks for a person (an alert).
FEISHU_LISTEN_ALERT_AFTER = env.int("FEISHU_LISTEN_ALERT_AFTER", default=120)
# Where the client keeps its cross-process locks and rate-limit slots:
# Redis when REDIS_URL is set, otherwise lock files under var/.
FEISHU_COORDINATION_URL = env.str(
    "FEISHU_COORDINATION_URL", default=REDIS_URL or f"file://{VAR_DIR / 'coord'}"
)
# The seconds of Feishu's per-minute quotas (100 withdrawals a minute…), as the client paces
# them. Not read from the environment: it is a minute, except in the test suite, which shortens
# it on both sides at once (tests/settings.py; the sandbox's limiter reads the same setting).
FEISHU_QUOTA_MINUTE = 60.0
