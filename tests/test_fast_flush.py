"""The suite's own end of a transactional test (tests/fast_flush.py) leaves the database as
Django's flush does: the rows a test wrote gone, the rows post_migrate writes back as written."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django_celery_beat.models import PeriodicTask

from tests import fast_flush

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast flush is PostgreSQL's (COPY)"),
]


def rows_of(table: str) -> bytes:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} TO STDOUT") as copy:
        return b"".join(bytes(block) for block in copy)


def test_a_reset_undoes_new_rows_and_changes_to_the_kept_ones():
    state = fast_flush._snapshot(connection)  # what a test starts from
    kept = {"auth_permission", "auth_group", "auth_group_permissions", "django_content_type"}
    assert kept <= set(state.rows), sorted(state.rows)
    task = PeriodicTask.objects.order_by("pk").first()
    name = task.name

    User.objects.create_user("written-by-the-test")  # a table post_migrate leaves empty
    Permission.objects.order_by("pk").last().delete()  # a kept table: a row less
    group = Group.objects.order_by("pk").first()
    group.permissions.add(*Permission.objects.exclude(group=group)[:1])  # a kept table: a row more
    Group.objects.filter(pk=group.pk).update(name="renamed by the test")  # a kept row changed
    PeriodicTask.objects.filter(pk=task.pk).update(name="renamed by the test")

    fast_flush._reset(connection, state)

    assert not User.objects.exists()
    for table in kept:
        assert rows_of(table) == state.rows[table], table
    assert PeriodicTask.objects.get(pk=task.pk).name == name
    assert set(fast_flush._filled(connection.cursor(), connection, state.tables)) == set(state.rows)


def test_a_reset_after_a_test_that_changed_nothing_kept_rewrites_nothing():
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
