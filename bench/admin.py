"""Benchmark: the admin pages staff use daily, on a year of a large customer's data, as each role.

    .venv/bin/python bench/admin.py [--pages TEXT] [--roles TEXT] [--repeat 5] [--strict]
                                    [--reseed] [--scale 1] [--spread large|flat]
                                    [--no-exports] [--slow N] [--explain]
                                    [--timeout 30] [--export-accounts N]

Needs PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/hireops_admin_bench,
a database of its own, created and migrated here. The first run seeds it (bench/seed.py, SQL-side
``INSERT … SELECT … FROM generate_series``, one transaction, then VACUUM ANALYZE; the seeding
time is printed): 1,000,000 Feishu events over 365 days, 200,000 referral accounts (cash,
~570,000 balance changes, 50,000 withdrawals, daily reconciliation runs), 200,000 eco-account
bindings of 20,000 vendor customers with their status history, ~110,000 change-history entries,
background jobs, custom fields and publishes, 150,000 background checks and 50,000 exams with
their writes to Feishu, and what the dashboards count (payout runs and their lines, every
account's registration, enable/deactivate requests, rewards from outside, leavers, catalogue
pushes; the last week's failures among them), then the trends' rollups of the year
(``manage.py trends_backfill``; a metric added later is built by the next run). Later runs
find the sizes there and skip it; ``--reseed`` drops the database and starts over (only a
database whose name contains "bench"); ``--scale 0.01`` makes a small one for trying the script out.

It then requests each page in-process with Django's test ``Client``, logged in (``force_login``)
as a user of each role (superuser, Vendor operations, HR, HR with HR withdrawals, Auditor; all
created here), skipping the pages a role cannot see: 2 warm-up requests, then ``--repeat``
timed ones, each asserted to answer 200. Per page and role it prints the median time, the SQL
queries of a request (``CaptureQueriesContext``) and the time they spent in the database, and
the median CPU time a request took: this process's and, where PostgreSQL runs on this machine,
its server process's (``/proc/PID/schedstat``). On a machine shared with other work the time
moves with the moment, the CPU time much less: it compares roles and commits run at different
moments, and says whether a page was slow or the machine busy. A
query running longer than ``--timeout`` seconds (PostgreSQL's statement_timeout) is cancelled
and its page reported as "timeout" with the queries up to it.
``--slow N`` lists each page's N slowest queries; ``--explain`` adds the EXPLAIN ANALYZE of the
slowest query of each page that misses the target.

Settings are production's: DEBUG off (forced here), so no DEBUG-only work is timed. The one
override is the static files storage: Django's plain ``StaticFilesStorage`` instead of the
manifest one, as tests/conftest.py does, so no collectstatic is needed (a static URL is then
built without looking up its hashed name); and "testserver" is added to ALLOWED_HOSTS. The
interface language is the default (zh-hans).

Exports (unless ``--no-exports``; only them: ``--pages export``), as HR, each in a fresh
process: the referral accounts' CSV and Excel exports of every row (the admin actions
``export_csv`` / ``export_xlsx`` with ``select_across=1``), each both ways: "immediate" (the
file is the answer, as before background exports: EXPORT_INLINE_MAX raised past every row)
with the request's duration and its time to first byte; "background" (the default past
EXPORT_INLINE_MAX) with the request's duration (it starts the job), the job's time to a
downloadable file (run in the same process, as jobs.export runs it in a worker) and the
download's first byte; queries, file size and the process's peak RSS growth (ru_maxrss).
``--export-accounts 2000000`` first copies the seeded accounts (with their cash, each copy under
a tenant of its own) until there are that many: the 10x case, without seeding ten times the rest
(use a database of its own, e.g. DATABASE_URL=…/hireops_admin_bench_2m).

Targets (2 cores): median <= 50 ms and <= 12 queries per page, for every role. The exit
status is 0 unless ``--strict`` and a page misses them.
"""

import argparse
import gc
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hireops_admin_bench"
TARGET_MS, TARGET_QUERIES = 50.0, 12  # 50 ms a page (the target was 100 ms before)
# A query running longer than this is cancelled and its page reported as a timeout (gunicorn's
# default worker timeout is 30 s: such a page never answers in production either).
TIMEOUT_S = 30.0
WARMUP = 2
ACCOUNTS_URL = "/admin/referrals/referralaccount/"
MB = 2**20

