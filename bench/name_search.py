"""Benchmark: searching a Chinese name in the admin, the plain substring match beside the bigram index.

    .venv/bin/python bench/name_search.py [--sizes 200000,1000000] [--repeat 7] [--reseed]

Needs PostgreSQL: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/hireops_name_search_bench;
each size gets a database of its own, named after it (``…_bench_200k``, ``…_bench_1m``), created,
migrated and seeded on the first run (one ``INSERT … SELECT … FROM generate_series`` per table,
the indexes built afterwards, then VACUUM ANALYZE: about a minute each, 200,000 accounts with
the bindings or 1,000,000 without), reused later; ``--reseed`` seeds again.

Names are drawn like real ones: the 100 commonest surnames with their shares of China's
population (王 7.1 %, 李 7.0 %, 张 6.7 % … and a few compound ones, 欧阳, 司马), then one given
character (30 %) or two, from 135 common ones, the commonest far more often (about 2 % of given
characters are 伟). So "张伟" is common (about one account in 500, more than in life), "欧阳"
rare, "张三" absent (三 is no given character here: the search reads to the end of whatever
it reads). The smallest database also holds 200,000 eco-account bindings of 20,000 vendor
customers, named as bench/seed.py names them (北京华信科技有限公司 背调账号 000123).

For each size, in a child process of its own, every search is requested through the
admin's list page (Django's test client, production settings, 2 warm-up requests, then
``--repeat`` timed; the median), twice: *old* is the plain match (``icontains`` alone, as before
the bigram index: ``hireops.core.search.name_search.contains`` replaced by it for the run) and *new*
the search as shipped. Each line shows the rows found, both pages' medians, the time of the
queries that search ("SQL": the rows listed, their count, for bindings the customers' ids) in
the median request, and what the slowest of them reads (its plan's scans, EXPLAIN ANALYZE).

Target: every search under 50 ms at 200,000 and at 1,000,000 accounts (a surname alone included).
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hireops_name_search_bench"
TARGET_MS = 50.0
ACCOUNTS_URL = "/admin/referrals/referralaccount/"
BINDINGS_URL = "/admin/bindings/ecoaccountbinding/"
BINDINGS, CUSTOMERS = 200_000, 20_000

# Share of the population in 1/10,000 (China's 2020 census, rounded), and some rare compound ones.
SURNAMES = [
    ("王", 712), ("李", 700), ("张", 674), ("刘", 510), ("陈", 461), ("杨", 322), ("黄", 245),
    ("赵", 219), ("吴", 205), ("周", 191), ("徐", 151), ("孙", 146), ("马", 129), ("朱", 128),
    ("胡", 123), ("郭", 115), ("何", 106), ("林", 101), ("罗", 98), ("高", 97), ("郑", 78),
    ("梁", 76), ("谢", 76), ("宋", 63), ("唐", 62), ("许", 60), ("韩", 56), ("冯", 55), ("邓", 55),
    ("曹", 53), ("彭", 53), ("曾", 52), ("肖", 48), ("田", 47), ("董", 46), ("袁", 43), ("潘", 42),
    ("于", 41), ("蒋", 41), ("蔡", 40), ("余", 40), ("杜", 40), ("叶", 39), ("程", 37), ("苏", 36),
    ("魏", 35), ("吕", 35), ("丁", 34), ("任", 33), ("沈", 31), ("姚", 30), ("卢", 30), ("姜", 28),
    ("崔", 28), ("钟", 27), ("谭", 27), ("陆", 26), ("汪", 25), ("范", 25), ("金", 24), ("石", 23),
    ("廖", 22), ("贾", 21), ("夏", 21), ("韦", 21), ("付", 20), ("方", 20), ("白", 19), ("邹", 19),
    ("孟", 19), ("熊", 18), ("秦", 18), ("邱", 18), ("江", 18), ("尹", 17), ("薛", 17), ("闫", 16),
    ("段", 16), ("雷", 16), ("侯", 15), ("龙", 15), ("史", 14), ("陶", 14), ("黎", 14), ("贺", 14),
    ("顾", 13), ("毛", 13), ("郝", 13), ("龚", 12), ("邵", 12), ("万", 12), ("钱", 12), ("严", 11),
    ("覃", 11), ("武", 11), ("戴", 11), ("莫", 10), ("孔", 10), ("向", 10), ("汤", 10),
    ("欧阳", 1), ("司马", 1), ("诸葛", 1), ("上官", 1),
]  # fmt: skip
# Common given-name characters, commonest first (drawn with a skew towards the first).
GIVEN = list(
    dict.fromkeys(
        "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华飞鑫波宇浩凯婷雪琳晨欣怡子轩文辉玲红鹏志建"
        "国海春燕丹萍亮峰梅林斌琴云宁颖彬慧佳俊帅博晶洁倩莉楠健蕾玉珍凤成东龙梦瑶涵嘉思雨泽睿宏远新光"
        "荣庆德清晓月阳雅婉诗悦妍琪瑞航天翔昊然一心安乐康永福胜利秋冬梓萱沐辰若溪语桐奕铭景逸承"
    )
)

# (list, label, term)
SEARCHES = [
    ("accounts", "1 char, common", "王"),  # a surname alone: one account in 14
    ("accounts", "1 char, rare", "欧"),
    ("accounts", "2 chars, common", "张伟"),
    ("accounts", "2 chars, rare", "欧阳"),
    ("accounts", "2 chars, absent", "张三"),
    ("accounts", "3 chars, common", "王秀英"),
    ("accounts", "3 chars, rare", "欧阳娜"),
    ("accounts", "3 chars, absent", "张三丰"),
    ("bindings", "2 chars, common", "华信"),
    ("bindings", "2 chars, absent", "张三"),
    ("bindings", "3 chars", "北京华"),
    ("bindings", "4 chars, absent", "张三科技"),
]

ACCOUNTS_SQL = """
INSERT INTO referrals_referralaccount
    (name, mobile_code, mobile_number, email, account_id, status, error, attempts, pending_action,
     action_error, points, balance_error, created_at, updated_at, tenant_key, employee_id)
