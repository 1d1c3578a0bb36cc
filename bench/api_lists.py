"""Benchmark: every list of the partner API (/api/v1/) on a year of a large customer's data.

    .venv/bin/python bench/api_lists.py [--only TEXT] [--repeat 5] [--strict] [--reseed] [--scale 1]
                                        [--walk-pages 25]

The data is bench/admin.py's (same database, same seed: 1,000,000 Feishu events, 200,000
referral accounts, 200,000 eco-account bindings, 150,000 background checks, 50,000 exams;
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/hireops_admin_bench, seeded on the
first run of either script), and a payout run with a line for every account, made here once.
Settings are production's (DEBUG off).

Every list operation of the OpenAPI document (a GET whose answer has ``data``, no path
parameter) is requested in-process with Django's test ``Client`` and a key holding every scope:
the first page (default limit), a page of 200, the page after ``--walk-pages`` pages walked by
``next_cursor``, the first page ``updated_after`` the row reached there, each enum filter's
first value, and the first page for a key limited to one tenant. 2 warm-up requests, then
``--repeat`` timed ones; the median and the SQL queries of a request are printed. The walk also
checks that no row came twice.

Target (2 cores): every page <= 50 ms. The exit status is 0 unless ``--strict`` and one misses.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import admin as admin_bench  # noqa: E402  (its database, seed and settings)

TARGET_MS = 50.0
WARMUP = 2
RUN_TITLE = "bench: every account"


def _payout_run() -> int:
    """A payout run with a line for every referral account (the seed has none): its lines are
    the longest list a partner pages through (``GET /payout-runs/{id}``)."""
    from django.db import connection, transaction

    from referrals.models import PayoutLine, PayoutRun, PayoutRunStatus, ReferralAccount

    run = PayoutRun.objects.filter(title=RUN_TITLE).first()
    if run is not None:
        return run.pk
    t0 = time.perf_counter()
    with transaction.atomic():
        run = PayoutRun.objects.create(title=RUN_TITLE, status=PayoutRunStatus.AWAITING_APPROVAL)
        accounts = ReferralAccount.objects.order_by("pk").values_list("pk", "tenant_key")
        batch = []
        for pk, tenant_key in accounts.iterator(chunk_size=5000):
            batch.append(
                PayoutLine(
                    run=run,
                    account_id=pk,
                    tenant_key=tenant_key,
                    external_order_id=f"bench-{run.pk}-{pk}",
                    cash={"CNY": "10.00"},
                )
            )
            if len(batch) == 5000:
                PayoutLine.objects.bulk_create(batch)
                batch = []
        PayoutLine.objects.bulk_create(batch)
        count = run.lines.count()
        PayoutRun.objects.filter(pk=run.pk).update(line_count=count)
    with connection.cursor() as cursor:  # as autovacuum soon would (the seed ends the same way)
        cursor.execute(f"ANALYZE {PayoutLine._meta.db_table}")
    print(f"A payout run of {count:,} lines made in {time.perf_counter() - t0:.1f} s")
    return run.pk


def _operations() -> list[tuple[str, dict]]:
    from hireops.api.served import api

    doc = json.loads(json.dumps(api.get_openapi_schema()))
    base = doc["servers"][0]["url"]  # the paths are relative to it
    lists = []
    for path, item in sorted((base + path, item) for path, item in doc["paths"].items()):
        op = item.get("get")
        if op is None or "{" in path:
            continue
        if "next_cursor" not in json.dumps(doc["components"]["schemas"].get(_answer(op), {})):
            continue
        lists.append((path, op))
    return lists


def _answer(op: dict) -> str:
    ref = op["responses"]["200"]["content"]["application/json"]["schema"].get("$ref", "")
    return ref.rsplit("/", 1)[-1]


def _enum_filters(op: dict, doc_schemas: dict) -> list[tuple[str, str]]:
    found = []
    for param in op.get("parameters", []):
        schema = param.get("schema", {})
        options = [schema, *schema.get("anyOf", [])]
        for option in options:
            ref = option.get("$ref", "").rsplit("/", 1)[-1]
            values = option.get("enum") or doc_schemas.get(ref, {}).get("enum")
            if values:
                found.append((param["name"], str(values[0])))
                break
    return found


def _measure(client, url: str, headers: dict, repeat: int) -> tuple[float, int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    runs, queries, body = [], 0, {}
    for i in range(WARMUP + repeat):
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            response = client.get(url, **headers)
            elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, f"{url}: {response.status_code} {response.content[:300]!r}"
        if i >= WARMUP:
            runs.append(elapsed)
            queries = max(queries, len(captured.captured_queries))
        body = response.json()
    return statistics.median(runs), queries, body


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="only lists whose path contains this")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a page misses the target")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--walk-pages", type=int, default=25, help="pages walked by cursor before the deep page"
    )
    args = parser.parse_args()

    admin_bench._environment()
    admin_bench._database(args.reseed)
    admin_bench._django()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    users = admin_bench._users()
    admin_bench._ensure_data(args.scale, users)
    run_pk = _payout_run()
    settings.API_RATE_LIMIT = 10**9  # the benchmark measures the lists, not the limit

    from hireops.api import keys
    from hireops.api.scopes import all_scopes
    from hireops.api.served import api
    from hireops.tenants.models import Tenant

    doc_schemas = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/")))["components"][
        "schemas"
    ]
    everything = {"HTTP_AUTHORIZATION": f"Bearer {keys.create('bench', list(all_scopes())).key}"}
    tenant = (
        Tenant.objects.order_by("tenant_key").values_list("tenant_key", flat=True).first() or "bench-tenant"
    )
    one_tenant = {
        "HTTP_AUTHORIZATION": f"Bearer {keys.create('bench', list(all_scopes()), tenant_keys=[tenant]).key}"
    }
    admin_bench._machine()

    client, rows, misses = Client(), [], 0
    for path, op in _operations():
        if args.only not in path:
            continue
        cases = [("first page", path, everything), ("limit=200", f"{path}?limit=200", everything)]
        # Walk by cursor, checking that no row comes twice, to a deep page.
        seen, url, body = set(), f"{path}?limit=200", {}
        walked = 0
        for _ in range(args.walk_pages):
            body = client.get(url, **everything).json()
            ids = [json.dumps(row.get("id", row), sort_keys=True) for row in body["data"]]
            assert not seen.intersection(ids), f"{path}: a row came twice while walking"
            seen.update(ids)
            walked += 1
            if not body["next_cursor"]:
                break
            url = f"{path}?{urlencode({'limit': 200, 'cursor': body['next_cursor']})}"
        if body.get("next_cursor"):
            cases.append((f"page {walked + 1} by cursor", url, everything))
        last = body["data"][-1] if body.get("data") else None
        if last and last.get("updated_at"):
            cases.append(
                ("updated_after", f"{path}?{urlencode({'updated_after': last['updated_at']})}", everything)
            )
        for name, value in _enum_filters(op, doc_schemas):
            cases.append((f"{name}={value}", f"{path}?{urlencode({name: value})}", everything))
        cases.append(("a key of one tenant", path, one_tenant))
        for label, case_url, headers in cases:
            ms, queries, answer = _measure(client, case_url, headers, args.repeat)
            met = ms <= TARGET_MS
            misses += not met
            rows.append((path, label, ms, queries, len(answer.get("data", [])), met))
        rows.append((path, f"walked {len(seen):,} rows, each once", 0.0, 0, 0, True))

    # A run's lines, the one list inside an object.
    if args.only in "/api/v1/payout-runs/{id}":
        run_url = f"/api/v1/payout-runs/{run_pk}"
        body = client.get(f"{run_url}?limit=200", **everything).json()
        for _ in range(args.walk_pages - 1):
            if not body["next_cursor"]:
                break
            deep = f"{run_url}?{urlencode({'limit': 200, 'cursor': body['next_cursor']})}"
            body = client.get(deep, **everything).json()
        cases = [("first 50 lines", run_url, everything), ("200 lines", f"{run_url}?limit=200", everything)]
        if body["next_cursor"]:
            cases.append((f"lines page {args.walk_pages} by cursor", deep, everything))
        from referrals.models import PayoutLine

        line_tenant = PayoutLine.objects.filter(run_id=run_pk).values_list("tenant_key", flat=True).first()
        of_the_run = keys.create("bench", list(all_scopes()), tenant_keys=[line_tenant]).key
        cases.append(("a key of one of its tenants", run_url, {"HTTP_AUTHORIZATION": f"Bearer {of_the_run}"}))
        for label, case_url, headers in cases:
            ms, queries, answer = _measure(client, case_url, headers, args.repeat)
            met = ms <= TARGET_MS
            misses += not met
            rows.append(("/api/v1/payout-runs/{id}", label, ms, queries, len(answer.get("lines", [])), met))

    print(f"\n{'list':34} {'case':34} {'median ms':>10} {'queries':>8} {'rows':>6}")
    for path, label, ms, queries, count, met in rows:
        if ms == 0.0:
            print(f"{path:34} {label:34}")
            continue
        print(f"{path:34} {label:34} {ms:10.1f} {queries:8} {count:6}{'' if met else '  MISS'}")
    print(f"\nTarget: every page <= {TARGET_MS:.0f} ms. {'All met.' if not misses else f'{misses} missed.'}")
    return 1 if args.strict and misses else 0


if __name__ == "__main__":
    sys.exit(main())
