"""Lists of hundreds of thousands of rows (a year of events, every referral account, every binding).

Django's changelist counts the rows it lists with ``COUNT(*)`` (twice when a filter is on:
the filtered count and the table's), which reads every matching row: hundreds of
milliseconds at a million rows, on every page view. Here:

- the table's own total is not counted (``show_full_result_count = False``);
- the listed rows are counted exactly up to ``EXACT_UP_TO`` (a bounded scan, a few ms),
  and beyond that PostgreSQL's planner estimate is shown, marked "about" in the paginator.
  The estimate comes from the table's statistics (kept by autovacuum's ANALYZE); it is
  usually within a few per cent, and it never stands for a number staff act on: the
  dashboard's counts are exact.
"""

from functools import cached_property
from typing import Any, ClassVar

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q

EXACT_UP_TO = 1_000


class EstimatedCountPaginator(Paginator):
    estimated = False

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list  # a QuerySet, or a list (no query: counted as Django does)
        if not hasattr(queryset, "query") or connections[queryset.db].vendor != "postgresql":
            return super().count
        # Counted and planned as the ids alone: the list's display annotations (a tenant's
        # name, a package's, each a subquery a row) change no count.
        ids = queryset.order_by().values("pk")
        exact = ids[: EXACT_UP_TO + 1].count()
        if exact <= EXACT_UP_TO:
            return exact
        self.estimated = True
        return max(_planner_rows(ids), exact)


def _planner_rows(queryset) -> int:
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg returns json as text or parsed, by version
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeTableAdmin:
    """ModelAdmin mixin for a list of hundreds of thousands of rows (see the module).

    Rendering a row costs about a millisecond of Python (the admin's per-cell machinery), so
    a page shows 25 rows."""

    show_full_result_count = False
    paginator: ClassVar[type] = EstimatedCountPaginator
    list_per_page = 25


def exact_search(queryset, term: str, fields: tuple[str, ...]):
    """Rows where one of ``fields`` is exactly ``term``: ids (event ids, account ids, order
    ids) are matched as they are, through their indexes. Django's ``=field`` search compares
    ``UPPER(field) = UPPER(term)``, which no index serves."""
    term = term.strip()
    if not term:
        return queryset
    query = Q(pk__in=[])
    for name in fields:
        query |= Q(**{name: term})
    return queryset.filter(query)
