"""hireops settings, read from the environment through django-environ.

Every setting has an embedded default that needs no server: SQLite, kombu's
filesystem broker, a file cache and file-lock coordination under ``var/``.
``DATABASE_URL``, ``CELERY_BROKER_URL``, ``CACHE_URL`` and ``REDIS_URL`` switch
to PostgreSQL, RabbitMQ/Redis and Redis; the code is the same on both.
See ``.env.example`` for every variable.
"""

import os
from pathlib import Path

import environ

from hireops.core.logs.formatting import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
if os.environ.get("PYTEST_XDIST_WORKER"):  # the suite in parallel (./dev test): per-worker files,
    import tests.worker_env  # noqa: F401  Redis databases and queues, set before they are read
VAR_DIR = Path(env.str("HIREOPS_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "dev-insecure-change-me-" + "x" * 32  # refused outside DEBUG (hireops.core.checks)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# The ingest server (hireops/ingest.py) serves Feishu's pushes and no admin: it loads the
# admin without discovering every app's admin module (and the code those import). Either way
# the admin site is hireops' own, with the personal-data guard in front of every ModelAdmin.
SERVER = env.str("HIREOPS_SERVER", default="")
INSTALLED_APPS = [
    "hireops.core.admin_apps." + ("SimpleAdminConfig" if SERVER == "ingest" else "AdminConfig"),
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth's list of security keys needs its template filters
    "whitenoise.runserver_nostatic",  # runserver leaves static files to WhiteNoise too
    "django.contrib.staticfiles",
    "django_celery_beat",
    "hireops.core.axes_app.AxesConfig",  # django-axes, with translated screens
    "hireops.core",
    "hireops.ops",
    # Staff sign-in with Feishu and second factors (hireops.signin, on django-allauth).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.feishu",
    "allauth.mfa",
    "hireops.signin",
    "hireops.sandbox",
    "hireops.events",
    "hireops.tenants",
    "hireops.jobs",
    "bindings",
    "orders",
    "referrals",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request id too.
    "hireops.core.logs.middleware.RequestIdMiddleware",
    "hireops.ops.middleware.HealthCheckMiddleware",  # /healthz, /readyz: before host and TLS rules
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app server itself, as production serves them (no web server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A user whose permissions call for a second factor enrols or proves it before any page.
    "hireops.signin.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "hireops.urls"
WSGI_APPLICATION = "hireops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker, beat and web share one file: wait for locks instead of failing,
    # and take the write lock up front so concurrent writers queue cleanly.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not :memory:, so a real Celery worker started by the tests sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared between processes: web, workers, beat) -----------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": env.cache_url(
        "CACHE_URL",
        default=REDIS_URL or f"filecache://{VAR_DIR / 'cache'}",
    ),
}

# --- Celery ---------------------------------------------------------------
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
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
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
# Schedules live in the database (django-celery-beat): the apps declare them in code
# (hireops.core.schedules, rows made after migrate), staff switch them and change their timing;
# beat runs the declared ones only, each with its declared task and arguments.
CELERY_BEAT_SCHEDULER = "hireops.core.beat:DeclaredScheduler"
# Queues by kind of work, so a flood of one cannot starve another: Feishu's events, bulk
# jobs staff start, and the default queue for outbound calls to Feishu and the schedules. A
# worker started without -Q consumes all three (./dev run, the tests); production can run
# one worker pool per queue (README, "Deployment").
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "events": {}, "bulk": {}}
CELERY_TASK_ROUTES = {"events.process_event*": {"queue": "events"}, "jobs.*": {"queue": "bulk"}}

# --- Feishu ---------------------------------------------------------------
# Demo credentials are the sandbox's defaults; production sets real ones.
FEISHU_BASE_URL = env.str("FEISHU_BASE_URL", default="https://open.feishu.cn")
FEISHU_APP_ID = env.str("FEISHU_APP_ID", default="cli_sandbox_demo")
FEISHU_APP_SECRET = env.str("FEISHU_APP_SECRET", default="sandbox-demo-secret")
FEISHU_APP_TYPE = env.str("FEISHU_APP_TYPE", default="self_built")
FEISHU_ENCRYPT_KEY = env.str("FEISHU_ENCRYPT_KEY", default="")
FEISHU_VERIFICATION_TOKEN = env.str("FEISHU_VERIFICATION_TOKEN", default="")
FEISHU_EVENT_RETENTION_DAYS = env.int("FEISHU_EVENT_RETENTION_DAYS", default=90)
# The ingest server's inbox writer refuses a delivery (503, Retry-After) rather than queue it
# behind this many rows waiting for their commit (hireops.events.inbox): memory stays bounded.
INBOX_QUEUE_MAX = env.int("INBOX_QUEUE_MAX", default=1000)
# The log of deliveries the webhook refused (admin: Rejected deliveries). Each server process
# records at most PER_SECOND of them (after a burst of BURST; 0 turns recording off) and
# counts the rest on its next record; the table keeps the newest KEPT rows, none older than
# RETENTION_DAYS.
REJECTED_DELIVERIES_PER_SECOND = env.float("REJECTED_DELIVERIES_PER_SECOND", default=5.0)
REJECTED_DELIVERIES_BURST = env.int("REJECTED_DELIVERIES_BURST", default=20)
REJECTED_DELIVERIES_KEPT = env.int("REJECTED_DELIVERIES_KEPT", default=10_000)
REJECTED_DELIVERIES_RETENTION_DAYS = env.int("REJECTED_DELIVERIES_RETENTION_DAYS", default=30)
FEISHU_TIMEOUT = env.float("FEISHU_TIMEOUT", default=10.0)
# Seconds before a failed call's first retry, doubled for each next one (hireops.core.retry:
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

# --- Operations ---------------------------------------------------------------
# The admin's address as staff reach it: the links in alerts (hireops.ops.alerts).
ADMIN_BASE_URL = env.str("ADMIN_BASE_URL", default="http://127.0.0.1:8000")

# Prometheus metrics: every process writes its counters to files in this directory (one per
# host, shared by its processes; emptied only when they all stopped), and `manage.py
# hireops_metrics` serves their sum on METRICS_BIND, which is not public unless you make it so.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "metrics"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR  # read by prometheus-client at import
Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
METRICS_BIND = env.str("METRICS_BIND", default="127.0.0.1:9108")

# --- Background jobs ----------------------------------------------------------
# An admin action on more rows than this (or an import of more lines) runs as a
# background job with a progress page instead of inside the request.
BULK_INLINE_MAX = env.int("BULK_INLINE_MAX", default=20)
# A CSV file to import (referral accounts, exam logins) larger than this is refused on its
# form before it is read (hireops.core.uploads); 5,000 rows are far smaller.
CSV_IMPORT_MAX_BYTES = env.int("CSV_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)

# --- Sandbox (development / demos / tests) ----------------------------------
SANDBOX_WEBHOOK_URL = env.str("SANDBOX_WEBHOOK_URL", default="")
SANDBOX_DIRECTORY_FILE = env.str("SANDBOX_DIRECTORY_FILE", default="")
# Where the sandbox keeps its state across restarts (./dev run: var/sandbox-state.json); unset,
# it keeps it in memory and starts from the seed each time, as every test's sandbox does.
SANDBOX_STATE_FILE = env.str("SANDBOX_STATE_FILE", default="")
# Tenants that enable the sandbox's app when it starts (app_open pushed to the webhook): the
# store-app demo's customers (`FEISHU_APP_TYPE=store ./dev run`).
SANDBOX_INSTALL_TENANTS = env.list("SANDBOX_INSTALL_TENANTS", default=[])
# Seconds from app_ticket/resend to the sandbox's push of the ticket (Feishu: a couple of minutes).
SANDBOX_TICKET_RESEND_DELAY = env.float("SANDBOX_TICKET_RESEND_DELAY", default=120.0)
# Redirect URLs registered for the login app in the sandbox (Feishu: 安全设置 → 重定向 URL).
SANDBOX_LOGIN_REDIRECT_URIS = env.list(
    "SANDBOX_LOGIN_REDIRECT_URIS",
    default=[
        "http://127.0.0.1:8000/accounts/feishu/login/callback/",
        "http://localhost:8000/accounts/feishu/login/callback/",
    ],
)

# --- Auth, i18n, static -----------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failures, refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force: after AXES_FAILURE_LIMIT failures for one username from one address, that
# pair is locked out for AXES_COOLOFF_TIME hours (staff can unlock in the admin).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_VERBOSE = False
# The proxies in front of the admin (docs/deployment.md, "Behind a TLS proxy"): with N > 0 the
# client's address is the N-th entry from the right of X-Forwarded-For (each proxy appends the
# address it saw); with 0 the header is ignored. Used by django-axes and allauth's rate limits.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "hireops.core.client_address.client_ip"

# --- Staff sign-in: Feishu (OAuth web login) and second factors ---------------------------------
# README: Signing in. The login app is the company's own self-built app (it may be the Hire
# app, never a vendor's store app). Sign-in with Feishu is offered once FEISHU_LOGIN_TENANTS
# names the tenant(s) whose members may use it; a Feishu identity then signs in only as the
# staff user it is linked to (an invitation, or the user's company email on first sign-in).
FEISHU_LOGIN_APP_ID = env.str(
    "FEISHU_LOGIN_APP_ID", default=FEISHU_APP_ID if FEISHU_APP_TYPE == "self_built" else ""
)
FEISHU_LOGIN_APP_SECRET = env.str(
    "FEISHU_LOGIN_APP_SECRET", default=FEISHU_APP_SECRET if FEISHU_APP_TYPE == "self_built" else ""
)
FEISHU_LOGIN_BASE_URL = env.str("FEISHU_LOGIN_BASE_URL", default=FEISHU_BASE_URL)
FEISHU_LOGIN_TENANTS = env.list("FEISHU_LOGIN_TENANTS", default=[])
FEISHU_LOGIN_INVITATION_DAYS = env.int("FEISHU_LOGIN_INVITATION_DAYS", default=7)
# PASSWORD_LOGIN=0: the password form signs in only the superusers named in
# PASSWORD_LOGIN_BREAK_GLASS, so a leaver who loses Feishu loses hireops the same day.
PASSWORD_LOGIN = env.bool("PASSWORD_LOGIN", default=True)
PASSWORD_LOGIN_BREAK_GLASS = env.list("PASSWORD_LOGIN_BREAK_GLASS", default=[])

AUTHENTICATION_BACKENDS += ["allauth.account.auth_backends.AuthenticationBackend"]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
ACCOUNT_ADAPTER = "hireops.signin.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = "admin:login"
# allauth builds Feishu's redirect_uri with this protocol whatever the request's (feishu.md §16).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http" if DEBUG else "https")
SOCIALACCOUNT_ADAPTER = "hireops.signin.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_PROVIDERS = {
    "feishu": {
        "APP": {"client_id": FEISHU_LOGIN_APP_ID, "secret": FEISHU_LOGIN_APP_SECRET},
        "AUTHORIZE_URL": FEISHU_LOGIN_BASE_URL.rstrip("/") + "/open-apis/authen/v1/index",
    }
}
# What changes how someone signs in (recovery codes, authenticators, password, email) needs the
# second factor proven within this many seconds (hireops.signin.second_factor.fresh).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "hireops"
# Security keys' name field labelled in the reader's language (allauth leaves it unlabelled).
MFA_FORMS = {
    "add_webauthn": "hireops.signin.forms.AddSecurityKeyForm",
    "edit_webauthn": "hireops.signin.forms.EditSecurityKeyForm",
}
# Security keys need a secure context: https, or http://localhost (which fido2 accepts as it is;
# browsers refuse an IP address such as 127.0.0.1). allauth's WEBAUTHN_ALLOW_INSECURE_ORIGIN
# would skip the origin check altogether, and nothing here needs it.

# Django's deployment checklist: secure cookies, HSTS and the rest follow DEBUG unless set.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # a working day
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1 (trusts X-Forwarded-Proto: https);
# Django then also sends a request that came in over plain HTTP to its https:// address.
BEHIND_TLS_PROXY = env.bool("SECURE_PROXY_SSL_HEADER", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
X_FRAME_OPTIONS = "DENY"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
# WhiteNoise serves the admin's CSS and JavaScript from STATIC_ROOT, filled by
# `manage.py collectstatic`: each file under a content-hashed name, gzip-compressed
# next to it, cached by browsers for ten years, as immutable (WhiteNoise's lifetime for a
# hashed name; a new release changes the names).
# With DEBUG on, files are found where they live and served unhashed.
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "hireops" / "core" / "site_root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Vendor orders' report files (orders.reports): a directory no URL maps to; Feishu gets
    # expiring signed links. Another backend (S3-compatible storage through django-storages,
    # say) by ORDER_REPORT_STORAGE_BACKEND and its ORDER_REPORT_STORAGE_OPTIONS (JSON).
    "reports": {
        "BACKEND": env.str(
            "ORDER_REPORT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "ORDER_REPORT_STORAGE_OPTIONS", default={"location": str(VAR_DIR / "reports"), "base_url": None}
        ),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Vendor orders -------------------------------------------------------------
# Where Feishu fetches report files: this server's public address (the path
# /orders/reports/ must be reachable from Feishu; nothing else needs to be).
ORDER_REPORT_BASE_URL = env.str("ORDER_REPORT_BASE_URL", default="http://127.0.0.1:8000")
ORDER_REPORT_LINK_DAYS = env.int("ORDER_REPORT_LINK_DAYS", default=180)
# An open order is overdue after its package's or paper's turnaround; this for an id the
# catalogue does not have (any more).
ORDER_DEFAULT_TURNAROUND_DAYS = env.int("ORDER_DEFAULT_TURNAROUND_DAYS", default=7)
# Candidates' personal data is purged this long after their order ended (orders.purge).
ORDER_PURGE_AFTER_DAYS = env.int("ORDER_PURGE_AFTER_DAYS", default=180)
# Keys for secrets stored in the database (an exam's password): hireops.core.sealing.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- Error tracking ---------------------------------------------------------
# Unhandled errors of the admin, the ingest server and Celery go to Sentry when SENTRY_DSN is
# set (it may point at a self-hosted Sentry where data must stay in China); scrubbed of
# personal data and secrets first (hireops.core.errortracking). Release: SENTRY_RELEASE, or
# the git commit of a checkout.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from hireops.core.errortracking import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
    )

# --- E-mail and alerts (hireops.ops.channels) -------------------------------------
# Django's mail settings from one URL (smtp+tls://user:password@smtp.example.com:587, …); the
# default prints mails on the console and sends nothing.
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://")
globals().update({k: v for k, v in _EMAIL.items() if v is not None})
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds: a dead mail server must not hang a send
SERVER_EMAIL = env.str("SERVER_EMAIL", default="hireops@localhost")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=SERVER_EMAIL)
EMAIL_SUBJECT_PREFIX = env.str("EMAIL_SUBJECT_PREFIX", default="[hireops] ")
# A change to how someone signs in (an authenticator added or removed, recovery codes made, the
# password or email changed, the factors reset by an administrator) is mailed to that person
# (allauth's security notifications) when mail really goes out (EMAIL_URL names a mail server)
# and the user has an address.
ACCOUNT_EMAIL_NOTIFICATIONS = env.bool(
    "SECURITY_NOTIFICATIONS",
    default=not _EMAIL["EMAIL_BACKEND"].endswith(("console.EmailBackend", "dummy.EmailBackend")),
)
# Who hears about what needs a person: these addresses, and a Feishu group through its custom
# bot (the webhook URL; the secret when the bot verifies signatures). Each one unset: skipped.
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
ALERT_FEISHU_BOT_URL = env.str("ALERT_FEISHU_BOT_URL", default="")
ALERT_FEISHU_BOT_SECRET = env.str("ALERT_FEISHU_BOT_SECRET", default="")
# Django's error reports hide the bot's URL like its secret: the URL ends in the bot's token.
DEFAULT_EXCEPTION_REPORTER_FILTER = "hireops.core.error_pages.SecretSettingsFilter"

# --- Logs ---------------------------------------------------------------------
# Every process (admin, ingest server, Celery's worker and beat, gunicorn itself through
# gunicorn.conf.py) writes to stderr: ``plain`` lines, or ``json`` objects one a line with
# request_id / event_id / task / task_id / feishu_log_id where they apply. Mobiles, emails and
# secrets are redacted in both (hireops.core.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO"))