# (key, label, groups); the superuser has none.
ROLES = [
    ("superuser", "superuser", ()),
    ("vendor", "Vendor operations", ("Vendor operations",)),
    ("hr", "HR", ("HR",)),
    ("hr_withdrawals", "HR + HR withdrawals", ("HR", "HR withdrawals")),
    ("auditor", "Auditor", ("Auditor",)),
]


def _environment() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a line per login (django-axes)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("FEISHU_SANDBOX", "1")  # the emulator stands in for Feishu
    # Cache, lock files and broker folders of this run, apart from a dev stack's var/.
    os.environ.setdefault("HIREOPS_VAR_DIR", tempfile.mkdtemp(prefix="hireops-bench-admin-"))


def _database(reseed: bool) -> None:
    """Create the bench database if absent (drop it first with --reseed)."""
    import psycopg
    from psycopg import sql

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not url.scheme.startswith("postgres"):
        sys.exit(f"bench/admin.py needs PostgreSQL (DATABASE_URL={os.environ['DATABASE_URL']})")
    maintenance = url._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reseed:
            if "bench" not in name:
                sys.exit(f"--reseed drops the database: refused for {name!r} (its name has no 'bench')")
            print(f"Dropping database {name} (--reseed)")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            print(f"Creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _django() -> None:
    import django

    # WhiteNoise looks for STATIC_ROOT, which no collectstatic filled (see the docstring).
    warnings.filterwarnings("ignore", "No directory at", UserWarning)

    django.setup()
    from django.conf import settings
    from django.test.utils import override_settings

    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(
        STORAGES={**settings.STORAGES, "staticfiles": plain},
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
    ).enable()


def _statement_timeout(seconds: float) -> None:
    """From now on, PostgreSQL cancels a query of this process running longer than ``seconds``
    (not during migrating and seeding, which run longer)."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    def set_timeout(sender=None, connection=connection, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(seconds * 1000)}")

    set_timeout()
    connection_created.connect(set_timeout, weak=False)
    # The test client raises the error itself; Django's log of it would only repeat it.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)


def _users() -> dict:
    """A staff user per role (and a superuser), as the benchmark logs in."""
    from django.contrib.auth.models import Group, User

    users = {}
    for key, label, groups in ROLES:
        user, _ = User.objects.get_or_create(username=f"bench-{key.replace('_', '-')}")
        user.first_name, user.last_name = "Bench", label
        user.is_staff, user.is_superuser = True, key == "superuser"
        user.set_unusable_password()
        user.save()
        user.groups.set([Group.objects.get(name=g) for g in groups])
        users[key] = user
    return users


def _counts() -> dict[str, int]:
    from bindings.models import EcoAccountBinding
    from hireops.events.models import FeishuEvent
    from orders.models import BackgroundCheck
    from referrals.models import Leaver, ReferralAccount

    return {
        "events": FeishuEvent.objects.count(),
        "accounts": ReferralAccount.objects.count(),
        "bindings": EcoAccountBinding.objects.count(),
        "background_checks": BackgroundCheck.objects.count(),
        "leavers": Leaver.objects.count(),  # a seed from before the dashboards' rows has none
    }


def _top_up_accounts(wanted: int) -> None:
    """``--export-accounts``: copies of the seeded referral accounts (and their cash), each
    copy under a tenant of its own so no unique key collides, until ``wanted`` are there (the
    10x case of the exports without seeding ten times everything else)."""
    from django.db import connection

    from referrals.models import ReferralAccount

    have = ReferralAccount.objects.count()
    if have >= wanted:
        return
    seeded = ReferralAccount.objects.exclude(tenant_key__startswith="copy-").count()
    first = (
        ReferralAccount.objects.filter(tenant_key__startswith="copy-").values("tenant_key").distinct().count()
    )
    copies = range(first + 1, -(-wanted // seeded))
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'referrals_referralaccount' AND column_name <> 'id' ORDER BY ordinal_position"
        )
        columns = [c for (c,) in cursor.fetchall()]
        chosen = {"tenant_key": "'copy-' || k", "account_id": "a.account_id || '-' || k"}
        picked = ", ".join(chosen.get(c, f"a.{c}") for c in columns)
        for k in copies:
            cursor.execute(
                f"INSERT INTO referrals_referralaccount ({', '.join(columns)}) "  # noqa: S608 - names from the catalogue
                f"SELECT {picked} FROM referrals_referralaccount a, (SELECT %s AS k) AS copy "
                "WHERE a.tenant_key NOT LIKE 'copy-%%'",
                [k],
            )
            cursor.execute(
                "INSERT INTO referrals_accountcash (account_id, currency, amount) "
                "SELECT n.id, c.currency, c.amount FROM referrals_referralaccount n "
                "JOIN referrals_referralaccount o ON n.account_id = o.account_id || '-' || %s "
                "JOIN referrals_accountcash c ON c.account_id = o.id WHERE n.tenant_key = 'copy-' || %s",
                [k, k],
            )
        cursor.execute("ANALYZE referrals_referralaccount")
        cursor.execute("ANALYZE referrals_accountcash")
    total = ReferralAccount.objects.count()
    print(f"Topped up to {total:,} referral accounts in {time.perf_counter() - t0:.1f} s (--export-accounts)")


def _ensure_data(scale: float, users: dict, more_accounts: bool = False, spread: str = "large") -> None:
    from bench import seed
    from hireops.events.models import FeishuEvent

    wanted = {
        k: v
        for k, v in seed.sizes(scale).items()
        if k in ("events", "accounts", "bindings", "background_checks", "leavers")
    }
    have = _counts()
    if more_accounts and have["accounts"] > wanted["accounts"]:  # topped up by --export-accounts
        have["accounts"] = wanted["accounts"]
    if have == wanted:
        print("Data already seeded: " + ", ".join(f"{n:,} {k}" for k, n in have.items()))
    elif any(have.values()):
        sys.exit(
            f"The database holds other sizes ({have}, wanted {wanted} at --scale {scale}): "
            "run with --reseed to start over."
        )
    else:
        print("Seeding " + ", ".join(f"{n:,} {k}" for k, n in wanted.items()) + " (and what goes with them)")
        seconds = seed.seed(scale, {k: u.pk for k, u in users.items()}, spread=spread)
        print(f"Seeded in {seconds:.1f} s")
    _ensure_rollups()
    from django.db.models import Max
    from django.utils import timezone

    newest = FeishuEvent.objects.aggregate(at=Max("received_at"))["at"]
    if newest and timezone.now() - newest > timedelta(days=1):
        days = (timezone.now() - newest).days
        print(
            f"NOTE: the data was seeded {days} days ago: the dashboard's 14-day chart covers "
            "fewer events than at seeding time. --reseed for comparable figures."
        )


def _ensure_rollups() -> None:
    """A year of the trends' rollups, as production has them once ``trends_backfill`` has run:
    the dashboards' charts read them. Each metric is built once (a metric added since is
    built by the next run; those done already are skipped by the command itself)."""
    import io

    from django.core.management import call_command

    started = time.perf_counter()
    out = io.StringIO()
    call_command("trends_backfill", "--days", "365", stdout=out)
    built = [line for line in out.getvalue().splitlines() if "done already" not in line]
    if built:
        print(f"Trends' rollups built in {time.perf_counter() - started:.1f} s: " + "; ".join(built))


@dataclass
class Samples:
    """Values staff would search for, taken from the middle of the data."""

    referral_event: tuple[str, str] = ("", "")  # (event id, account id)
    eco_event: tuple[str, str] = ("", "")
    account_name: str = ""
    account_email: str = ""
    account_id: str = ""
    binding_name: str = ""
    binding_value: str = ""  # a custom-field value (the order number)


def _samples() -> Samples:
    from bench import seed
    from bindings.models import BindingStatus, EcoAccountBinding
    from hireops.events.models import FeishuEvent
    from referrals.models import AccountStatus, ReferralAccount

    def middle(qs):
        ids = qs.model.objects.order_by("id")
        low, high = (
            ids.values_list("id", flat=True).first(),
            ids.reverse().values_list("id", flat=True).first(),
        )
        return qs.filter(id__gte=(low + high) // 2).order_by("id").first()

    s = Samples()
    for attr, event_type in (("referral_event", seed.REFERRAL_EVENT), ("eco_event", seed.ECO_EVENT)):
        event = middle(FeishuEvent.objects.filter(event_type=event_type))
        setattr(s, attr, (event.event_id, event.account_id))
    account = middle(ReferralAccount.objects.filter(status=AccountStatus.ACTIVE).exclude(email=""))
    s.account_name, s.account_email, s.account_id = account.name, account.email, account.account_id
    binding = middle(EcoAccountBinding.objects.filter(status=BindingStatus.BOUND))
    s.binding_name, s.binding_value = binding.account_name, binding.values["ord_id"]
    return s


@dataclass
class Page:
    name: str
    path: str
    model: str = ""  # "app_label.ModelName" whose admin decides who sees the page
    query: object = None  # dict, or callable(role key, Samples) -> dict
    # Which roles: "all" that see the model, "full" those seeing every event, "part" the others.
    events_view: str = "all"
    # The dashboard as a group of readers' first reader finds it (or any reader while beat is
    # stopped): its trends drawn from figures read anew on every request, where otherwise the
    # beat keeps them drawn (hireops.core.trends.sections).
    first_view: bool = False


def _pages() -> list[Page]:
    def event_for(role, s):
        return s.eco_event if role == "vendor" else s.referral_event

    events, accounts = "/admin/events/feishuevent/", ACCOUNTS_URL
    bindings = "/admin/bindings/ecoaccountbinding/"
    withdrawals = "/admin/referrals/withdrawal/"
    checks = "/admin/orders/backgroundcheck/"
    return [
        Page("dashboard (admin index)", "/admin/"),
        Page("dashboard: a year", "/admin/", "", {"period": "year"}),
        Page("dashboard, drawn anew", "/admin/", first_view=True),
        Page("dashboard, drawn anew: a year", "/admin/", "", {"period": "year"}, first_view=True),
        Page("events: no filter", events, "events.FeishuEvent", events_view="full"),
        Page("events: the role's types (its default list)", events, "events.FeishuEvent", events_view="part"),
        Page("events: status=failed", events, "events.FeishuEvent", {"status__exact": "failed"}),
        Page(
            "events: search exact event id",
            events,
            "events.FeishuEvent",
            lambda role, s: {"q": event_for(role, s)[0]},
        ),
        Page(
            "events: search exact account id",
            events,
            "events.FeishuEvent",
            lambda role, s: {"q": event_for(role, s)[1]},
        ),
        Page("referral accounts: no filter", accounts, "referrals.ReferralAccount"),
        Page(
            "referral accounts: status=active",
            accounts,
            "referrals.ReferralAccount",
            {"status__exact": "active"},
        ),
        Page(
            "referral accounts: search name",
            accounts,
            "referrals.ReferralAccount",
            lambda role, s: {"q": s.account_name},
        ),
        Page(
            "referral accounts: search exact email",
            accounts,
            "referrals.ReferralAccount",
            lambda role, s: {"q": s.account_email},
        ),
        Page(
            "referral accounts: search exact account id",
            accounts,
            "referrals.ReferralAccount",
            lambda role, s: {"q": s.account_id},
        ),
        Page("withdrawals: no filter", withdrawals, "referrals.Withdrawal"),
        Page("withdrawals: status=failed", withdrawals, "referrals.Withdrawal", {"status__exact": "failed"}),
        Page("bindings: no filter", bindings, "bindings.EcoAccountBinding"),
        Page(
            "bindings: status=needs_review",
            bindings,
            "bindings.EcoAccountBinding",
            {"status__exact": "needs_review"},
        ),
        Page(
            "bindings: search account name",
            bindings,
            "bindings.EcoAccountBinding",
            lambda role, s: {"q": s.binding_name},
        ),
        Page(
            "bindings: search custom-field value",
            bindings,
            "bindings.EcoAccountBinding",
            lambda role, s: {"q": s.binding_value},
        ),
        # Three digits: part of an account's number in its name (every thousandth binding and
        # more), a trigram the name index serves, and no customer id or value exactly.
        Page("bindings: search part of a number", bindings, "bindings.EcoAccountBinding", {"q": "001"}),
        Page("vendor customers: no filter", "/admin/bindings/vendorcustomer/", "bindings.VendorCustomer"),
        Page(
            "custom fields: no filter",
            "/admin/bindings/customfielddefinition/",
            "bindings.CustomFieldDefinition",
        ),
        Page("background jobs: no filter", "/admin/jobs/bulkjob/", "jobs.BulkJob"),
        Page("tenants: no filter", "/admin/tenants/tenant/", "tenants.Tenant"),
        Page("change history: no filter", "/admin/core/changehistoryentry/", "core.ChangeHistoryEntry"),
        Page(
            "reconciliation runs: no filter",
            "/admin/referrals/reconciliationrun/",
            "referrals.ReconciliationRun",
        ),
        Page("background checks: no filter", checks, "orders.BackgroundCheck"),
        Page("background checks: state=new", checks, "orders.BackgroundCheck", {"state__exact": "new"}),
        Page("background checks: overdue", checks, "orders.BackgroundCheck", {"overdue": "yes"}),
        Page(
            "background checks: package, 7–30 days old",
            checks,
            "orders.BackgroundCheck",
            {"package_id": "pkg-007", "age": "month"},
        ),
        Page(
            "background checks: search exact id",
            checks,
            "orders.BackgroundCheck",
            {"q": "7400000000000075000"},
        ),
        Page("exams: overdue", "/admin/orders/exam/", "orders.Exam", {"overdue": "yes"}),
        # What the dashboard counts, each as its tile links to it.
        Page("payout runs: no filter", "/admin/referrals/payoutrun/", "referrals.PayoutRun"),
        Page(
            "payout lines: held",
            "/admin/referrals/payoutline/",
            "referrals.PayoutLine",
            {"held__exact": "1", "status__exact": "failed"},
        ),
        Page("leavers: no filter", "/admin/referrals/leaver/", "referrals.Leaver"),
        Page(
            "rewards from outside: no filter",
            "/admin/referrals/externalreferralreward/",
            "referrals.ExternalReferralReward",
        ),
        Page(
            "order writes: status=failed",
            "/admin/orders/orderwrite/",
            "orders.OrderWrite",
            {"status__exact": "failed"},
        ),
        Page("catalogue pushes: no filter", "/admin/orders/cataloguepush/", "orders.CataloguePush"),
    ]


def _sees(page: Page, user) -> bool:
    """Whether the page's admin lets the user view it (the index: every staff user)."""
    if not page.model:
        return user.is_staff
    from django.apps import apps
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get(page.path)
    request.user = user
    if not admin.site.get_model_admin(apps.get_model(page.model)).has_view_permission(request):
        return False
    if page.events_view == "all":
        return True
    return user.has_perm("events.view_feishuevent") == (page.events_view == "full")


