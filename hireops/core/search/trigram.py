"""For migrations: trigram and bigram indexes, so "contains" searches (``icontains``) over large
tables use an index; and GIN indexes for jsonb containment.

PostgreSQL only (the embedded SQLite default searches small data and skips them). Trigram
indexes need the ``pg_trgm`` extension, which the migration creates; it is a trusted extension,
so the database's owner may create it (or a DBA creates it once beforehand). Bigram indexes need
no extension: two functions of our own in PL/pgSQL (always installed), created with the first
index. Django's model state does not list these indexes: they exist only where PostgreSQL runs.
"""

from django.db import migrations

# Every character and every pair of adjacent characters of a text: what a bigram index holds
# for each row. Never change a body once released: the index holds what it computed then, and
# a changed function would silently stop finding rows. A new definition takes a new name.
BIGRAMS = "hireops_bigrams"
TERM_BIGRAMS = "hireops_term_bigrams"  # what a search term must find among them
# What a call of BIGRAMS costs the planner, in cpu_operator_cost units: measured about 20 µs a
# name (200,000 names in 4.1 s; UPPER and LIKE take 0.3 µs), where the default (100) said 5.
# Priced so, a filter computing it for every row walked stops looking cheap, and a list
# ordered by an index of its own reads the rows the bigram index finds and sorts them instead
# (a list of 200,000 rows, a common 2-character term: 92-120 ms of SQL for the list, 22-26 ms).
BIGRAMS_COST = 1000
_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION {BIGRAMS}(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST {BIGRAMS_COST} AS $$
DECLARE
    grams text[] := '{{}}';
BEGIN
    FOR i IN 1 .. length(value) LOOP
        -- The last pair is the last character again: GIN keeps each key once per row.
        grams := grams || ARRAY[substr(value, i, 1), substr(value, i, 2)];
    END LOOP;
    RETURN grams;
END $$;

CREATE OR REPLACE FUNCTION {TERM_BIGRAMS}(term text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    grams text[] := '{{}}';
BEGIN
    IF length(term) = 1 THEN
        RETURN ARRAY[term];
    END IF;
    FOR i IN 1 .. length(term) - 1 LOOP
        grams := grams || substr(term, i, 2);
    END LOOP;
    RETURN grams;
END $$;
"""


def _postgres_index(
    name: str, using, extension: str = "", prepare: str = "", analyze: str = "", after_drop=None
):
    """CREATE INDEX ``name`` ON ``using(quote)`` (PostgreSQL only), dropped on reverse; then
    ANALYZE the table ``analyze`` names, for the statistics of the indexed expression."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        if extension:
            schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        if prepare:
            schema_editor.execute(prepare)
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {using(quote)}")
        if analyze:
            schema_editor.execute(f"ANALYZE {quote(analyze)}")

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
            if after_drop:
                after_drop(schema_editor)

    return migrations.RunPython(create, drop)


def price_bigrams() -> migrations.RunPython:
    """Gives BIGRAMS, where a database already has it, the cost ``_FUNCTIONS`` now declares."""

    def alter(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [f"{BIGRAMS}(text)"])
            if cursor.fetchone()[0]:
                schema_editor.execute(f"ALTER FUNCTION {BIGRAMS}(text) COST {BIGRAMS_COST}")

    return migrations.RunPython(alter, migrations.RunPython.noop)


def trigram_index(table: str, column: str, name: str) -> migrations.RunPython:
    # On UPPER(column): Django's case-insensitive "contains" compares UPPER(column) LIKE UPPER(term).
    return _postgres_index(
        name, lambda q: f"{q(table)} USING gin (UPPER({q(column)}::text) gin_trgm_ops)", extension="pg_trgm"
    )


def bigram_index(table: str, column: str, name: str) -> migrations.RunPython:
    """A GIN index on the characters and pairs of characters of UPPER(column), which
    ``hireops.core.search.name_search.contains`` uses for the terms trigrams cannot serve: one or two
    characters, and Chinese text of any length (a name is mostly two or three characters).

    ``COLLATE "C"``: the index compares its keys byte by byte instead of by the database's
    locale (building it twice as fast); the search writes the same expression. The table is
    analyzed at once: until then the planner, knowing nothing of the pairs, guesses how many
    rows a term finds (autovacuum analyzes a table only after many of its rows changed)."""
    return _postgres_index(
        name,
        lambda q: f'{q(table)} USING gin ({BIGRAMS}(UPPER({q(column)}::text) COLLATE "C"))',
        prepare=_FUNCTIONS,
        analyze=table,
        after_drop=_drop_unused_functions,
    )


def _drop_unused_functions(schema_editor) -> None:
    """On reverse, after the last bigram index is gone, the functions go too."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_depend"
            " WHERE refobjid = to_regprocedure(%s) AND classid = 'pg_class'::regclass",
            [f"{BIGRAMS}(text)"],
        )
        if cursor.fetchone()[0] == 0:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {BIGRAMS}(text), {TERM_BIGRAMS}(text)")


def jsonb_path_index(table: str, column: str, name: str) -> migrations.RunPython:
    """A GIN index for containment (``@>``) on a jsonb column (PostgreSQL only, like the above)."""
    return _postgres_index(name, lambda q: f"{q(table)} USING gin ({q(column)} jsonb_path_ops)")
