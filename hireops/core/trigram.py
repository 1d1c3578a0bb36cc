"""For migrations: trigram indexes, so "contains" searches (``icontains``) over large tables use
an index; and GIN indexes for jsonb containment.

PostgreSQL only (the embedded SQLite default searches small data and skips them). They need
the ``pg_trgm`` extension, which the migration creates; it is a trusted extension, so the
database's owner may create it (or a DBA creates it once beforehand). Django's model state
does not list these indexes: they exist only where PostgreSQL runs.
"""

from django.db import migrations


def trigram_index(table: str, column: str, name: str) -> migrations.RunPython:
    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # On UPPER(column): Django's case-insensitive "contains" compares UPPER(column) LIKE UPPER(term).
        target = f"{quote(table)} USING gin (UPPER({quote(column)}::text) gin_trgm_ops)"
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {target}")

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return migrations.RunPython(create, drop)


def jsonb_path_index(table: str, column: str, name: str) -> migrations.RunPython:
    """A GIN index for containment (``@>``) on a jsonb column (PostgreSQL only, like the above)."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            quote = schema_editor.quote_name
            target = f"{quote(table)} USING gin ({quote(column)} jsonb_path_ops)"
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {target}")

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return migrations.RunPython(create, drop)