@dataclass
class Result:
    page: str
    role: str
    url: str
    median_ms: float | None  # None: a query ran into --timeout
    queries: int
    sql_ms: float
    slowest: list = field(default_factory=list)  # [(ms, sql)] of the median request
    cpu_ms: float | None = None  # median CPU of a request, this process's and PostgreSQL's

    @property
    def met(self) -> bool:
        return self.median_ms is not None and self.median_ms <= TARGET_MS and self.queries <= TARGET_QUERIES


class _Timer:
    """``connection.execute_wrapper`` timing each query to the microsecond (the captured
    queries' own "time" is rounded to the millisecond)."""

    def __init__(self):
        self.durations = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.durations.append((time.perf_counter() - t0) * 1000)


def _signed_in(user):
    """A test client signed in as ``user`` with the second factor proven, as staff are after
    signing in (a role that moves money or changes roles is otherwise sent to prove it)."""
    from django.http import HttpRequest
    from django.test import Client

    from hireops.signin import second_factor

    client = Client()
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    second_factor.record(request, user, "mfa", type="totp")
    request.session.save()
    return client


def _server_cpu_ms() -> float | None:
    """CPU time so far of the PostgreSQL process serving this connection, in ms (None when it
    is not a process of this machine that /proc shows)."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[0]) / 1e6  # nanoseconds on the CPU
    except (OSError, ValueError, IndexError):
        return None


def _measure(client, url: str, repeat: int) -> tuple[float | None, int, float, list, float | None]:
    """Median ms, queries, ms in SQL (of the median request) and its queries, slowest first,
    and the median CPU ms of a request. A request whose query runs into the statement timeout
    ends the page's measurement: None and that request's queries up to the one cancelled."""
    from django.db import DatabaseError, connection
    from django.test.utils import CaptureQueriesContext

    runs, cpu = [], []
    for i in range(WARMUP + repeat):
        timer = _Timer()
        server_before = _server_cpu_ms()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
            t0, cpu0 = time.perf_counter(), time.process_time()
            try:
                response = client.get(url)
            except DatabaseError as exc:
                if "statement timeout" not in str(exc):
                    raise
                response = None
            elapsed, own_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        server_after = _server_cpu_ms()
        sqls = [q["sql"] for q in captured.captured_queries]
        durations = timer.durations if len(timer.durations) == len(sqls) else [0.0] * len(sqls)
        queries = sorted(zip(durations, sqls, strict=True), key=lambda q: -q[0])
        if response is None:
            return None, len(sqls), sum(durations), queries, None
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if i >= WARMUP:
            runs.append((elapsed * 1000, queries))
            on_server = (
                None if server_before is None or server_after is None else server_after - server_before
            )
            cpu.append(None if on_server is None else own_cpu * 1000 + on_server)
        elif i == WARMUP - 1:
            gc.collect()
    median_ms = statistics.median(ms for ms, _ in runs)
    _, queries = sorted(runs, key=lambda run: run[0])[len(runs) // 2]  # the median request's
    cpu_ms = None if None in cpu else statistics.median(c for c in cpu if c is not None)
    return median_ms, max(len(q) for _, q in runs), sum(ms for ms, _ in queries), queries, cpu_ms


def _explain(sql: str) -> str:
    """EXPLAIN ANALYZE, or the plan alone when running it takes longer than the timeout."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        try:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        except DatabaseError:
            cursor.execute("EXPLAIN " + sql)
            return "(not run: longer than the timeout)\n" + "\n".join(row[0] for row in cursor.fetchall())
        return "\n".join(row[0] for row in cursor.fetchall())


