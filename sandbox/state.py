"""Everything the sandbox remembers: tenants, directory, tokens, tickets, fields, accounts.

One ``RLock`` guards all of it; the HTTP handlers run in many threads. ``reset()``
rebuilds the seed state and puts the clock back to real time (docs/feishu.md is the
spec; choices where it is silent are marked "CHOICE"). Expiry and Feishu's timestamps
read ``self.clock`` (clock.py), never ``time.time()``, so tests can move time forward.
"""

import json
import secrets
import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from .clock import Clock
from .errors import ApiError  # the API modules still name it here

SEED_DIRECTORY = Path(__file__).parent / "data" / "directory.json"
DEMO_DIRECTORY = Path(__file__).parent / "data" / "demo.json"  # ./dev run's: with accounts
# CHOICE: the docs give no app_ticket lifetime; the Go SDK caches one for 12 h, so it stays valid that long.
TICKET_TTL = 12 * 3600
USER_ID_TYPES = ("open_id", "union_id", "user_id")
CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def load_directory(path=None) -> dict:
    """Read a directory file (SANDBOX_DIRECTORY_FILE / --directory; default data/directory.json).

    Format: ``{"default_tenant": key, "tenants": [{"tenant_key": ..., "name"?}], "employees": [{tenant_key?,
    user_id?, open_id?, union_id?, name: str | {zh_cn, en_us}, email?, enterprise_email?,
    employee_no?, mobile?: str | {code, number}}],
    "accounts": [{user_id, account_id, status?, points?, cash?: {currency: amount}}],
    "eco_accounts": [{account_id, scope, tenant_key?, account_name?, custom_field_list?}]}``.
    Missing ids are derived from user_id; the default tenant is where self-built tokens act.
    ``accounts`` are referral accounts that exist from the start (the demo's), with fixed ids
    so that a back-office seeded from the same file finds them after every restart; so are
    ``eco_accounts`` (a vendor's accounts that customers added in Hire, e.g. the demo's).
    """
    path = Path(path or SEED_DIRECTORY)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("extends"):  # another directory file (next to this one) with these additions
        base = json.loads((path.parent / data["extends"]).read_text(encoding="utf-8"))
        data = {**base, **{k: v for k, v in data.items() if k != "extends"}}
    tenants = [t["tenant_key"] for t in data.get("tenants", [])]
    names = {t["tenant_key"]: t["name"] for t in data.get("tenants", []) if t.get("name")}
    default = data.get("default_tenant") or (tenants[0] if tenants else "demo-tenant")
    if default not in tenants:
        tenants.insert(0, default)
    employees = [normalize_employee(e, default) for e in data.get("employees", [])]
    return {
        "default_tenant": default,
        "tenants": tenants,
        "tenant_names": names,
        "employees": employees,
        "accounts": list(data.get("accounts", [])),
        "eco_accounts": [
            {
                "account_id": str(a["account_id"]),
                "scope": int(a["scope"]),
                "account_name": a.get("account_name", ""),
                "usage_list": a.get("usage_list", [1]),
                "custom_field_list": a.get("custom_field_list", []),
                "tenant_key": a.get("tenant_key") or default,
            }
            for a in data.get("eco_accounts", [])
        ],
    }


def normalize_employee(raw: dict, default_tenant: str) -> dict:
    emp = dict(raw)
    emp.setdefault("tenant_key", default_tenant)
    uid = emp.get("user_id") or "u" + secrets.token_hex(4)
    emp["user_id"] = uid
    emp.setdefault("open_id", "ou_" + uid)
    emp.setdefault("union_id", "on_" + uid)
    name = emp.get("name") or {}
    emp["name"] = {"zh_cn": name, "en_us": name} if isinstance(name, str) else dict(name)
    mobile = emp.get("mobile")
    if isinstance(mobile, str):
        mobile = {"code": "86", "number": mobile}
    emp["mobile"] = (
        {"code": str(mobile.get("code") or "86"), "number": str(mobile["number"])} if mobile else None
    )
    emp["email"] = emp.get("email") or None
    # The company mailbox (Feishu Mail), what web login's user_info calls enterprise_email.
    emp["enterprise_email"] = emp.get("enterprise_email") or None
    return emp


