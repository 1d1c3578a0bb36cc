"""Searching a part of a name finds exactly what Django's ``icontains`` finds, on PostgreSQL
through the bigram index for the terms trigrams cannot serve (one or two characters, Chinese),
on SQLite with icontains alone (``hireops.core.search.name_search``)."""

import os

import pytest
from django.db import connection
from django.db.models import Q

from bindings.models import BindingStatus, EcoAccountBinding, VendorCustomer
from hireops.core.search import name_search
from hireops.core.search.trigram import BIGRAMS, BIGRAMS_COST
from referrals.models import ReferralAccount

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"

NAMES = [
    "张三",
    "张三丰",
    "小张三",
    "张伟",
    "王张",
    "三张",
    "张",
    "欧阳娜娜",
    "李娜",
    "Zhang San",
    "zhang san",
    "ZHANGSAN",
    "Li Na",
    "100%纯",
    "50% off",
    "a_b",
    "axb",
    "a\\b",
    "Müller",
    "MÜLLER",
    "Straße",
    "İlker",
    "",
]
TERMS = [
    # One, two and three Chinese characters, and more
    "张",
    "三",
    "娜",
    "张三",
    "三丰",
    "张伟",
    "伟张",
    "张三丰",
    "欧阳娜",
    "欧阳娜娜",
    "欧阳娜娜娜",
    "张 三",
    # Latin, in every case, short and long
    "a",
    "an",
    "NG",
    "zhang",
    "ZhAnG sAn",
    "g s",
    "li na",
    "ü",
    "Ü",
    "müll",
    "ss",
    "SS",
    "ß",
    "i",
    "İ",
    # LIKE's wildcards and escape, meant literally
    "%",
    "_",
    "\\",
    "a_b",
    "a%",
    "0%纯",
    "%纯",
    "_b",
    # Nothing matches
    "张三丰丰",
    "x",
]


def accounts(names):
    for i, name in enumerate(names):
        ReferralAccount.objects.create(name=name, email=f"person{i}@example.com")


def found(queryset, condition) -> list[str]:
    return sorted(queryset.filter(condition).values_list("pk", flat=True))


def bigram_path(queryset, condition) -> bool:
    return name_search.BIGRAMS in str(queryset.filter(condition).query)


def test_the_same_rows_as_icontains_for_every_kind_of_term():
    accounts(NAMES)
    rows = ReferralAccount.objects.all()
    for term in TERMS:
        assert found(rows, name_search.contains("name", term)) == found(rows, icontains("name", term)), term


def icontains(field, term) -> Q:
    return Q(**{f"{field}__icontains": term})


def names_found(term, field="name", queryset=None):
    queryset = ReferralAccount.objects.all() if queryset is None else queryset
    return sorted(queryset.filter(name_search.contains(field, term)).values_list(field, flat=True))


def test_what_short_and_chinese_terms_find():
    """The rows themselves, so that "the same as icontains" cannot hold by both finding nothing."""
    accounts(NAMES)
    assert names_found("张三") == ["小张三", "张三", "张三丰"]
    assert names_found("三丰") == ["张三丰"]
    assert names_found("张三丰") == ["张三丰"]
    assert names_found("娜娜") == ["欧阳娜娜"]
    assert names_found("张") == sorted(n for n in NAMES if "张" in n)
    assert names_found("伟张") == []
    assert names_found("zhang san") == ["Zhang San", "zhang san"]
    assert names_found("%") == ["100%纯", "50% off"]
    assert names_found("_") == ["a_b"]
    assert names_found("\\") == ["a\\b"]
    # SQLite's LIKE ignores the case of ASCII letters only: icontains there is that, as before.
    assert names_found("Ü") == (["MÜLLER", "Müller"] if POSTGRES else ["MÜLLER"])


