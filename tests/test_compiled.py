"""hireops.core.compiled.OneRow: a query compiled once gives the row (and the rows it brings
with select_related) the ORM's own ``.first()`` gives, converters applied."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hireops.api import keys
from hireops.api.models import ApiKey
from hireops.core.compiled import OneRow

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_row_and_its_related_row_are_the_orms():
    made = keys.create("crm", ["customers:read", "customers:write"], tenant_keys=["t1"])
    lookup = OneRow(ApiKey, lambda h: ApiKey.objects.select_related("actor").filter(secret_hash=h), "0" * 64)
    expected = ApiKey.objects.select_related("actor").filter(secret_hash=keys.digest(made.key)).first()
    with CaptureQueriesContext(connection) as queries:
        row = lookup.get(keys.digest(made.key))
        assert row.actor.username == expected.actor.username  # brought along: no query of its own
    assert len(queries) == 1
    assert _fields(row) == _fields(expected) and _fields(row.actor) == _fields(expected.actor)
    assert row.scopes == ["customers:read", "customers:write"] and row.tenant_keys == [
        "t1"
    ]  # JSON, converted
    assert row._state.adding is False and row._state.db == "default"
    assert lookup.get("f" * 64) is None


def test_the_sql_is_compiled_once():
    keys.create("crm", ["customers:read"])
    built = []

    def build(value):
        built.append(value)
        return get_user_model().objects.filter(username=value)

    lookup = OneRow(get_user_model(), build, "\x00marker")
    names = list(get_user_model().objects.values_list("username", flat=True))
    assert [lookup.get(name).username for name in names] == names
    assert built == ["\x00marker"]


def test_a_marker_that_is_not_exactly_one_parameter_is_refused():
    users = get_user_model().objects
    with pytest.raises(ValueError, match="2 of the query's parameters"):
        OneRow(get_user_model(), lambda v: users.filter(username=v, first_name=v), "\x00m").get("x")
    with pytest.raises(ValueError, match="0 of the query's parameters"):
        OneRow(get_user_model(), lambda v: users.filter(username="x"), "\x00m").get("x")


def test_an_annotation_is_set_on_the_row_as_the_orms():
    from django.db.models import Count, Value
    from django.db.models.functions import Concat

    users = get_user_model().objects
    users.create_user("ann", first_name="Ann")
    build = lambda v: users.filter(username=v).annotate(  # noqa: E731
        greeting=Concat(Value("hi "), "first_name"), n_groups=Count("groups")
    )
    row = OneRow(get_user_model(), build, "\x00m").get("ann")
    expected = build("ann").first()
    assert (row.greeting, row.n_groups) == (expected.greeting, expected.n_groups) == ("hi Ann", 0)
    assert _fields(row) == _fields(expected)
