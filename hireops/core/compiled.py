"""A query run on every request, compiled by the ORM once.

Building a query's SQL costs the ORM more than the database costs to run it (a key lookup with
its actor: 0.3 ms to compile, about as much to run, and as much again to build the queryset).
``OneRow`` compiles the query once, with a marker in place of the value looked up, then runs
the SQL with each value and builds the row, and the rows ``select_related`` brings with it, as
the queryset would (the same ``from_db``, field converters and related populators), so a
loaded row is the one ``.first()`` gives, its annotations included (``hireops.core.auth.backends``
reads the signed-in user and their permissions this way).

Only for a query whose SQL does not depend on the value (an equality on it, not ``__in`` a
list of varying length) and on nothing that changes while the process runs.
"""

from collections.abc import Callable
from threading import Lock
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)


class OneRow(Generic[M]):
    """``OneRow(Model, lambda value: Model.objects.filter(field=value), marker)``:
    ``.get(value)`` is the row ``build(value)`` finds, or None, without compiling: for a lookup
    that finds at most one (a unique field; unordered, unlike ``.first()``). ``marker`` stands
    for the value when compiling: of the field's type, and unlike any other parameter."""

    def __init__(self, model: type[M], build: Callable[[Any], QuerySet[M]], marker: Any):
        self._model, self._build, self._marker = model, build, marker
        self._compiled: dict[str, tuple] = {}
        self._lock = Lock()

    def get(self, value: Any) -> M | None:
        alias = router.db_for_read(self._model)
        sql, params, at, build_row = self._compiled.get(alias) or self._compile(alias)
        params = list(params)
        params[at] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else build_row(row)

    def _compile(self, alias: str) -> tuple:
        with self._lock:
            if alias in self._compiled:
                return self._compiled[alias]
            queryset = self._build(self._marker)[:1]
            compiler = queryset.query.get_compiler(alias)
            sql, params = compiler.as_sql()
            places = [i for i, p in enumerate(params) if p == self._marker]
            if len(places) != 1:
                raise ValueError(f"the marker {self._marker!r} is {len(places)} of the query's parameters")
            compiled = (sql, tuple(params), places[0], _row_builder(compiler, alias))
            self._compiled[alias] = compiled
            return compiled


def _row_builder(compiler, alias: str) -> Callable[[tuple], Any]:
    """What ``ModelIterable`` does with one row, its steps prepared once."""
    select, klass_info = compiler.select, compiler.klass_info
    annotations = list(compiler.annotation_col_map.items())  # set on the row, as the queryset does
    # Applied here rather than by the compiler, whose connection is the compiling thread's.
    converters = list(compiler.get_converters([column for column, _sql, _alias in select]).items())
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    names = [column.target.attname for column, _sql, _alias in select[start:end]]
    model = klass_info["model"]
    # django-stubs describe Django 6, whose populators also take a fetch mode.
    populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]

    def build(row: tuple) -> Any:
        if converters:
            connection, values = connections[alias], list(row)
            for at, (functions, expression) in converters:
                for convert in functions:
                    values[at] = convert(values[at], expression, connection)
            row = tuple(values)
        obj = model.from_db(alias, names, row[start:end])
        for name, at in annotations:
            setattr(obj, name, row[at])
        for populator in populators:
            populator.populate(row, obj)
        return obj

    return build