@dataclass
class Token:
    token: str
    kind: str  # "tenant" | "app" | "user" (web login, login_api.py)
    tenant_key: str | None
    expires_at: float
    app_id: str = ""  # the app it was issued to ("" = the Hire app, before login apps existed)
    user: dict | None = None  # a user_access_token's employee


@dataclass
class Account:
    account_id: str
    tenant_key: str
    employee: dict
    status: int = 1  # 1 enabled, 2 deactivated
    points: int = 0
    cash: dict = field(default_factory=dict)  # currency -> Decimal
    last_modify_ms: int = 0
    withdrawals: list = field(default_factory=list)  # (trans_time_ms, points, {cur: Decimal})

    def assets(self) -> dict:
        cash = [{"currency_type": cur, "amount": float(amt)} for cur, amt in sorted(self.cash.items()) if amt]
        return {"confirmed_bonus": {"point_bonus": self.points, "cash_bonus": cash}}

    def to_json(self, user_id_type: str = "open_id") -> dict:
        emp = self.employee
        mobile = emp.get("mobile")
        return {
            "account_id": self.account_id,
            "assets": self.assets(),
            "status": self.status,
            # CHOICE: account_referrer.mobile is a plain string in the SDK model; we render "+<code><number>".
            "referrer": {
                "id": emp[user_id_type],
                "name": emp["name"],
                "email": emp.get("email") or "",
                "mobile": f"+{mobile['code']}{mobile['number']}" if mobile else "",
            },
        }

    def next_modify_ms(self, now_ms: int) -> int:
        # modify_time must be strictly increasing per account even within one millisecond.
        self.last_modify_ms = max(now_ms, self.last_modify_ms + 1)
        return self.last_modify_ms