def _machine() -> None:
    """What the figures depend on: CPUs, PostgreSQL, and what else the machine is doing."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{os.cpu_count()} CPUs, PostgreSQL {version} (shared_buffers {buffers}), "
        f"Python {sys.version.split()[0]}; load average before timing: {load}"
    )


def _table(results: list[Result], timeout_s: float) -> None:
    width = max(len(r.page) for r in results)
    role_width = max(len(r.role) for r in results)
    print()
    header = ("median ms", "queries", "in SQL ms", "CPU ms")
    print(f"{'page':<{width}}  {'role':<{role_width}}  " + "  ".join(f"{h:>9}" for h in header) + "  target")
    print(f"{'-' * width}  {'-' * role_width}  " + "  ".join("-" * 9 for _ in header) + "  ------")
    for r in results:
        mark = "✓" if r.met else "✗"
        if r.median_ms is None:  # the queries up to the cancelled one: at least that many
            median, queries = f"{'timeout':>9}", f"{f'>= {r.queries}':>9}"
        else:
            median, queries = f"{r.median_ms:9.1f}", f"{r.queries:9d}"
        cpu = f"{r.cpu_ms:9.1f}" if r.cpu_ms is not None else f"{'-':>9}"
        print(
            f"{r.page:<{width}}  {r.role:<{role_width}}  {median}  {queries}  {r.sql_ms:9.1f}  {cpu}  {mark}"
        )
    met = sum(r.met for r in results)
    timed = [r for r in results if r.median_ms is not None]
    timeouts = len(results) - len(timed)
    worst = max(timed, key=lambda r: r.median_ms, default=None)
    most = max(results, key=lambda r: r.queries)
    busiest = max((r for r in results if r.cpu_ms is not None), key=lambda r: r.cpu_ms or 0.0, default=None)
    print(
        f"\n{met} of {len(results)} page × role rows meet the target (median <= {TARGET_MS:.0f} ms and "
        f"<= {TARGET_QUERIES} queries)"
        + (f"; {timeouts} ran into the {timeout_s:.0f} s statement timeout" if timeouts else "")
        + (f"; slowest measured: {worst.page} as {worst.role}, {worst.median_ms:.0f} ms" if worst else "")
        + f"; most queries: {most.page} as {most.role}, {most.queries}"
        + (f"; most CPU: {busiest.page} as {busiest.role}, {busiest.cpu_ms:.0f} ms" if busiest else "")
        + "."
    )
    print("Load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def _drain(response) -> tuple[float | None, int, int]:
    """Read the file to its end as a browser would, keeping none of it: (seconds to its
    first chunk, bytes, newlines). A streamed export does its work while it is read, so the
    time and memory include this."""
    size = lines = 0
    t0, first = time.perf_counter(), None
    for chunk in response.streaming_content if response.streaming else [response.content]:
        if first is None:
            first = time.perf_counter() - t0
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return first, size, lines


def _export_child(action: str, path: str) -> None:
    """In a fresh process: one export of every referral account, as HR; prints JSON.
    ``path`` "now": the file is the answer (EXPORT_INLINE_MAX raised past every row, as before
    background exports); "job": the request starts a job, which this process then runs as a
    worker would (jobs.export's code), and the file is downloaded from its page."""
    _environment()
    if path == "now":
        os.environ["EXPORT_INLINE_MAX"] = str(10**9)
    _django()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hireops.jobs import exports, tasks
    from hireops.jobs.models import ExportJob, ExportStatus
    from referrals.models import ReferralAccount

    queued = []
    tasks.run_export.delay = queued.append  # no broker here: this process is the worker
    client = _signed_in(User.objects.get(username="bench-hr"))
    one = ReferralAccount.objects.order_by("id").values_list("pk", flat=True).first()
    base = {"action": action, "index": "0", "_selected_action": [one]}
    # Warm up on one row: imports (XlsxWriter), templates, the connection.
    assert client.get(ACCOUNTS_URL).status_code == 200
    assert client.post(ACCOUNTS_URL, base).status_code == 200
    everything = {**base, "select_across": "1"}
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timer = _Timer()
    result = {}
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
        t0 = time.perf_counter()
        response = client.post(ACCOUNTS_URL, everything)
        answered = time.perf_counter() - t0
        if path == "now":
            assert response.status_code == 200, response.status_code
            assert "attachment" in response.get("Content-Disposition", ""), "no file came back"
            first, size, lines = _drain(response)
            result.update(first_byte=answered + first, seconds=time.perf_counter() - t0)
        else:
            assert response.status_code == 302 and len(queued) == 1, (response.status_code, queued)
            result["request"] = answered
            t1 = time.perf_counter()
            assert exports.export_run(queued[0]) == ExportStatus.DONE
            result["job"] = time.perf_counter() - t1
            job = ExportJob.objects.get(pk=queued[0])
            t2 = time.perf_counter()
            response = client.get(f"/admin/jobs/exportjob/{job.pk}/download/")
            assert response.status_code == 200, response.status_code
            answered_download = time.perf_counter() - t2
            first, size, lines = _drain(response)
            result["download_first_byte"] = answered_download + first
            result["download"] = time.perf_counter() - t2
            result["seconds"] = time.perf_counter() - t0
            exports.export_storage().delete(job.file_name)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = lines - 1 if action == "export_csv" else None
    queries = sorted(timer.durations, reverse=True)
    assert len(queries) == len(captured.captured_queries)
    print(
        json.dumps(
            {
                **result,
                "queries": len(queries),
                "sql_ms": sum(queries),
                "bytes": size,
                "rows": rows,
                "rss_growth_kib": rss_after - rss_before,
            }
        )
    )


def _exports() -> None:
    from referrals.models import ReferralAccount

    total = ReferralAccount.objects.count()
    print(f"\nExports of all {total:,} referral accounts as HR (select_across=1), each in a fresh process:")
    print(
        f"{'export':<8}  {'path':<10}  {'request s':>9}  {'1st byte s':>10}  {'file ready s':>12}  "
        f"{'download 1st byte s':>19}  {'total s':>7}  {'queries':>7}  {'file MB':>7}  "
        f"{'maxrss growth MB':>16}"
    )
    for action, label in (("export_csv", "CSV"), ("export_xlsx", "Excel")):
        for path in ("now", "job"):
            out = subprocess.run(
                [sys.executable, __file__, "--export-child", action, "--export-path", path],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            if path == "now":  # the request lasts until the file's last byte
                cells = (f"{r['seconds']:9.2f}", f"{r['first_byte']:10.2f}", f"{'—':>12}", f"{'—':>19}")
            else:  # the redirect to the export's page is the request's answer
                cells = (
                    f"{r['request']:9.2f}",
                    f"{r['request']:10.2f}",
                    f"{r['job']:12.1f}",
                    f"{r['download_first_byte']:19.3f}",
                )
            print(
                f"{label:<8}  {'immediate' if path == 'now' else 'background':<10}  {'  '.join(cells)}  "
                f"{r['seconds']:7.1f}  {r['queries']:7d}  {r['bytes'] / MB:7.1f}  "
                f"{r['rss_growth_kib'] / 1024:16.0f}"
            )
            if r["rows"] is not None and r["rows"] != total:
                print(f"  ! the CSV has {r['rows']:,} rows, not {total:,}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", default="", help="only pages whose name contains this (case-insensitive)")
    parser.add_argument("--roles", default="", help="only roles whose name contains this (case-insensitive)")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page (after 2 warm-up)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a page misses the target")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--scale", type=float, default=1.0, help="data size relative to the year above")
    parser.add_argument(
        "--spread",
        choices=["large", "flat"],
        default="large",
        help="how the year is spread (bench/seed.py, SPREADS); flat: in its own database, …_flat",
    )
    parser.add_argument("--no-exports", action="store_true", help="skip the export measurements")
    parser.add_argument("--slow", type=int, default=0, metavar="N", help="list each page's N slowest queries")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of a miss")
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT_S,
        help="statement timeout in seconds: a page whose query runs longer is reported, not waited for",
    )
    parser.add_argument(
        "--store",
        action="store_true",
        help="run the pages as a store app (FEISHU_APP_TYPE=store): tenant columns, the dashboard by tenant",
    )
    parser.add_argument(
        "--export-accounts",
        type=int,
        default=0,
        metavar="N",
        help="copy the seeded referral accounts until N are there, for the exports (e.g. 2000000)",
    )
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    parser.add_argument("--export-path", default="now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.store:
        os.environ["FEISHU_APP_TYPE"] = "store"
    if args.export_child:
        _export_child(args.export_child, args.export_path)
        return 0

    if args.spread != "large":
        os.environ.setdefault("DATABASE_URL", f"{DEFAULT_DATABASE_URL}_{args.spread}")
    _environment()
    _database(args.reseed)
    _django()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"Migrated in {time.perf_counter() - t0:.1f} s")
    users = _users()  # before seeding: the data names them (requested by, change history)
    _ensure_data(args.scale, users, more_accounts=bool(args.export_accounts), spread=args.spread)
    if args.export_accounts:
        _top_up_accounts(args.export_accounts)
    from hireops.core.trends import charts, sections

    samples = _samples()
    _machine()
    _statement_timeout(args.timeout)

    results = []
    for page in _pages():
        if args.pages.lower() not in page.name.lower():
            continue
        for key, label, _groups in ROLES:
            user = users[key]
            if args.roles.lower() not in label.lower() or not _sees(page, user):
                continue
            query = page.query(key, samples) if callable(page.query) else page.query
            url = page.path + ("?" + urlencode(query) if query else "")
            client = _signed_in(user)
            kept_for = charts.CACHE_SECONDS, sections.KEPT_SECONDS
            if page.first_view:  # what an earlier page kept is forgotten, and nothing is kept
                for period_key in charts.PERIODS:
                    sections.forget(charts.group_of(user), period_key)
                charts.CACHE_SECONDS = sections.KEPT_SECONDS = 0
            try:
                median_ms, queries, sql_ms, slowest, cpu_ms = _measure(client, url, args.repeat)
            finally:
                charts.CACHE_SECONDS, sections.KEPT_SECONDS = kept_for
            result = Result(page.name, label, url, median_ms, queries, sql_ms, slowest, cpu_ms)
            results.append(result)
            took = f"{median_ms:.1f} ms" if median_ms is not None else f"timeout ({args.timeout:.0f} s)"
            print(
                f"  {page.name} as {label}: {took}, {queries} queries"
                + (f", {cpu_ms:.1f} ms of CPU" if cpu_ms is not None else ""),
                file=sys.stderr,
                flush=True,
            )
            if args.slow or (args.explain and not result.met):
                print(f"\n{page.name} as {label}: {url}")
                for ms, sql in slowest[: args.slow]:
                    print(f"  {ms:8.1f} ms  {sql[:400]}")
                selects = [sql for _ms, sql in slowest if sql.lstrip().upper().startswith("SELECT")]
                if args.explain and not result.met and selects:
                    print("  EXPLAIN ANALYZE of the slowest:")
                    print("    " + _explain(selects[0]).replace("\n", "\n    "))
    if any(r.page.startswith("dashboard") for r in results):
        # What the beat spends each minute keeping every dashboard opened above drawn.
        t0, cpu0 = time.perf_counter(), time.process_time()
        groups = sections.refresh()
        took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(
            f"The beat's refresh of the trends: {groups} groups × periods drawn in each language"
            f" in {took * 1000:.0f} ms ({cpu * 1000:.0f} ms of CPU)"
        )
    if results:
        _table(results, args.timeout)
    if not args.no_exports and args.pages.lower() in "exports":  # no --pages, or --pages export
        _exports()
    elif not results:
        print("No page matches --pages/--roles.")
    return 1 if args.strict and not all(r.met for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
