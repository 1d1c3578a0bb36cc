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


# Subcommands without options, mapped to SandboxControl methods.
SIMPLE = {
    "state": "state",
    "deliveries": "deliveries",
    "events": "events",
    "reset": "reset",
    "app-ticket": "push_app_ticket",
    "expire-tokens": "expire_tokens",
    "clear-requests": "clear_requests",
    "bots": "bots",
    "config": "config",
    "longconn-connections": "longconn_connections",
    "longconn-stall": "longconn_stall",
    "login-apps": "login_apps",
    "expire-login-codes": "expire_login_codes",
}


class Command(BaseCommand):
    help = "Control a running Feishu sandbox."
    # A client of the sandbox's control API, run from any shell: the project's checks
    # (hireops.W001 without ./dev run's webhook secrets, …) are about its servers, not this.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8765")
        sub = parser.add_subparsers(dest="action", required=True)
        for name in SIMPLE:
            sub.add_parser(name)
        req = sub.add_parser("requests")
        req.add_argument("--path", default=None)
        grant = sub.add_parser("grant-bonus")
        grant.add_argument("account_id")
        grant.add_argument("--points", type=int, default=0)
        grant.add_argument("--cash", action="append", default=[], help="CURRENCY:AMOUNT, repeatable")
        grant.add_argument("--tenant", default=None, help="the account's tenant (store apps)")
        bind = sub.add_parser("bind-account")
        bind.add_argument("--scope", type=int, default=1)
        bind.add_argument("--name", default=None)
        bind.add_argument("--usage", type=int, action="append", default=None)
        bind.add_argument("--field", action="append", default=[], help="KEY=VALUE, repeatable")
        bind.add_argument("--tenant", default=None)
        fault = sub.add_parser("fault")
        fault.add_argument("path")
        fault.add_argument("kind", choices=["5xx", "slow", "ratelimit", "drop", "error"])
        fault.add_argument("--count", type=int, default=1)
        fault.add_argument("--status", type=int, default=500)
        fault.add_argument("--delay", type=float, default=0.0)
        fault.add_argument("--code", type=int, default=None, help="Feishu's code, for kind error")
        fault.add_argument("--msg", default="", help="Feishu's msg, for kind error")
        clock = sub.add_parser("clock", help="show the sandbox clock, or move it forward")
        clock.add_argument("--advance", default=None, help="DURATION: 90, 30m, 2h, 1d")
        for name, about in (
            ("install-tenant", "a tenant enables the store app: pushes app_open"),
            ("suspend-tenant", "the app is stopped in a tenant: pushes app_status_change stop_by_*"),
            ("resume-tenant", "the tenant starts the app again: pushes app_status_change start_by_tenant"),
            ("uninstall-tenant", "a tenant uninstalls the app: pushes app_uninstalled"),
        ):
            lifecycle = sub.add_parser(name, help=about)
            lifecycle.add_argument("tenant")
            if name == "suspend-tenant":
                lifecycle.add_argument("--by", choices=["tenant", "platform"], default="tenant")
            if name == "install-tenant":
                lifecycle.add_argument("--name", default="", help="the company's name in Feishu")
        check = sub.add_parser("create-background-check", help="a customer orders a background check")
        check.add_argument("--account", required=True, help="the eco account id (bind-account prints it)")
        check.add_argument("--package", default=None)
        check.add_argument("--item", action="append", default=[], help="an additional item id, repeatable")
        check.add_argument("--candidate", default=None, help="the candidate's name")
        check.add_argument("--comment", default=None)
        check.add_argument("--field", action="append", default=[], help="KEY=VALUE, repeatable")
        check.add_argument("--tenant", default=None)
        cancel = sub.add_parser("cancel-background-check", help="the customer terminates it in Hire")
        cancel.add_argument("background_check_id")
        cancel.add_argument("--reason", default=None)
        exam = sub.add_parser("create-exam", help="a customer arranges an exam")
        exam.add_argument("--account", required=True)
        exam.add_argument("--paper", default=None)
        exam.add_argument("--candidate", default=None)
        exam.add_argument("--tenant", default=None)
        grade = sub.add_parser(
            "grade-exam", help="the customer finishes grading: scores are refused from now on"
        )
        grade.add_argument("exam_id")
        bot = sub.add_parser("create-bot", help="a group's custom bot: prints its webhook URL")
        bot.add_argument("--token", default=None, help="the URL's last part; default: a new UUID")
        bot.add_argument("--secret", default=None, help="signing secret (signature verification)")
        bot.add_argument("--keyword", action="append", default=[], help="custom keyword, repeatable")
        bot.add_argument("--ip", action="append", default=[], help="allowed IP, a.b.c.* or CIDR, repeatable")
        messages = sub.add_parser("bot-messages", help="the messages a bot accepted, oldest first")
        messages.add_argument("token")
        drop = sub.add_parser("longconn-drop", help="close every long connection (code 1000)")
        drop.add_argument("--abort", action="store_true", help="cut the TCP connections, no close frame")
        refuse = sub.add_parser("longconn-refuse", help="refuse the next long-connection handshakes")
        refuse.add_argument("--count", type=int, default=1)
        refuse.add_argument("--status", type=int, default=514)
        refuse.add_argument(
            "--autherrcode", type=int, default=None, help="default: 1000040350 (too many) with 514"
        )
        refuse.add_argument("--msg", default="")
        lose = sub.add_parser("longconn-lose-acks", help="ignore the next acknowledgements (redelivery)")
        lose.add_argument("--count", type=int, default=1)
        emp = sub.add_parser("add-employee")
        emp.add_argument("name")
        emp.add_argument("--email", default=None)
        emp.add_argument("--mobile", default=None)
        emp.add_argument("--tenant", default=None)
        emp.add_argument("--enterprise-email", default=None, help="the company mailbox (web login)")
        leave = sub.add_parser("leave", help="an employee leaves: pushes the directory event")
        leave.add_argument("user_id")
        leave.add_argument("--how", choices=["resign", "delete"], default="resign")
        leave.add_argument("--tenant", default=None)
        login = sub.add_parser(
            "register-login-app",
            help="an app that may sign users in (web login); the Hire app's id: its redirect URIs",
        )
        login.add_argument("app_id")
        login.add_argument("--secret", default=None, help="required unless app_id is the Hire app's")
        login.add_argument("--redirect-uri", action="append", default=[], help="repeatable")

    def handle(self, *args, **o):
        ctl = SandboxControl(o["url"])
        action = o["action"]
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
                result = getattr(ctl, SIMPLE[action])()
        except SandboxError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
