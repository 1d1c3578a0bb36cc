"""Settings for the test suite (``pyproject.toml``: ``DJANGO_SETTINGS_MODULE``): the product's,
read as ``./dev run`` reads them, with the Feishu emulator installed.

The environment is set before the product's settings read it, so every process a test starts
(a worker, a server, ``manage.py feishu_sandbox``) inherits it and reads the same settings.
"""

import os

from django.conf import global_settings

os.environ.setdefault("FEISHU_SANDBOX", "1")  # the sandbox stands in for Feishu in every test
# Partners' webhooks may go to the tests' own receivers on 127.0.0.1 (a test of the refusal
# turns it off).
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_URLS", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):  # the suite in parallel: per-worker files, Redis
    import tests.worker_env  # noqa: F401  databases and queues, set before they are read

from config.settings import *  # noqa: F403

# Passwords hashed in microseconds (tests/hashers.py); the production hashers stay listed, so
# what they wrote is still read.
PASSWORD_HASHERS = ["tests.hashers.OneIterationPBKDF2PasswordHasher", *global_settings.PASSWORD_HASHERS]
# Windows a test may shorten in the processes it starts (a worker: start_celery_worker(
# HIREOPS_TEST_HEARTBEAT_START_GRACE="3")), where waiting them out whole proves nothing more.
if "HIREOPS_TEST_HEARTBEAT_START_GRACE" in os.environ:
    HEARTBEAT_START_GRACE_SECONDS = float(os.environ["HIREOPS_TEST_HEARTBEAT_START_GRACE"])
# Feishu's per-minute quotas counted over 6 s instead of 60, by the client's pacing and the
# sandbox's limiter alike (every process of the run inherits it): a test of 20 withdrawals
# spends 1.2 s pacing its calls instead of 12, and still proves the pacing keeps within what the
# sandbox counts. A test about the minute itself sets it back (settings, the sandbox's limiter).
FEISHU_QUOTA_MINUTE = float(os.environ.setdefault("HIREOPS_TEST_QUOTA_MINUTE", "6"))
if "HIREOPS_TEST_PAYOUT_FOLLOW_UP" in os.environ:
    PAYOUT_FOLLOW_UP_SECONDS = float(os.environ["HIREOPS_TEST_PAYOUT_FOLLOW_UP"])
