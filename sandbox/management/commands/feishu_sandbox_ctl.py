"""``python manage.py feishu_sandbox_ctl``: drive a running sandbox by hand (demos, debugging).

Installed with the sandbox (``FEISHU_SANDBOX=1``); ``./dev sandbox ARGS`` runs it so from any
shell. Examples::

    manage.py feishu_sandbox_ctl state
    manage.py feishu_sandbox_ctl grant-bonus 7300000000000000001 --points 100 --cash CNY:12.50
    manage.py feishu_sandbox_ctl bind-account --scope 1 --name "背调账号 001" --field account_token=ABC123
    manage.py feishu_sandbox_ctl requests --path /open-apis/hire/v1/referral_account
    manage.py feishu_sandbox_ctl clock --advance 2h    # tokens issued before now have expired
    manage.py feishu_sandbox_ctl create-background-check --account 7300000000000000001 --package pkg-basic
    manage.py feishu_sandbox_ctl cancel-background-check 7300000000000000123 --reason "候选人放弃"
    manage.py feishu_sandbox_ctl create-exam --account 7300000000000000002 --paper paper-1
    manage.py feishu_sandbox_ctl grade-exam 7300000000000000456
    manage.py feishu_sandbox_ctl create-bot --token alerts --secret s3cret   # then ALERT_FEISHU_BOT_URL=<url>
    manage.py feishu_sandbox_ctl bot-messages alerts
    manage.py feishu_sandbox_ctl im-messages --open-id ou_demo1001   # the cards 王芳 was sent
    manage.py feishu_sandbox_ctl im-availability ou_demo1001 off     # then 230013 for her
    manage.py feishu_sandbox_ctl longconn-connections
    manage.py feishu_sandbox_ctl longconn-drop --abort   # TCP cut, no close frame
    manage.py feishu_sandbox_ctl longconn-refuse --count 3 --status 514
    manage.py feishu_sandbox_ctl login-apps
    manage.py feishu_sandbox_ctl add-employee 王小明 --email xiaoming@example.com   # + created_v3
    manage.py feishu_sandbox_ctl leave u1234abcd --how resign   # or --how delete
    manage.py feishu_sandbox_ctl register-login-app cli_other --secret s3cret \
        --redirect-uri http://localhost:8000/accounts/feishu/login/callback/
"""

import json

from django.core.management.base import BaseCommand, CommandError

from sandbox.control import SandboxControl, SandboxError
from sandbox.server import FAULT_KINDS


def _pair(text: str, sep: str) -> tuple[str, str]:
    left, found, right = text.partition(sep)
    if not found or not left:
        raise CommandError(f"expected KEY{sep}VALUE, got {text!r}")
    return left, right


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``2h`` or ``1.5d``."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in UNITS else (text, "s")
    try:
        return float(number) * UNITS[unit]
    except ValueError:
        raise CommandError(f"expected a duration like 90, 30m, 2h or 1d, got {text!r}") from None


# Subcommands without options: the SandboxControl method each calls, and what it does.
SIMPLE = {
    "state": ("state", "what the sandbox holds: accounts, custom fields, tickets, employees"),
    "deliveries": ("deliveries", "every push attempt: event, transport, answer, time"),
    "events": ("events", "every event generated, before encryption"),
    "reset": ("reset", "back to the seed: Feishu forgets what happened since (the state file too)"),
    "app-ticket": ("push_app_ticket", "push a fresh app_ticket (store apps)"),
    "expire-tokens": ("expire_tokens", "every access token issued so far expires now"),
    "clear-requests": ("clear_requests", "empty the log of API requests"),
    "bots": ("bots", "the group bots created so far"),
    "config": ("config", "the push settings: webhook, keys, delivery, retry delays"),
    "longconn-connections": ("longconn_connections", "the open long connections"),
    "longconn-stall": (
        "longconn_stall",
        "every long connection goes silent but stays open: no pongs, nothing sent",
    ),
    "login-apps": ("login_apps", "the apps that may sign users in (web login), without secrets"),
    "expire-login-codes": ("expire_login_codes", "every sign-in authorization code issued so far expires"),
}
TENANT = "the tenant key (store apps); default: the sandbox's own tenant"
REPEATABLE = "; repeatable"


