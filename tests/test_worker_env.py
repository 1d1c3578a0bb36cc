"""Each xdist worker's Redis databases are counted from the databases the run's URLs name, so
two runs on one Redis with URLs far enough apart never share, nor empty, each other's."""

import os
import runpy
from pathlib import Path

import pytest

from tests.worker_env import MOVED, own_database

WORKER_ENV = Path(__file__).with_name("worker_env.py")


@pytest.mark.parametrize(
    ("url", "number", "moved"),
    [
        ("redis://127.0.0.1:6379/0", 0, "redis://127.0.0.1:6379/2"),  # CI's cache: 2, 4, 6, …
        ("redis://127.0.0.1:6379/1", 0, "redis://127.0.0.1:6379/3"),  # CI's broker: 3, 5, 7, …
        ("redis://127.0.0.1:6379/0", 2, "redis://127.0.0.1:6379/6"),
        ("redis://127.0.0.1:6379", 1, "redis://127.0.0.1:6379/4"),  # no database named: 0
        ("redis://127.0.0.1:6379/8", 0, "redis://127.0.0.1:6379/10"),  # a second run's cache
        ("redis://127.0.0.1:6379/9", 1, "redis://127.0.0.1:6379/13"),  # and broker
        ("redis://:secret@127.0.0.1:6384/13", 0, "redis://:secret@127.0.0.1:6384/15"),
    ],
)
def test_a_workers_database_is_counted_from_the_one_its_url_names(url, number, moved):
    assert own_database(url, number) == moved


def test_two_runs_whose_urls_are_apart_share_no_database():
    def databases(cache: str, broker: str, workers: int) -> set[str]:
        return {own_database(url, n).rsplit("/", 1)[1] for n in range(workers) for url in (cache, broker)}

    ci = databases("redis://h:6379/0", "redis://h:6379/1", workers=3)
    second = databases("redis://h:6379/8", "redis://h:6379/9", workers=3)
    assert ci == {"2", "3", "4", "5", "6", "7"}
    assert second == {"10", "11", "12", "13", "14", "15"}


def test_a_database_past_redis_sixteen_is_refused_with_the_way_out():
    with pytest.raises(RuntimeError) as refused:
        own_database("redis://127.0.0.1:6379/9", 3)  # 9 + 2 + 6 = 17
    message = str(refused.value)
    assert "gw3" in message and "database 17" in message and "0 to 15" in message
    assert "HIREOPS_TEST_WORKERS" in message


def test_a_worker_moves_its_urls_once_and_its_children_keep_them(monkeypatch, tmp_path):
    """The worker's settings import this module with the run's URLs; a process it starts
    (a Celery worker, a server) imports it again with the moved ones and must keep them."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("HIREOPS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6384/8")
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6384/8")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6384/9")
    monkeypatch.delenv(MOVED, raising=False)

    runpy.run_path(str(WORKER_ENV))  # the worker
    moved = {name: os.environ[name] for name in ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL")}
    assert moved == {
        "REDIS_URL": "redis://127.0.0.1:6384/12",
        "CACHE_URL": "redis://127.0.0.1:6384/12",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6384/13",
    }
    runpy.run_path(str(WORKER_ENV))  # a process it started, with its environment
    assert {name: os.environ[name] for name in moved} == moved
