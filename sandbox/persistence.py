"""The sandbox's state in a file, so that a restarted sandbox is the same Feishu.

Feishu does not forget the accounts a customer bound, the catalogues it was sent or the
tokens it issued because a process restarted; the demo (``./dev run``) keeps the sandbox's
state in ``SANDBOX_STATE_FILE`` (``--state-file``) so its back-office and its Feishu still
agree after a restart. Tests run without a file: each starts from the seed.

What is kept: everything ``SandboxState`` holds (tenants and their names, directory, tokens, app tickets,
custom fields, referral accounts and withdrawals, external referral rewards, eco accounts, catalogues,
orders, bots and what they received, the app's messages to people and who is outside its
availability scope, login apps, the clock's offset). What is not: sign-in codes under way,
faults, the request log, event deliveries not yet made, the push settings and the lifetime
of new tokens (both come from the start's configuration, as the Hire app's login settings do).

The file is JSON ``{"format": FORMAT, "app_id": …, "saved_at": …, "state": {…}}``, written
whole to a temporary file and renamed over the old one, so a reader (or a crash) never sees
half a file. A file of another format or another app is refused, never half-read: the
sandbox says to remove it (``SANDBOX_RESET=1 ./dev run``).
"""

import json
import logging
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

from . import im_api
from .bot_api import Bot
from .state import Account, Token, money

log = logging.getLogger(__name__)

FORMAT = 1
SAVE_DELAY = 0.2  # seconds: a burst of changes (a catalogue push's calls) is written once


class StateFileError(Exception):
    """A state file the sandbox cannot use as it is."""


def saved_state_exists(path) -> bool:
    """Whether a sandbox started with ``path`` as its state file starts from a saved state
    (the file appears at the first change). The demo's seed (``manage.py bootstrap_demo``,
    run before the sandbox starts) sends the sandbox the demo's fields and catalogue only
    when it will start from its seed: otherwise it has them already."""
    return bool(path) and Path(path).exists()


