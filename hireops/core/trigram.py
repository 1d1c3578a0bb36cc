"""For migrations: trigram indexes, so "contains" searches (``icontains``) over large tables use
an index; and GIN indexes for jsonb containment.

PostgreSQL only (the embedded SQLite default searches small data and skips them). They need
the ``pg_trgm`` extension, which the migration creates; it is a trusted extension, so the
database's owner may create it (or a DBA creates it once beforehand). Django's model state
does not list these indexes: they exist only where PostgreSQL runs.
"""

from django.db import migrations


def _postgres_index(name: str, using, extension: str = "") -> migrations.RunPython:
    """CREATE INDEX ``name`` ON ``using(quote)`` (PostgreSQL only), dropped on reverse."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        if extension:
            schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {using(quote)}")

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return migrations.RunPython(create, drop)


def trigram_index(table: str, column: str, name: str) -> migrations.RunPython:
    # On UPPER(column): Django's case-insensitive "contains" compares UPPER(column) LIKE UPPER(term).
    return _postgres_index(
        name, lambda q: f"{q(table)} USING gin (UPPER({q(column)}::text) gin_trgm_ops)", extension="pg_trgm"
    )


def jsonb_path_index(table: str, column: str, name: str) -> migrations.RunPython:
    """A GIN index for containment (``@>``) on a jsonb column (PostgreSQL only, like the above)."""
    return _postgres_index(name, lambda q: f"{q(table)} USING gin ({q(column)} jsonb_path_ops)")