class SandboxState:
    def __init__(
        self,
        app_id: str,
        app_secret: str,
        directory_file=None,
        token_ttl: float = 7200,
        clock=None,
        login_redirect_uris=(),
    ):
        self.app_id, self.app_secret = app_id, app_secret
        self.directory_file = directory_file
        self.seed_login_redirect_uris = list(login_redirect_uris)
        self.seed_token_ttl = token_ttl
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        seed = load_directory(self.directory_file)
        with self.lock:
            self.clock.reset()
            self.token_ttl = self.seed_token_ttl
            self.default_tenant = seed["default_tenant"]
            self.tenants = list(seed["tenants"])
            # Each tenant's company name, as the tenant info API tells it (tenant_api.py).
            self.tenant_names: dict[str, str] = dict(seed["tenant_names"])
            self.employees = seed["employees"]
            self.tokens: dict[str, Token] = {}
            self.current: dict[tuple, str] = {}
            self.tickets: dict[str, float] = {}
            self.fields: dict[tuple, dict] = {}  # (tenant, scope) -> {key: field}
            self.deleted_keys: dict[tuple, set] = {}
            self.accounts: dict[str, Account] = {}
            self.by_employee: dict[tuple, str] = {}  # (tenant, user_id) -> account_id
            self.withdraw_orders: dict[tuple, dict] = {}  # (tenant, external_order_id) -> answer
            # External referral rewards (reward_api.py): Feishu's id -> reward, and the
            # caller's (tenant, external_id) -> Feishu's id.
            self.external_rewards: dict[str, dict] = {}
            self.reward_by_external: dict[tuple, str] = {}
            self.eco_accounts: list[dict] = list(seed["eco_accounts"])
            # What Hire shows of each eco order (eco_orders.py): id -> order.
            self.background_checks: dict[str, dict] = {}
            self.exams: dict[str, dict] = {}
            # What each eco account offers (eco_catalogue.py): (tenant, account_id) -> catalogue.
            self.catalogues: dict[tuple, dict] = {}
            # Custom group bots (bot_api.py): webhook token -> Bot, with what each received.
            self.bots: dict[str, object] = {}
            # Messages from the app (im_api.py): open_id -> those delivered, (app, uuid) ->
            # the message a uuid sent; people outside the app's availability scope, and
            # whether the app's bot ability is on.
            self.im_messages: dict[str, object] = {}
            self.im_by_uuid: dict[tuple, dict] = {}
            self.im_unavailable: set[str] = set()
            self.im_bot_enabled = True
            # Web login (login_api.py): apps that may sign users in, app_id -> {app_id,
            # app_secret, redirect_uris}; the Hire app is one. Codes: code -> LoginCode.
            self.login_apps: dict[str, dict] = {
                self.app_id: {
                    "app_id": self.app_id,
                    "app_secret": self.app_secret,
                    "redirect_uris": list(self.seed_login_redirect_uris),
                }
            }
            self.login_codes: dict[str, object] = {}
            self._seq = 0
            for seeded in seed["accounts"]:
                self._seed_account(seeded)

    def seed_accounts(
        self, count: int, first_id: int, points: int = 0, cash: dict | None = None, tenants=None
    ) -> list[str]:
        """``count`` synthetic employees, each with a referral account whose id is
        ``first_id + i``, holding ``points`` and ``cash`` ({currency: amount}), spread in turn
        over ``tenants`` (known tenants; default: the default tenant) (benchmarks at
        production size)."""
        if not 0 < count <= 1_000_000:
            raise ValueError("count must be between 1 and 1,000,000")
        tenants = list(tenants or [self.default_tenant])
        unknown = [t for t in tenants if t not in self.tenants]
        if unknown:
            raise ValueError(f"unknown tenant {unknown[0]!r}")
        ids = []
        with self.lock:
            for i in range(count):
                uid = f"bench{first_id + i}"
                employee = normalize_employee(
                    {"user_id": uid, "name": f"Bench {i}", "email": f"{uid}@bench.example"},
                    tenants[i % len(tenants)],
                )
                self.employees.append(employee)
                account_id = str(first_id + i)
                seeded = {"user_id": uid, "account_id": account_id, "points": points, "cash": cash or {}}
                self._seed_account(seeded, employee)
                ids.append(account_id)
        return ids

    def _seed_account(self, seeded: dict, employee: dict | None = None) -> None:
        employee = employee or next(e for e in self.employees if e["user_id"] == seeded["user_id"])
        account = Account(
            str(seeded["account_id"]),
            employee["tenant_key"],
            employee,
            status=int(seeded.get("status", 1)),
            points=int(seeded.get("points", 0)),
            cash={cur: money(amount) for cur, amount in (seeded.get("cash") or {}).items()},
        )
        self.accounts[account.account_id] = account
        self.by_employee[(employee["tenant_key"], employee["user_id"])] = account.account_id

    def eco_account(self, tenant_key: str, account_id: str) -> dict | None:
        """The vendor's eco account a customer of ``tenant_key`` added in Hire, if any."""
        with self.lock:
            return next(
                (
                    a
                    for a in self.eco_accounts
                    if (a["tenant_key"], a["account_id"]) == (tenant_key, account_id)
                ),
                None,
            )

    # --- ids ------------------------------------------------------------
    def new_account_id(self) -> str:
        # Feishu account ids are 19-digit decimal strings.
        with self.lock:
            self._seq += 1
            return str(7_300_000_000_000_000_000 + secrets.randbelow(10**12) * 1000 + self._seq % 1000)

    # --- tokens -----------------------------------------------------------
    def issue_token(self, kind: str, tenant_key: str | None, app_id: str | None = None) -> tuple[str, int]:
        """The same token while >= ttl/4 is left (30 min of 2 h), else a new one; old ones stay valid.
        ``app_id``: a login app's (login_api.py); each app has tokens of its own."""
        app_id = app_id or self.app_id
        with self.lock:
            now = self.clock.time()
            cur = self.tokens.get(self.current.get((kind, tenant_key, app_id), ""))
            if cur and cur.expires_at - now >= self.token_ttl / 4:
                return cur.token, int(cur.expires_at - now)
            token = ("t-" if kind == "tenant" else "a-") + "g" + secrets.token_hex(20)
            self.tokens[token] = Token(token, kind, tenant_key, now + self.token_ttl, app_id)
            self.current[(kind, tenant_key, app_id)] = token
            return token, int(self.token_ttl)

    def add_token(self, token: Token) -> Token:
        """Keep a token issued elsewhere (a user_access_token), so expiry and lookup treat it alike."""
        with self.lock:
            self.tokens[token.token] = token
            return token

    def token_info(self, token: str) -> Token | None:
        with self.lock:
            info = self.tokens.get(token)
            return info if info and info.expires_at > self.clock.time() else None

    def expire_tokens(self, tickets: bool = False) -> None:
        with self.lock:
            past = self.clock.time() - 1
            for tok in self.tokens.values():
                tok.expires_at = past
            if tickets:
                self.tickets = dict.fromkeys(self.tickets, past)

    def set_token_ttl(self, seconds: float) -> None:
        with self.lock:
            self.token_ttl = float(seconds)

    def new_ticket(self) -> str:
        with self.lock:
            ticket = secrets.token_hex(16)
            self.tickets[ticket] = self.clock.time() + TICKET_TTL
            return ticket

    def ticket_valid(self, ticket: str) -> bool:
        with self.lock:
            return self.tickets.get(ticket or "", 0) > self.clock.time()

    # --- directory ------------------------------------------------------------
    def add_employee(self, raw: dict) -> dict:
        emp = normalize_employee(raw, self.default_tenant)
        with self.lock:
            if emp["tenant_key"] not in self.tenants:
                self.tenants.append(emp["tenant_key"])
            self.employees.append(emp)
        return emp

    def match_employees(self, tenant_key: str, mobile: dict | None, email: str | None) -> list[dict]:
        # CHOICE: with both mobile and email, anyone matching either counts, so
        # identifiers of two different people give 1002552 (no unique user).
        email = (email or "").strip().lower()
        with self.lock:
            found = []
            for emp in self.employees:
                if emp["tenant_key"] != tenant_key:
                    continue
                m = emp.get("mobile")
                by_mobile = bool(
                    mobile and m and m["number"] == mobile["number"] and m["code"] == mobile["code"]
                )
                by_email = bool(email and (emp.get("email") or "").lower() == email)
                if by_mobile or by_email:
                    found.append(emp)
            return found

    # --- accounts --------------------------------------------------------------
    def account_for(self, employee: dict) -> Account:
        """One account per employee per tenant: the second create returns the first."""
        key = (employee["tenant_key"], employee["user_id"])
        with self.lock:
            acc_id = self.by_employee.get(key)
            if acc_id:
                return self.accounts[acc_id]
            acc = Account(self.new_account_id(), employee["tenant_key"], employee)
            self.accounts[acc.account_id] = acc
            self.by_employee[key] = acc.account_id
            return acc

    def get_account(self, tenant_key: str | None, account_id: str) -> Account:
        with self.lock:
            acc = self.accounts.get(str(account_id or ""))
            if acc is None or (tenant_key is not None and acc.tenant_key != tenant_key):
                raise ApiError(1002553, f"referral account {account_id!r} does not exist")
            return acc

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "default_tenant": self.default_tenant,
                "tenants": list(self.tenants),
                "tenant_names": dict(self.tenant_names),
                "token_ttl": self.token_ttl,
                "accounts": [
                    {
                        **a.to_json("open_id"),
                        "tenant_key": a.tenant_key,
                        "user_id": a.employee["user_id"],
                        # Feishu's books: every withdrawal made (trans_time ms, points, cash).
                        "withdrawals": [
                            [ms, points, {c: str(v) for c, v in cash.items()}]
                            for ms, points, cash in a.withdrawals
                        ],
                    }
                    for a in self.accounts.values()
                ],
                "custom_fields": [
                    {
                        "tenant_key": t,
                        "scope": s,
                        "fields": list(f.values()),
                        "deleted_keys": sorted(self.deleted_keys.get((t, s), ())),
                    }
                    for (t, s), f in sorted(self.fields.items())
                ],
                "tickets": [{"app_ticket": k, "expires_at": v} for k, v in self.tickets.items()],
                "eco_accounts": list(self.eco_accounts),
                "external_rewards": [dict(r) for r in self.external_rewards.values()],
                "background_checks": [dict(c) for c in self.background_checks.values()],
                "exams": [dict(e) for e in self.exams.values()],
                "catalogues": _catalogues(self),
                "employees": list(self.employees),
            }


def _catalogues(state) -> list[dict]:
    from .eco_catalogue import snapshot  # eco_catalogue builds on this module

    return snapshot(state)