def read(path) -> dict | None:
    """The saved state in ``path``, or None when there is no file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        saved = json.loads(text)
    except ValueError as exc:
        raise StateFileError(f"{path} is not JSON ({exc})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        found = saved.get("format") if isinstance(saved, dict) else None
        raise StateFileError(f"{path} has format {found!r}; this sandbox reads format {FORMAT}")
    return saved


def dump(state) -> dict:
    """Everything worth keeping, as JSON values. Call with ``state.lock`` held."""
    return {
        "clock_offset": state.clock.offset,
        "default_tenant": state.default_tenant,
        "tenants": list(state.tenants),
        "tenant_names": dict(state.tenant_names),
        "employees": state.employees,
        "tokens": [
            {
                "token": t.token,
                "kind": t.kind,
                "tenant_key": t.tenant_key,
                "expires_at": t.expires_at,
                "app_id": t.app_id,
                "user": t.user,
            }
            for t in state.tokens.values()
        ],
        "current": [[*key, token] for key, token in state.current.items()],
        "tickets": state.tickets,
        "fields": [[t, s, fields] for (t, s), fields in state.fields.items()],
        "deleted_keys": [[t, s, sorted(keys)] for (t, s), keys in state.deleted_keys.items()],
        "accounts": [
            {
                "account_id": a.account_id,
                "tenant_key": a.tenant_key,
                "user_id": a.employee["user_id"],
                "status": a.status,
                "points": a.points,
                "cash": {cur: str(amount) for cur, amount in a.cash.items()},
                "last_modify_ms": a.last_modify_ms,
                "withdrawals": [
                    [ms, points, {cur: str(amount) for cur, amount in cash.items()}]
                    for ms, points, cash in a.withdrawals
                ],
            }
            for a in state.accounts.values()
        ],
        "withdraw_orders": [[t, order_id, answer] for (t, order_id), answer in state.withdraw_orders.items()],
        "external_rewards": list(state.external_rewards.values()),
        "eco_accounts": state.eco_accounts,
        "background_checks": state.background_checks,
        "exams": state.exams,
        "catalogues": [
            [t, account_id, {**cat, "retired_keys": sorted(cat["retired_keys"])}]
            for (t, account_id), cat in state.catalogues.items()
        ],
        "bots": [
            {
                "token": b.token,
                "secret": b.secret,
                "keywords": list(b.keywords),
                "ip_allowlist": list(b.ip_allowlist),
                "messages": list(b.messages),
            }
            for b in state.bots.values()
        ],
        "login_apps": state.login_apps,
        "im_messages": [m for kept in state.im_messages.values() for m in kept],
        "im_unavailable": sorted(state.im_unavailable),
        "im_bot_enabled": state.im_bot_enabled,
        "seq": state._seq,
    }


def load(state, saved: dict) -> None:
    """Put a saved state (``read``) in place of the seed state."""
    if saved.get("app_id") != state.app_id:
        raise StateFileError(
            f"the state was saved by the sandbox of app {saved.get('app_id')!r}, this one is {state.app_id!r}"
        )
    try:
        _load(state, saved["state"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(f"the saved state is incomplete ({type(exc).__name__}: {exc})") from None


def _load(state, s: dict) -> None:
    with state.lock:
        state.clock.reset()
        state.clock.advance(float(s["clock_offset"]))
        state.default_tenant = s["default_tenant"]
        state.tenants = list(s["tenants"])
        state.tenant_names = dict(s["tenant_names"])
        state.employees = list(s["employees"])
        people = {(e["tenant_key"], e["user_id"]): e for e in state.employees}
        state.tokens = {t["token"]: Token(**t) for t in s["tokens"]}
        state.current = {tuple(row[:-1]): row[-1] for row in s["current"]}
        state.tickets = {k: float(v) for k, v in s["tickets"].items()}
        state.fields = {(t, scope): fields for t, scope, fields in s["fields"]}
        state.deleted_keys = {(t, scope): set(keys) for t, scope, keys in s["deleted_keys"]}
        state.accounts, state.by_employee = {}, {}
        for a in s["accounts"]:
            employee = people[(a["tenant_key"], a["user_id"])]
            account = Account(
                a["account_id"],
                a["tenant_key"],
                employee,
                status=a["status"],
                points=a["points"],
                cash={cur: money(amount) for cur, amount in a["cash"].items()},
                last_modify_ms=a["last_modify_ms"],
                withdrawals=[
                    (ms, points, {cur: Decimal(amount) for cur, amount in cash.items()})
                    for ms, points, cash in a["withdrawals"]
                ],
            )
            state.accounts[account.account_id] = account
            state.by_employee[(account.tenant_key, employee["user_id"])] = account.account_id
        state.withdraw_orders = {(t, order_id): answer for t, order_id, answer in s["withdraw_orders"]}
        # Absent from files saved before external rewards existed: none then.
        state.external_rewards = {r["id"]: r for r in s.get("external_rewards", [])}
        state.reward_by_external = {
            (r["tenant_key"], r["external_id"]): r["id"] for r in state.external_rewards.values()
        }
        # The seed's eco accounts exist in Feishu from the start: one the seed gained after the
        # state was saved is there too, as the back-office seeded from the same file shows it.
        saved_eco = {(a["tenant_key"], a["account_id"]) for a in s["eco_accounts"]}
        state.eco_accounts = list(s["eco_accounts"]) + [
            a for a in state.eco_accounts if (a["tenant_key"], a["account_id"]) not in saved_eco
        ]
        state.background_checks = dict(s["background_checks"])
        state.exams = dict(s["exams"])
        state.catalogues = {
            (t, account_id): {**cat, "retired_keys": set(cat["retired_keys"])}
            for t, account_id, cat in s["catalogues"]
        }
        state.bots = {}
        for b in s["bots"]:
            bot = Bot(b["token"], b["secret"], tuple(b["keywords"]), tuple(b["ip_allowlist"]))
            bot.messages.extend(b["messages"])
            state.bots[bot.token] = bot
        # Absent from files saved before the app sent messages: none then.
        state.im_messages, state.im_by_uuid = {}, {}
        for message in s.get("im_messages", []):
            im_api.keep(state, message)
        state.im_unavailable = set(s.get("im_unavailable", []))
        state.im_bot_enabled = bool(s.get("im_bot_enabled", True))
        # The Hire app's own login settings come from this start's configuration (as its
        # secret does); the other login apps were registered through the control API.
        hire_app = state.login_apps[state.app_id]
        state.login_apps = {**s["login_apps"], state.app_id: hire_app}
        state._seq = int(s["seq"])


def write(path, state) -> None:
    """The whole state into ``path``, atomically (a temporary file renamed over it)."""
    path = Path(path)
    with state.lock:  # one consistent moment; serialised here because the values are live
        text = json.dumps(
            {"format": FORMAT, "app_id": state.app_id, "saved_at": time.time(), "state": dump(state)},
            ensure_ascii=False,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


class Keeper:
    """Writes the state to its file shortly after it changed, and once more on stop."""

    def __init__(self, path, state):
        self.path, self.state = Path(path), state
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()  # one writer at a time: the newest state wins
        self._thread = None

    def changed(self) -> None:
        self._changed.set()

    def save(self) -> None:
        with self._write_lock:
            try:
                write(self.path, self.state)
            except OSError as exc:  # a full disk must not stop the sandbox answering
                log.warning("sandbox state not saved to %s: %s", self.path, exc)

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-state", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._changed.wait()
            if self._stopping.is_set():
                return
            time.sleep(SAVE_DELAY)
            self._changed.clear()
            # A stop during the delay set _changed just before (cleared above): read
            # _stopping after clearing, or the wait above would sleep through it and stop()
            # would wait its whole join for a thread that never wakes.
            if self._stopping.is_set():
                return
            self.save()

    def stop(self) -> None:
        self._stopping.set()  # before _changed: _run reads them in the other order
        self._changed.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.save()
