"""The suite's own end of a transactional test (tests/fast_flush.py) leaves the database as
Django's flush does: the rows a test wrote gone, the rows post_migrate writes back as written.
On PostgreSQL and on SQLite, each keeping the rows its own way."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django_celery_beat.models import PeriodicTask

from tests import fast_flush

pytestmark = pytest.mark.django_db(transaction=True)
KEPT = ("auth_permission", "auth_group", "auth_group_permissions", "django_content_type")


def rows_of(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608
        return cursor.fetchall()


def changed_kept_tables(state) -> list[str]:
    with connection.cursor() as cursor:
        return fast_flush._KEEPERS[connection.vendor].changed(cursor, state)


def test_a_reset_undoes_new_rows_and_changes_to_the_kept_ones():
    state = fast_flush._snapshot(connection)  # what a test starts from
    assert set(KEPT) <= set(state.kept), sorted(state.kept)
    before = {table: rows_of(table) for table in KEPT}
    task = PeriodicTask.objects.order_by("pk").first()
    name = task.name

    User.objects.create_user("written-by-the-test")  # a table post_migrate leaves empty
    Permission.objects.order_by("pk").last().delete()  # a kept table: a row less
    group = Group.objects.order_by("pk").first()
    group.permissions.add(*Permission.objects.exclude(group=group)[:1])  # a kept table: a row more
    Group.objects.filter(pk=group.pk).update(name="renamed by the test")  # a kept row changed
    PeriodicTask.objects.filter(pk=task.pk).update(name="renamed by the test")
    assert {"auth_permission", "auth_group", "auth_group_permissions"} <= set(changed_kept_tables(state))

    fast_flush._reset(connection, state)

    assert not User.objects.exists()
    for table in KEPT:
        assert rows_of(table) == before[table], table
    assert PeriodicTask.objects.get(pk=task.pk).name == name
    assert set(fast_flush._filled(connection.cursor(), connection, state.tables)) == set(state.kept)
    assert changed_kept_tables(state) == []  # the stamp of beat's rows is what is kept now


def test_a_reset_after_a_test_that_changed_nothing_kept_rewrites_nothing():
    state = fast_flush._snapshot(connection)
    User.objects.create_user("written-by-the-test")
    assert changed_kept_tables(state) == []
    Group.objects.filter(pk=Group.objects.order_by("pk").first().pk).update(name="renamed by the test")
    assert changed_kept_tables(state) == ["auth_group"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a row's version (xmin) is PostgreSQL's")
def test_a_kept_table_nobody_changed_keeps_its_row_versions():
    state = fast_flush._snapshot(connection)
    User.objects.create_user("written-by-the-test")
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM auth_permission ORDER BY id LIMIT 1")
        [before] = cursor.fetchone()
    fast_flush._reset(connection, state)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM auth_permission ORDER BY id LIMIT 1")
        assert cursor.fetchone() == (before,)  # the same row version: not deleted and copied back
    assert not User.objects.exists()
