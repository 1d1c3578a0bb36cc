"""Django itself: the apps, the middleware, templates, the database, the cache, passwords and
brute-force protection, the browser's security rules, languages and static files."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import BASE_DIR, DEBUG, FEISHU_SANDBOX, SERVER, VAR_DIR, env

# Either way the admin site is hireops' own, with the personal-data guard in front of every
# ModelAdmin.
INSTALLED_APPS = [
    "hireops.core.admin.apps." + ("SimpleAdminConfig" if SERVER == "ingest" else "AdminConfig"),
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth's list of security keys needs its template filters
    "whitenoise.runserver_nostatic",  # runserver leaves static files to WhiteNoise too
    "django.contrib.staticfiles",
    "django_celery_beat",
    "hireops.core.auth.axes_app.AxesConfig",  # django-axes, with translated screens
    "hireops.core",
    "hireops.ops",
    "hireops.calls_made",  # the outbound engine's record of the calls it made (the calls' trends)
    # Staff sign-in with Feishu and second factors (hireops.signin, on django-allauth).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.feishu",
    "allauth.mfa",
    "hireops.signin",
    "hireops.events",
    "hireops.tenants",
    "hireops.jobs",
    "ninja",  # the partners' API: Swagger UI's static files (served by us, no CDN)
    "hireops.api",
    "hireops.webhooks",
    "bindings",
    "orders",
    "referrals",
]
# The Feishu emulator's management commands (feishu_sandbox, feishu_sandbox_ctl) and the demo
# seeded in it (bootstrap_demo), only where they are wanted (base.FEISHU_SANDBOX): nothing of
# the product imports either, and the production image has neither.
if FEISHU_SANDBOX:
    INSTALLED_APPS += ["sandbox", "demo"]
# Last: its ready() ends the start (config.startup).
INSTALLED_APPS += ["config.startup.apps.StartedConfig"]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request id too.
    "hireops.core.logs.middleware.RequestIdMiddleware",
    "hireops.ops.middleware.HealthCheckMiddleware",  # /healthz, /readyz: before host and TLS rules
    "django.middleware.security.SecurityMiddleware",  # and Referrer-Policy
    # Content-Security-Policy and Permissions-Policy on every answer after this point: the
    # admin's pages, the sign-in, the API's docs and error pages (docs/deployment.md).
    "hireops.core.web.security_headers.ContentSecurityPolicyMiddleware",
    "hireops.core.web.security_headers.PermissionsPolicyMiddleware",
    "hireops.api.middleware.ApiMiddleware",  # /api/v1/: key, rate limit, Idempotency-Key
    # Static files from the app server itself, as production serves them (no web server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, answering each permission question once a request (over a hundred a page).
    "hireops.core.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A user whose permissions call for a second factor enrols or proves it before any page.
    "hireops.signin.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# Every form's labels start with a capital, as a model form's do ("Stage:", not "stage:").
FORM_RENDERER = "hireops.core.admin.form_labels.Renderer"


# --- Database -------------------------------------------------------------
def prepare_threshold(value: str) -> int | None:
    """DATABASE_PREPARE_THRESHOLD: after how many runs on a connection a statement is prepared
    on the server (0: at once), or ``off``: never."""
    if value.strip().lower() == "off":
        return None
    try:
        return max(0, int(value))
    except ValueError:
        raise ImproperlyConfigured(
            f"DATABASE_PREPARE_THRESHOLD is a number of runs (5 by default) or 'off', not {value!r}."
        ) from None


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
    # Parameters bound by the server, and a statement run five times on a connection prepared
    # there (psycopg's prepare_threshold): PostgreSQL parses and plans it once a connection,
    # not at every call. A partner API write: 40 % less of the database's CPU and 10 % less of
    # the web worker's (docs/benchmarks.md, *Partner API writes*). Behind a transaction pooler
    # that cannot carry prepared statements (pgbouncer before 1.21, or its
    # max_prepared_statements at 0): DATABASE_PREPARE_THRESHOLD=off (docs/deployment.md).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        _db_options = DATABASES["default"].setdefault("OPTIONS", {})
        _db_options.setdefault("server_side_binding", True)
        _db_options.setdefault(
            "prepare_threshold", prepare_threshold(env.str("DATABASE_PREPARE_THRESHOLD", default="5"))
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared between processes: web, workers, beat) -----------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": env.cache_url(
        "CACHE_URL",
        default=REDIS_URL or f"filecache://{VAR_DIR / 'cache'}",
    ),
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's, its redis-py client made once instead of at every call (hireops.core.redis_cache).
    CACHES["default"]["BACKEND"] = "hireops.core.redis_cache.RedisCache"

# --- Passwords, brute force, the browser's security rules, languages ----------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failures, refuses locked-out logins
    # ModelBackend, reading a user's permissions (asked on every admin page) in one query.
    "hireops.core.auth.backends.ModelBackendInOneQuery",
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
AXES_CLIENT_IP_CALLABLE = "hireops.core.web.client_address.client_ip"

# Django's deployment checklist: secure cookies, HSTS and the rest follow DEBUG unless set.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # a working day
# Sessions in the database, read through the shared cache (Redis in production): every page
# read its session with a query, an eighth of an admin list's time. Written to both; a
# session ended by hireops.signin.sessions leaves both.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
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
# No address of ours in the links staff follow out of the admin (object ids, filters, report
# tokens live in its URLs); our own pages still see where a request came from.
SECURE_REFERRER_POLICY = "same-origin"
# What a page may load and run (django-csp; docs/deployment.md, "Security headers"). Scripts
# only from our own static files: no inline script, no onclick="", no eval, so an injected tag
# runs nothing. Styles inline too: Django admin's templates and ours carry style="" attributes
# and the admin's change list a <style> element. Images also as data: URLs (the authenticator
# app's QR code, Swagger UI's icons). No plugin, no <base>, never in a frame (X_FRAME_OPTIONS
# too); forms post to us alone, and to Feishu's sign-in, where "Sign in with Feishu" is
# redirected (added from FEISHU_LOGIN_BASE_URL by hireops.core.web.security_headers).
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF, "'unsafe-inline'"],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_NONE],
        "frame-ancestors": [_NONE],
        "form-action": [_SELF],
    }
}
# Powerful browser features no page of ours uses, refused to it and to anything it could embed
# (hireops.core.web.security_headers); security keys (WebAuthn, a second factor) on our own pages.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    **{
        feature: []
        for feature in (
            "accelerometer",
            "autoplay",
            "bluetooth",
            "camera",
            "display-capture",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        )
    },
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
}

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
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}  # and "reports": settings/orders.py