class Command(BaseCommand):
    help = "Control a running Feishu sandbox: play what Feishu and its users do, look at what it saw."
    # A client of the sandbox's control API, run from any shell: the project's checks
    # (hireops.W001 without ./dev run's webhook secrets, …) are about its servers, not this.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8765", help="the sandbox's address (default: ./dev run's)"
        )
        sub = parser.add_subparsers(dest="action", required=True, metavar="COMMAND")
        for name, (_method, about) in SIMPLE.items():
            sub.add_parser(name, help=about, description=about)
        self._calls(sub)
        self._tenants(sub)
        self._orders(sub)
        self._bots(sub)
        self._long_connection(sub)
        self._directory(sub)

    @staticmethod
    def _parser(sub, name: str, about: str):
        return sub.add_parser(name, help=about, description=about)

    def _calls(self, sub):
        req = self._parser(sub, "requests", "the API requests the sandbox answered, oldest first")
        req.add_argument("--path", default=None, help="only those to this exact path, e.g. /open-apis/…")
        grant = self._parser(
            sub, "grant-bonus", "a referral reward lands on an account: pushes assets_update"
        )
        grant.add_argument("account_id", help="the referral account's id in Feishu")
        grant.add_argument("--points", type=int, default=0, help="points to add")
        grant.add_argument("--cash", action="append", default=[], help="CURRENCY:AMOUNT" + REPEATABLE)
        grant.add_argument("--tenant", default=None, help=TENANT)
        bind = self._parser(
            sub, "bind-account", "a customer adds the vendor's account: pushes eco_account.created"
        )
        bind.add_argument("--scope", type=int, default=1, help="1 background checks, 2 exams (default 1)")
        bind.add_argument("--name", default=None, help="the account's name in the customer's Hire")
        bind.add_argument(
            "--usage", type=int, action="append", default=None, help="a usage code (default 1)" + REPEATABLE
        )
        bind.add_argument(
            "--field", action="append", default=[], help="a custom field, KEY=VALUE" + REPEATABLE
        )
        bind.add_argument("--tenant", default=None, help=TENANT)
        fault = self._parser(sub, "fault", "make the next matching API calls fail or slow down")
        fault.add_argument("path", help="the request path, an fnmatch pattern: /open-apis/hire/*")
        fault.add_argument(
            "kind",
            choices=FAULT_KINDS,
            help="5xx an HTTP error; slow waits, then acts; late acts, then answers after --delay; "
            "ratelimit Feishu's rate-limit answer; drop closes the connection unanswered; "
            "error Feishu's --code",
        )
        fault.add_argument("--count", type=int, default=1, help="how many calls (default 1)")
        fault.add_argument("--status", type=int, default=500, help="the HTTP status (5xx, error)")
        fault.add_argument("--delay", type=float, default=0.0, help="seconds (slow, late)")
        fault.add_argument("--code", type=int, default=None, help="Feishu's code, for kind error")
        fault.add_argument("--msg", default="", help="Feishu's msg, for kind error")
        clock = self._parser(sub, "clock", "show the sandbox clock, or move it forward")
        clock.add_argument("--advance", default=None, help="DURATION: 90, 30m, 2h, 1d")

    def _tenants(self, sub):
        for name, about in (
            ("install-tenant", "a tenant enables the store app: pushes app_open"),
            ("suspend-tenant", "the app is stopped in a tenant: pushes app_status_change stop_by_*"),
            ("resume-tenant", "the tenant starts the app again: pushes app_status_change start_by_tenant"),
            ("uninstall-tenant", "a tenant uninstalls the app: pushes app_uninstalled"),
        ):
            lifecycle = self._parser(sub, name, about)
            lifecycle.add_argument("tenant", help="the tenant key")
            if name == "suspend-tenant":
                lifecycle.add_argument(
                    "--by", choices=["tenant", "platform"], default="tenant", help="who stopped it"
                )
            if name == "install-tenant":
                lifecycle.add_argument("--name", default="", help="the company's name in Feishu")

    def _orders(self, sub):
        check = self._parser(sub, "create-background-check", "a customer orders a background check")
        check.add_argument("--account", required=True, help="the eco account id (bind-account prints it)")
        check.add_argument(
            "--package", default=None, help="a package id of the account's catalogue (default: its first)"
        )
        check.add_argument("--item", action="append", default=[], help="an additional item id" + REPEATABLE)
        check.add_argument("--candidate", default=None, help="the candidate's name")
        check.add_argument("--comment", default=None, help="the customer's comment")
        check.add_argument(
            "--field", action="append", default=[], help="an order-form value, KEY=VALUE" + REPEATABLE
        )
        check.add_argument("--tenant", default=None, help=TENANT)
        cancel = self._parser(sub, "cancel-background-check", "the customer terminates it in Hire")
        cancel.add_argument("background_check_id", help="Feishu's id of the background check")
        cancel.add_argument("--reason", default=None, help="why, as the customer wrote it")
        exam = self._parser(sub, "create-exam", "a customer arranges an exam")
        exam.add_argument("--account", required=True, help="the eco account id (bind-account prints it)")
        exam.add_argument(
            "--paper", default=None, help="a paper id of the account's catalogue (default: its first)"
        )
        exam.add_argument("--candidate", default=None, help="the candidate's name")
        exam.add_argument("--tenant", default=None, help=TENANT)
        grade = self._parser(
            sub, "grade-exam", "the customer finishes grading: scores are refused from now on"
        )
        grade.add_argument("exam_id", help="Feishu's id of the exam")

    def _bots(self, sub):
        bot = self._parser(sub, "create-bot", "a group's custom bot: prints its webhook URL")
        bot.add_argument("--token", default=None, help="the URL's last part; default: a new UUID")
        bot.add_argument("--secret", default=None, help="signing secret (signature verification)")
        bot.add_argument("--keyword", action="append", default=[], help="custom keyword" + REPEATABLE)
        bot.add_argument("--ip", action="append", default=[], help="allowed IP, a.b.c.* or CIDR" + REPEATABLE)
        messages = self._parser(sub, "bot-messages", "the messages a bot accepted, oldest first")
        messages.add_argument("token", help="the bot's token (its URL's last part)")
        im = self._parser(
            sub, "im-messages", "the app's messages to people (cards), oldest first; also at /im/"
        )
        im.add_argument("--open-id", default=None, help="only this person's (e.g. ou_demo1001)")
        scope = self._parser(
            sub, "im-availability", "a person enters or leaves the app's availability scope (可用范围)"
        )
        scope.add_argument("open_id", help="the person's open_id")
        scope.add_argument("state", choices=["on", "off"], help="off: messages to them answer 230013")
        ability = self._parser(sub, "im-bot", "the app's bot ability: off, every message answers 230006")
        ability.add_argument("state", choices=["on", "off"], help="on or off")

    def _long_connection(self, sub):
        drop = self._parser(sub, "longconn-drop", "close every long connection (code 1000)")
        drop.add_argument("--abort", action="store_true", help="cut the TCP connections, no close frame")
        refuse = self._parser(sub, "longconn-refuse", "refuse the next long-connection handshakes")
        refuse.add_argument("--count", type=int, default=1, help="how many handshakes (default 1)")
        refuse.add_argument("--status", type=int, default=514, help="the HTTP status (default 514)")
        refuse.add_argument(
            "--autherrcode", type=int, default=None, help="default: 1000040350 (too many) with 514"
        )
        refuse.add_argument("--msg", default="", help="the refusal's message")
        lose = self._parser(sub, "longconn-lose-acks", "ignore the next acknowledgements (redelivery)")
        lose.add_argument("--count", type=int, default=1, help="how many acknowledgements (default 1)")

    def _directory(self, sub):
        emp = self._parser(
            sub, "add-employee", "a new employee in the directory: pushes contact.user.created_v3"
        )
        emp.add_argument("name", help="the employee's name")
        emp.add_argument("--email", default=None, help="their email")
        emp.add_argument("--mobile", default=None, help="their mobile number")
        emp.add_argument("--tenant", default=None, help=TENANT)
        emp.add_argument("--enterprise-email", default=None, help="the company mailbox (web login)")
        leave = self._parser(sub, "leave", "an employee leaves: pushes the directory event")
        leave.add_argument("user_id", help="the employee's user_id")
        leave.add_argument(
            "--how", choices=["resign", "delete"], default="resign", help="resigned (updated_v3) or deleted"
        )
        leave.add_argument("--tenant", default=None, help=TENANT)
        login = self._parser(
            sub,
            "register-login-app",
            "an app that may sign users in (web login); the Hire app's id: its redirect URIs",
        )
        login.add_argument("app_id", help="the app's id")
        login.add_argument("--secret", default=None, help="required unless app_id is the Hire app's")
        login.add_argument("--redirect-uri", action="append", default=[], help="a redirect URI" + REPEATABLE)

    def handle(self, *args, **o):
        ctl = SandboxControl(o["url"])
        action = o["action"]
        result: object  # the sandbox's JSON answer, printed as it came
        try:
            if action == "grant-bonus":
                cash = [{"currency_type": c, "amount": a} for c, a in (_pair(x, ":") for x in o["cash"])]
                result = ctl.grant_bonus(o["account_id"], o["points"], cash, o["tenant"])
            elif action == "bind-account":
                fields = [{"key": k, "value": v} for k, v in (_pair(x, "=") for x in o["field"])]
                result = ctl.bind_account(o["scope"], o["name"], o["usage"] or [1], fields, None, o["tenant"])
            elif action == "fault":
                result = ctl.add_fault(
                    o["path"], o["kind"], o["count"], o["status"], o["delay"], o["code"], o["msg"]
                )
            elif action == "suspend-tenant":
                result = ctl.suspend_tenant(o["tenant"], o["by"])
            elif action == "install-tenant":
                result = ctl.install_tenant(o["tenant"], o["name"])
            elif action in ("resume-tenant", "uninstall-tenant"):
                result = getattr(ctl, action.replace("-", "_"))(o["tenant"])
            elif action == "create-background-check":
                fields = [{"key": k, "value": v} for k, v in (_pair(x, "=") for x in o["field"])]
                result = ctl.create_background_check(
                    o["account"],
                    o["tenant"],
                    package_id=o["package"],
                    additional_item_id_list=o["item"],
                    candidate={"name": o["candidate"]} if o["candidate"] else None,
                    comment=o["comment"],
                    custom_field_list=fields,
                )
            elif action == "cancel-background-check":
                result = ctl.cancel_background_check(o["background_check_id"], o["reason"])
            elif action == "create-exam":
                candidate = {"name": o["candidate"]} if o["candidate"] else None
                result = ctl.create_exam(o["account"], o["tenant"], paper_id=o["paper"], candidate=candidate)
            elif action == "grade-exam":
                result = ctl.grade_exam(o["exam_id"])
            elif action == "create-bot":
                result = ctl.create_bot(o["token"], o["secret"], o["keyword"], o["ip"])
            elif action == "bot-messages":
                result = ctl.bot_messages(o["token"])
            elif action == "im-messages":
                result = ctl.im_messages(o["open_id"])
            elif action == "im-availability":
                result = ctl.im_availability(o["open_id"], o["state"] == "on")
            elif action == "im-bot":
                result = ctl.im_bot(o["state"] == "on")
            elif action == "add-employee":
                result = ctl.add_employee(
                    o["name"], o["email"], o["mobile"], o["tenant"], enterprise_email=o["enterprise_email"]
                )
            elif action == "leave":
                result = ctl.employee_leave(o["user_id"], o["how"], o["tenant"])
            elif action == "register-login-app":
                result = ctl.register_login_app(o["app_id"], o["secret"], o["redirect_uri"])
            elif action == "clock":
                result = ctl.advance_clock(_duration(o["advance"])) if o["advance"] else ctl.clock()
            elif action == "longconn-drop":
                result = ctl.longconn_drop("abort" if o["abort"] else "close")
            elif action == "longconn-refuse":
                result = ctl.longconn_refuse(o["count"], o["status"], o["autherrcode"], o["msg"])
            elif action == "longconn-lose-acks":
                result = ctl.longconn_lose_acks(o["count"])
            elif action == "requests":
                result = ctl.requests(o["path"])
            else:
                result = getattr(ctl, SIMPLE[action][0])()
        except SandboxError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