def test_postgresql_takes_the_bigram_path_where_trigrams_cannot_serve():
    rows = ReferralAccount.objects.all()
    for term in ("张", "张三", "张三丰", "欧阳娜娜", "li", "a%", "g s", "İ"):
        assert bigram_path(rows, name_search.contains("name", term)) == POSTGRES, term
    for term in ("zhang", "Müller", "abc张三"):  # three ASCII letters or digits in a row
        assert not bigram_path(rows, name_search.contains("name", term)), term
    # One or two Chinese characters: the bigram condition alone (the equality test proves it
    # exact); any other term keeps the LIKE, which decides.
    for term, like in (("张", False), ("张三", False), ("张三丰", True), ("li", True), ("张a", True)):
        sql = str(rows.filter(name_search.contains("name", term)).query)
        assert (" LIKE " in sql) == (like or not POSTGRES), (term, sql)


def test_through_a_relation_and_for_the_bindings_and_customers():
    from referrals.models import Withdrawal

    accounts(NAMES)
    for account in ReferralAccount.objects.all():
        Withdrawal.objects.create(account=account, external_order_id=f"order-{account.pk}", bonus_types=[1])
    customers = {name: VendorCustomer.objects.create(name=name or "—") for name in NAMES}
    for i, name in enumerate(NAMES):
        EcoAccountBinding.objects.create(
            app_id="cli_a",
            tenant_key="t",
            account_id=f"eco-{i}",
            scope=1,
            account_name=name,
            status=BindingStatus.BOUND,
            customer=customers[name],
        )
    where = [
        (Withdrawal.objects.all(), "account__name"),
        (EcoAccountBinding.objects.all(), "account_name"),
        (VendorCustomer.objects.all(), "name"),
    ]
    for queryset, field in where:
        for term in TERMS:
            new, old = name_search.contains(field, term), icontains(field, term)
            assert found(queryset, new) == found(queryset, old), (field, term)
        assert len(found(queryset, name_search.contains(field, "张三"))) == 3, field


def test_the_admin_searches_find_a_chinese_name(client, staff_user):
    """Each admin list that searches a name, as a role that sees it: the rows by name."""
    accounts(NAMES)
    customer = VendorCustomer.objects.create(name="北京张三科技有限公司")
    EcoAccountBinding.objects.create(
        app_id="cli_a", tenant_key="t", account_id="eco-1", scope=1, account_name="背调账号 张三丰"
    )
    EcoAccountBinding.objects.create(
        app_id="cli_a",
        tenant_key="t",
        account_id="eco-2",
        scope=1,
        account_name="笔试账号",
        customer=customer,
        status=BindingStatus.BOUND,
    )
    EcoAccountBinding.objects.create(
        app_id="cli_a", tenant_key="t", account_id="eco-3", scope=1, account_name="李四"
    )

    client.force_login(staff_user("HR"))
    response = client.get("/admin/referrals/referralaccount/", {"q": " 张三 "})
    assert sorted(a.name for a in response.context["cl"].result_list) == ["小张三", "张三", "张三丰"]

    client.force_login(staff_user("Vendor operations"))
    response = client.get("/admin/bindings/ecoaccountbinding/", {"q": "张三"})
    assert sorted(b.account_id for b in response.context["cl"].result_list) == ["eco-1", "eco-2"]


@pytest.mark.skipif(not POSTGRES, reason="the bigram indexes exist on PostgreSQL only")
@pytest.mark.parametrize(
    ("model", "field", "index"),
    [
        (ReferralAccount, "name", "account_name_bigram_idx"),
        (EcoAccountBinding, "account_name", "binding_name_bigram_idx"),
        (VendorCustomer, "name", "customer_name_bigram_idx"),
    ],
)
def test_a_short_chinese_search_uses_the_bigram_index(model, field, index):
    """The planner may use the index: with sequential scans priced out, whatever the rows, the
    plan names it (were the query's expression not exactly the index's, it could not)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for term in ("张三", "三丰", "张"):
        plan = model.objects.filter(name_search.contains(field, term)).order_by().explain()
        assert index in plan, (term, plan)
    # Three Chinese characters: the trigram index alone where pg_trgm sees Chinese characters
    # (the bigram condition folded away when planning), else the bigram index.
    plan = model.objects.filter(name_search.contains(field, "张三丰")).order_by().explain()
    trigram_index = index.replace("bigram", "trgm")
    assert "Seq Scan" not in plan, plan
    if trigrams_see_chinese():
        assert trigram_index in plan and index not in plan and name_search.BIGRAMS not in plan, plan
    else:
        assert index in plan, plan


def trigrams_see_chinese() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT show_trgm('张三丰') <> '{}'")
        return cursor.fetchone()[0]


@pytest.mark.skipif(not POSTGRES, reason="the bigram function exists on PostgreSQL only")
def test_the_bigram_function_is_priced_as_it_costs():
    """Priced at the default, the planner walked the bindings' list in order computing it for
    every row (``trigram.BIGRAMS_COST``); the migrations leave it at the declared cost."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT procost FROM pg_proc WHERE oid = to_regprocedure(%s)", [f"{BIGRAMS}(text)"])
        assert cursor.fetchone()[0] == BIGRAMS_COST


