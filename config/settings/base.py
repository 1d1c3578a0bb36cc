"""What every other settings module reads: the environment, the paths, DEBUG, the secret key,
and which process and which parts of the project this is."""

import importlib.util
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("HIREOPS_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "dev-insecure-change-me-" + "x" * 32  # refused outside DEBUG (hireops.core.checks)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# The ingest server (config/ingest.py) serves Feishu's pushes and no admin: it loads the
# admin without discovering every app's admin module (and the code those import).
SERVER = env.str("HIREOPS_SERVER", default="")

# The Feishu emulator (top-level package ``sandbox``: development, demos, tests, benchmarks).
# Off unless asked for; the production image leaves the package out altogether.
FEISHU_SANDBOX = env.bool("FEISHU_SANDBOX", default=False)
if FEISHU_SANDBOX and not all(importlib.util.find_spec(app) for app in ("sandbox", "demo")):
    raise ImproperlyConfigured(
        "FEISHU_SANDBOX=1, but the Feishu sandbox and its demo are not installed here (the "
        "production image leaves them out): unset FEISHU_SANDBOX and point FEISHU_BASE_URL at Feishu."
    )
