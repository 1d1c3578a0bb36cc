"""``python manage.py feishu_sandbox``: run the Feishu sandbox in the foreground (Ctrl-C stops it)."""

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.persistence import StateFileError
from sandbox.server import SandboxServer


def _interrupt(signum, frame):
    raise KeyboardInterrupt


# allauth's Feishu callback on the dev server; settings.SANDBOX_LOGIN_REDIRECT_URIS replaces it.
DEFAULT_LOGIN_REDIRECT_URIS = [
    "http://127.0.0.1:8000/accounts/feishu/login/callback/",
    "http://localhost:8000/accounts/feishu/login/callback/",
]


def _default_delivery() -> str:
    # A real app gets each event on one channel: an app receiving on both listens on the long
    # connection, so the sandbox sends there ("both" is a test aid, set through the control API).
    transport = getattr(settings, "FEISHU_EVENT_TRANSPORT", "webhook") or "webhook"
    return "long_connection" if transport == "both" else transport


class Command(BaseCommand):
    help = "Run the Feishu sandbox (an emulator of the Feishu OpenAPI and event pushes we use)."
    # The project's checks are about the product's own servers (hireops.W001: the webhook's
    # secrets, …): the emulator of Feishu is none of them, and its output stays its own.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--ws-port", type=int, default=8766, help="the long connection's WebSocket port (0: any free one)"
        )
        parser.add_argument(
            "--delivery",
            choices=["webhook", "long_connection", "both"],
            default=None,
            help="where events go; default: settings.FEISHU_EVENT_TRANSPORT (both → long_connection), "
            "else webhook",
        )
        parser.add_argument("--app-id", default=None, help="default: settings.FEISHU_APP_ID")
        parser.add_argument("--app-secret", default=None, help="default: settings.FEISHU_APP_SECRET")
        parser.add_argument("--webhook-url", default=None, help="default: settings.SANDBOX_WEBHOOK_URL")
        parser.add_argument("--encrypt-key", default=None, help="default: settings.FEISHU_ENCRYPT_KEY")
        parser.add_argument(
            "--verification-token", default=None, help="default: settings.FEISHU_VERIFICATION_TOKEN"
        )
        parser.add_argument("--directory", default=None, help="default: settings.SANDBOX_DIRECTORY_FILE")
        parser.add_argument("--token-ttl", type=float, default=7200, help="token lifetime in seconds")
        parser.add_argument(
            "--state-file",
            default=None,
            help="keep the state across restarts in this file (read at start if it exists); "
            "default: settings.SANDBOX_STATE_FILE; none: in memory only, each start from the seed",
        )
        parser.add_argument(
            "--install-tenants",
            default=None,
            help="comma-separated tenant keys that enable the app at start (app_open pushed); "
            "default: settings.SANDBOX_INSTALL_TENANTS",
        )
        parser.add_argument(
            "--ticket-resend-delay",
            type=float,
            default=None,
            help="seconds from app_ticket/resend to the ticket's push (Feishu: a couple of minutes); "
            "default: settings.SANDBOX_TICKET_RESEND_DELAY",
        )

    def handle(self, *args, **opts):
        def pick(name, setting):
            value = opts[name]
            return value if value is not None else getattr(settings, setting, "")

        state_file = pick("state_file", "SANDBOX_STATE_FILE") or None
        try:
            server = self._server(opts, pick, state_file)
        except StateFileError as exc:
            raise CommandError(
                f"{exc}. Remove the file to start from the seed (./dev run: SANDBOX_RESET=1 ./dev run)."
            ) from None
        self._serve(server, opts, state_file)

    def _server(self, opts, pick, state_file) -> SandboxServer:
        return SandboxServer(
            opts["host"],
            opts["port"],
            app_id=pick("app_id", "FEISHU_APP_ID"),
            app_secret=pick("app_secret", "FEISHU_APP_SECRET"),
            webhook_url=pick("webhook_url", "SANDBOX_WEBHOOK_URL") or None,
            encrypt_key=pick("encrypt_key", "FEISHU_ENCRYPT_KEY"),
            verification_token=pick("verification_token", "FEISHU_VERIFICATION_TOKEN"),
            directory_file=pick("directory", "SANDBOX_DIRECTORY_FILE") or None,
            token_ttl=opts["token_ttl"],
            ticket_resend_delay=float(pick("ticket_resend_delay", "SANDBOX_TICKET_RESEND_DELAY") or 0),
            ws_port=opts["ws_port"],
            delivery=opts["delivery"] or _default_delivery(),
            login_redirect_uris=getattr(settings, "SANDBOX_LOGIN_REDIRECT_URIS", DEFAULT_LOGIN_REDIRECT_URIS),
            state_file=state_file,
            partner_secret=getattr(settings, "SANDBOX_PARTNER_SECRET", ""),
        )

    def _serve(self, server: SandboxServer, opts, state_file) -> None:
        installs = opts["install_tenants"]
        tenants = installs.split(",") if installs is not None else settings.SANDBOX_INSTALL_TENANTS
        tenants = [t.strip() for t in tenants if t.strip()]
        cfg = server.pusher.config
        self.stdout.write(
            f"Feishu sandbox on {server.url} (app_id={server.state.app_id}, "
            f"webhook={cfg.webhook_url or '-'}, encrypted={'yes' if cfg.encrypt_key else 'no'}). "
            "Ctrl-C stops."
        )
        self.stdout.write(
            f"Long connection on {server.ws_url} (discovery: POST {server.url}/callback/ws/endpoint); "
            f"events go to: {cfg.delivery}."
        )
        if server.restored_from is not None:
            saved = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(server.restored_from))
            self.stdout.write(f"State from {state_file} (saved {saved}); kept there as it changes.")
        elif state_file:
            self.stdout.write(f"State from the seed; kept in {state_file} as it changes.")
        login = server.state.login_apps[server.state.app_id]["redirect_uris"]
        self.stdout.write(
            f"Web login: {server.url}/open-apis/authen/v1/index (redirect URIs: {', '.join(login) or '-'})."
        )
        # SIGTERM (docker stop, supervisors) stops as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        if tenants and cfg.webhook_url:  # delivered once the pusher starts, beside the app ticket
            for tenant_key in tenants:
                server.push_lifecycle(tenant_key, "app_open")
            self.stdout.write(f"Tenants enabling the app: {', '.join(tenants)}")
        server.serve_forever()
        self.stdout.write("Feishu sandbox stopped.")