SELECT name, '86', '1' || (3 + mod(i, 7))::text || lpad(i::text, 9, '0'),
       'emp' || lpad(i::text, 7, '0') || '@corp.example.cn',
       (7100000000000000000 + i::bigint * 7919)::text, 'active', '', 1, '', '', 0, '',
       created, created, '', 'E' || lpad(i::text, 7, '0')
FROM (
    SELECT i, now() - interval '365 days' * (1 - i::float8 / %(n)s) AS created,
           (%(surnames)s::text[])[1 + width_bucket(random(), %(cumulative)s::float8[])]
           || (%(given)s::text[])[1 + floor(power(random(), 1.3) * %(n_given)s)::int]
           || CASE WHEN random() < 0.7
                   THEN (%(given)s::text[])[1 + floor(power(random(), 1.3) * %(n_given)s)::int]
                   ELSE '' END AS name
    FROM generate_series(1, %(n)s) AS i
) AS g
"""
CUSTOMERS_SQL = """
INSERT INTO bindings_vendorcustomer (name, contact, notes, created_at)
SELECT (%(cities)s::text[])[1 + mod(c, array_length(%(cities)s::text[], 1))]
       || (%(brand_1)s::text[])[1 + floor(random() * array_length(%(brand_1)s::text[], 1))::int]
       || (%(brand_2)s::text[])[1 + floor(random() * array_length(%(brand_2)s::text[], 1))::int]
       || (%(industries)s::text[])[1 + floor(random() * array_length(%(industries)s::text[], 1))::int]
       || '有限公司', '', '', now() - interval '720 days' * (1 - c::float8 / %(customers)s)
FROM generate_series(1, %(customers)s) AS c
"""
BINDINGS_SQL = """
INSERT INTO bindings_ecoaccountbinding
    (app_id, tenant_key, account_id, scope, account_name, usage_list, usage_text, custom_field_values,
     field_values_text, status, review_reason, decided_manually, source_event_id, created_at,
     updated_at, customer_id)