# --- A database whose LC_CTYPE is C: pg_trgm sees no Chinese character there ---------------


@pytest.fixture(scope="module")
def c_locale_database(django_db_setup):
    """A database beside the test database, with its schema (``pg_dump --schema-only``) but
    created with LC_CTYPE C: as some servers are set up. Yields a psycopg connection to it."""
    import shutil
    import subprocess

    import psycopg

    if not POSTGRES or not shutil.which("pg_dump") or not shutil.which("psql"):
        pytest.skip("needs PostgreSQL and its pg_dump and psql")
    source = connection.settings_dict
    server = {"host": source["HOST"] or "127.0.0.1", "port": source["PORT"] or 5432, "user": source["USER"]}
    name = f"{source['NAME']}_c_locale"
    env = {**os.environ, "PGPASSWORD": source["PASSWORD"] or ""}

    def connect(dbname: str):
        return psycopg.connect(dbname=dbname, password=source["PASSWORD"], autocommit=True, **server)

    with connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    where = ["-h", str(server["host"]), "-p", str(server["port"]), "-U", server["user"]]
    schema = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", *where, source["NAME"]],
        env=env,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", *where, "-d", name], input=schema, env=env, check=True
    )
    with connect(name) as c_locale:
        yield c_locale
    with connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_in_a_c_locale_database_chinese_terms_take_the_bigram_index_and_find_the_same(c_locale_database):
    """Where pg_trgm sees no Chinese character, three of them hold no trigram either: the
    search asks the database in its query (``show_trgm``), and there takes the bigram path.
    Django's SQL for each search, run in that database on the same rows, finds icontains'."""
    from psycopg.types.json import Jsonb

    db = c_locale_database
    assert db.execute("SELECT show_trgm('张三丰')").fetchone()[0] == []  # the case under test
    assert db.execute("SELECT show_trgm('zhang')").fetchone()[0]  # ASCII letters still count
    accounts(NAMES)
    fields = list(ReferralAccount._meta.concrete_fields)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    with db.transaction():
        db.execute("TRUNCATE referrals_referralaccount CASCADE")
        for row in ReferralAccount.objects.values_list(*(f.attname for f in fields)):
            values = [Jsonb(v) if isinstance(v, dict | list) else v for v in row]
            db.execute(f"INSERT INTO referrals_referralaccount ({columns}) VALUES ({marks})", values)  # noqa: S608
    rows = ReferralAccount.objects.all()

    def found_there(condition):
        sql, params = rows.filter(condition).values_list("pk").query.sql_with_params()
        return sorted(pk for (pk,) in db.execute(sql, params).fetchall())

    for term in TERMS:  # icontains there too: a C locale's UPPER leaves "ü" as it is
        assert found_there(name_search.contains("name", term)) == found_there(icontains("name", term)), term
    # The rows themselves, so that the equality cannot hold by both finding nothing.
    sql, params = (
        rows.filter(name_search.contains("name", "张三丰")).values_list("name").query.sql_with_params()
    )
    assert [name for (name,) in db.execute(sql, params)] == ["张三丰"]
    plan = db.execute(f"EXPLAIN (COSTS OFF) {sql}", params).fetchall()
    assert BIGRAMS in " ".join(line for (line,) in plan)
