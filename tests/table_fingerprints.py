"""Tables as fingerprints, for tests that prove a request or an action changed nothing (or only
what it should): every row of each model's table, in the order of its keys, every column's value
written out by the database itself, all tables in one query (a query per table and every value
read into Python was two thirds of those tests' time). PostgreSQL hashes each table's rows in
their text form; SQLite joins each row's quoted values, which are hashed here."""

from django.db import connection


def fingerprints(models) -> dict[str, object]:
    """``{model label: a fingerprint of its table's rows}``; any insert, update or delete in a
    table changes its fingerprint."""
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        rows = "md5(coalesce(string_agg(t::text, chr(10) ORDER BY t.{key}), ''))"
        parts = [  # names from the models, quoted: nothing of a request's
            f"SELECT %s, {rows.format(key=quote(m._meta.pk.column))} FROM {quote(m._meta.db_table)} t"  # noqa: S608
            for m in models
        ]
    else:
        parts = []
        for m in models:
            row = " || ',' || ".join(f"quote({quote(f.column)})" for f in m._meta.concrete_fields)
            ordered = f"SELECT {row} AS r FROM {quote(m._meta.db_table)} ORDER BY {quote(m._meta.pk.column)}"  # noqa: S608
            parts.append(f"SELECT %s, (SELECT group_concat(r, char(10)) FROM ({ordered}))")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), [m._meta.label for m in models])
        return {label: hash(fingerprint) for label, fingerprint in cursor.fetchall()}