SELECT 'cli_bench', 't', (6900000000000000000 + i::bigint * 104729)::text, 1,
       c.name || ' 背调账号 ' || lpad(i::text, 6, '0'), '[1]', ',1,',
       jsonb_build_array(jsonb_build_object('key', 'ord_id', 'value', (8000000 + i)::text)),
       'ord_id=' || (8000000 + i)::text, 'bound', '', false, '', now() - interval '1 day' * mod(i, 365),
       now() - interval '1 day' * mod(i, 365), c.id
FROM generate_series(1, %(bindings)s) AS i
JOIN bindings_vendorcustomer AS c ON c.id = %(customer_base)s + mod(i, %(customers)s)
"""


def _size_label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _seed(n: int, with_bindings: bool) -> None:
    from django.db import connection, transaction

    from bench import seed

    weights = [w for _, w in SURNAMES]
    total = sum(weights)
    params = {
        "n": n,
        "surnames": [s for s, _ in SURNAMES],
        "cumulative": [c / total for c in itertools.accumulate(weights)][:-1],
        "given": GIVEN,
        "n_given": len(GIVEN),
        "cities": seed.CITIES,
        "brand_1": seed.BRAND_1,
        "brand_2": seed.BRAND_2,
        "industries": seed.INDUSTRIES,
        "customers": CUSTOMERS,
        "bindings": BINDINGS,
    }
    tables = ["referrals_referralaccount", "bindings_ecoaccountbinding", "bindings_vendorcustomer"]
    t0 = time.perf_counter()
    with transaction.atomic(), seed._client_binding_cursor() as cursor:  # SQL written as the seed's
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SELECT setseed(0.42)")
        for table in tables:
            cursor.execute(f"TRUNCATE {table} CASCADE")
        # The indexes built once over the full tables, as bench/seed.py does: many times faster.
        cursor.execute(seed._SCHEMA_EXTRAS, {"tables": tables})
        extras = cursor.fetchall()
        for drop, _create, _is_fk in extras:
            cursor.execute(drop)
        cursor.execute(ACCOUNTS_SQL, params)
        if with_bindings:
            cursor.execute(CUSTOMERS_SQL, params)
            cursor.execute("SELECT min(id) FROM bindings_vendorcustomer")
            params["customer_base"] = cursor.fetchone()[0]
            cursor.execute(BINDINGS_SQL, params)
        for _drop, create, _is_fk in sorted(extras, key=lambda extra: extra[2]):
            cursor.execute(create)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"Seeded {n:,} accounts"
        + (" and the bindings" if with_bindings else "")
        + f" in {time.perf_counter() - t0:.1f} s"
    )


def _scans(sql: str) -> tuple[list[str], float]:
    """The scans of ``sql``'s plan (EXPLAIN ANALYZE), and its execution time in ms."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found = []

    def walk(node):
        if "Scan" in node["Node Type"]:
            where = node.get("Index Name") or node.get("Relation Name", "")
            found.append(f"{node['Node Type']} on {where}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found, plan[0]["Execution Time"]


def _child(n: int, repeat: int, reseed: bool) -> None:
    from bench import admin as bench_admin

    os.environ["DATABASE_URL"] = _database_url(n)
    bench_admin._environment()
    bench_admin._database(False)
    bench_admin._django()
    from django.core.management import call_command
    from django.db.models import Q

    from bindings.models import EcoAccountBinding
    from hireops.core.search import name_search
    from hireops.core.search.trigram import BIGRAMS
    from referrals.models import ReferralAccount

    call_command("migrate", interactive=False, verbosity=0)
    with_bindings = n == min(_sizes_wanted)
    have = ReferralAccount.objects.count(), EcoAccountBinding.objects.count()
    if reseed or have != (n, BINDINGS if with_bindings else 0):
        _seed(n, with_bindings)
    users = bench_admin._users()
    clients = {
        "accounts": bench_admin._signed_in(users["hr"]),
        "bindings": bench_admin._signed_in(users["vendor"]),
    }
    shipped = name_search.contains

    def today(field, term):
        return Q(**{f"{field}__icontains": term})

    results = []
    for kind, label, term in SEARCHES:
        if kind == "bindings" and not with_bindings:
            continue
        url = (ACCOUNTS_URL if kind == "accounts" else BINDINGS_URL) + "?" + urlencode({"q": term})
        if kind == "accounts":
            rows = ReferralAccount.objects.filter(name__icontains=term).count()
        else:
            rows = EcoAccountBinding.objects.filter(
                Q(account_name__icontains=term) | Q(customer__name__icontains=term)
            ).count()
        line = {"size": n, "list": kind, "label": label, "term": term, "rows": rows}
        for version, contains in (("old", today), ("new", shipped)):
            name_search.contains = contains
            try:
                median_ms, queries, _sql_ms, slowest = bench_admin._measure(clients[kind], url, repeat)
            finally:
                name_search.contains = shipped
            # The queries that search (the list's rows, its count, the customers' ids): their
            # time, and the plan of the slowest.
            # (A term of one or two Chinese characters has no LIKE: the bigram function's name.)
            searching = [(ms, sql) for ms, sql in slowest if " LIKE " in sql or BIGRAMS in sql]
            scans, _ = _scans(searching[0][1])
            sql_ms = sum(ms for ms, _sql in searching)
            line[version] = {"ms": median_ms, "queries": queries, "search_sql_ms": sql_ms, "scans": scans}
        print(
            f"  {_size_label(n):>4} {kind:<8} {label:<16} {term:<6} {rows:>6,} rows  "
            f"old {line['old']['ms']:7.1f} ms  new {line['new']['ms']:6.1f} ms  "
            f"(searching SQL {line['old']['search_sql_ms']:.1f} → {line['new']['search_sql_ms']:.1f} ms)",
            file=sys.stderr,
            flush=True,
        )
        results.append(line)
    print(json.dumps(results, ensure_ascii=False))


_sizes_wanted: list[int] = []


def _database_url(n: int) -> str:
    url = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    return url._replace(path=f"{url.path}_{_size_label(n)}").geturl()


def _report(results: list[dict]) -> None:
    print()
    header = (
        "accounts",
        "list",
        "search",
        "term",
        "rows",
        "old ms",
        "new ms",
        "old SQL",
        "new SQL",
        "target",
    )
    widths = (9, 8, 16, 8, 6, 7, 7, 7, 7, 6)
    print(
        "  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True))
        + "  new plan's scans (old plan's)"
    )
    for r in results:
        met = "✓" if r["new"]["ms"] <= TARGET_MS else "✗"
        print(
            f"{r['size']:>9,}  {r['list']:>8}  {r['label']:>16}  {r['term']:>8}  {r['rows']:>6,}  "
            f"{r['old']['ms']:7.1f}  {r['new']['ms']:7.1f}  "
            f"{r['old']['search_sql_ms']:7.1f}  {r['new']['search_sql_ms']:7.1f}  {met:>6}  "
            f"{'; '.join(r['new']['scans'])}  ({'; '.join(r['old']['scans'])})"
        )
    met = sum(r["new"]["ms"] <= TARGET_MS for r in results)
    print(
        f"\n{met} of {len(results)} searches under {TARGET_MS:.0f} ms "
        "(medians; accounts as HR, bindings as Vendor operations)."
    )
    print("Load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="200000,1000000", help="referral accounts, comma-separated")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per search (after 2 warm-up)")
    parser.add_argument("--reseed", action="store_true", help="seed the databases again")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    _sizes_wanted.extend(int(s) for s in args.sizes.split(","))
    if args.child:
        _child(args.child, args.repeat, args.reseed)
        return 0
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    print(f"{os.cpu_count()} CPUs; load average before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    results = []
    for n in _sizes_wanted:
        command = [
            sys.executable,
            __file__,
            "--child",
            str(n),
            "--sizes",
            args.sizes,
            "--repeat",
            str(args.repeat),
        ]
        out = subprocess.run(
            command + (["--reseed"] if args.reseed else []),
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        ).stdout
        lines = out.strip().splitlines()
        print("\n".join(lines[:-1]))
        results.extend(json.loads(lines[-1]))
    _report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
