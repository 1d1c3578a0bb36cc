"""The Feishu emulator's own settings (top-level package ``sandbox``) and the demo's seeded in it
(``demo``), read only where they are installed (``FEISHU_SANDBOX=1``: development, demos,
tests, benchmarks)."""

from .base import env

SANDBOX_WEBHOOK_URL = env.str("SANDBOX_WEBHOOK_URL", default="")
# The demo partner's receiver of hireops' own webhooks (sandbox/partner.py) verifies with this
# secret; ./dev run gives the demo's endpoint the same one (demo.seeds.webhooks).
SANDBOX_PARTNER_SECRET = env.str("SANDBOX_PARTNER_SECRET", default="")
# ./dev run: the demo's endpoint, the sandbox's partner receiver (demo.seeds.webhooks).
DEMO_WEBHOOK_URL = env.str("DEMO_WEBHOOK_URL", default="")
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
