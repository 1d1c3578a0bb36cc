"""compose.yaml and its settings file, checked without a Docker daemon (none runs here or in CI).

What a deployment relies on: the one-shot migration gates every hireops process, each queue
has exactly one worker pool, beat is alone, the health checks probe the ports the entry point
serves on, the metrics port stays private, and .env.compose.example carries every setting
hireops reads and passes Django's deployment checklist. ``docker compose config`` validates
the file when the compose plugin is installed.
"""

import re
import secrets
import shutil
import subprocess
import sys
from functools import cache

import pytest
import yaml
from django.conf import settings

from tests.conftest import ROOT

IMAGE_SERVICES = {
    "migrate",
    "admin",
    "ingest",
    "listen",
    "worker-events",
    "worker",
    "worker-bulk",
    "worker-webhooks",
    "beat",
    "metrics",
}
LONG_RUNNING = IMAGE_SERVICES - {"migrate"}
# Variables of .env.example that the image sets itself or that only the sandbox reads.
NOT_FOR_COMPOSE = re.compile(r"^(SANDBOX_\w+|FEISHU_SANDBOX|DEMO_WEBHOOK_URL|HIREOPS_VAR_DIR|STATIC_ROOT)$")


@cache
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def healthcheck(name: str) -> list[str]:
    """A service's health check command, as Docker runs it."""
    return service(name)["healthcheck"]["test"]


def env_file_variables(path, *, commented=False) -> dict[str, str]:
    """``NAME=value`` lines of an env file; ``commented``: also ``# NAME=value`` ones."""
    pattern = r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"^([A-Z][A-Z0-9_]*)=(.*)$"
    return dict(re.findall(pattern, (ROOT / path).read_text(), re.M))


def test_every_hireops_process_waits_for_the_migration_to_succeed():
    migrate = service("migrate")
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    for name in LONG_RUNNING:
        after = service(name)["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully", name


def test_one_image_built_once_for_every_process():
    services = compose()["services"]
    assert {name for name, s in services.items() if s.get("image") == service("admin")["image"]} == (
        IMAGE_SERVICES
    )
    assert [name for name, s in services.items() if "build" in s] == ["migrate"]


def test_each_queue_has_exactly_one_worker_pool():
    pools = [service(n)["environment"]["WORKER_QUEUES"] for n in IMAGE_SERVICES if n.startswith("worker")]
    queues = [q for pool in pools for q in pool.split(",")]
    assert sorted(queues) == sorted(settings.CELERY_TASK_QUEUES)


def test_beat_runs_alone():
    beat = service("beat")
    assert beat.get("deploy", {}).get("replicas", 1) == 1 and "scale" not in beat


def test_servers_are_probed_where_the_entry_point_serves_them():
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    for name, default_port in (("admin", 8000), ("ingest", 8001), ("listen", 8002), ("metrics", 9108)):
        assert f"${{PORT:-{default_port}}}" in entrypoint.split(f"\n  {name})", 1)[1].split(";;")[0]
        command = healthcheck(name)
        assert command[:3] == ["CMD", "python", "/app/docker/probe.py"], name
        assert command[3].startswith(f"http://127.0.0.1:{default_port}/"), name
    assert healthcheck("admin")[3].endswith("/readyz") and healthcheck("ingest")[3].endswith("/readyz")
    for name in LONG_RUNNING:
        assert "test" in service(name)["healthcheck"], name


def test_the_metrics_port_is_not_published_and_every_process_shares_the_metrics_folder():
    assert "ports" not in service("metrics") and service("metrics")["expose"] == ["9108"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    [folder] = re.findall(r"PROMETHEUS_MULTIPROC_DIR=(\S+)", dockerfile)
    for name in LONG_RUNNING:
        assert f"metrics:{folder}" in service(name)["volumes"], name


def test_servers_get_longer_to_stop_than_gunicorn_gives_requests_in_flight():
    graceful = int(env_file_variables(".env.compose.example")["GRACEFUL_TIMEOUT"])
    for name in ("admin", "ingest"):
        assert int(service(name)["stop_grace_period"].removesuffix("s")) > graceful, name


def test_the_settings_file_names_every_variable_hireops_reads():
    documented = set(env_file_variables(".env.example", commented=True))
    for_compose = set(env_file_variables(".env.compose.example", commented=True))
    missing = {name for name in documented - for_compose if not NOT_FOR_COMPOSE.match(name)}
    assert not missing, f".env.compose.example lacks {sorted(missing)} (see .env.example)"
    for name in IMAGE_SERVICES:
        assert service(name)["env_file"] == ".env.compose", name


@pytest.mark.processes
def test_the_settings_file_passes_the_deployment_checklist_once_filled_in(tmp_path):
    values = env_file_variables(".env.compose.example")
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "FEISHU_APP_ID", "FEISHU_APP_SECRET"):
        assert values[name] == "", name  # the operator's to set
    values.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        FEISHU_APP_ID="cli_a1b2c3",
        FEISHU_APP_SECRET="s",
        FEISHU_ENCRYPT_KEY="k",
        FEISHU_VERIFICATION_TOKEN="t",
    )
    env = {
        **values,
        "PATH": "/usr/bin:/bin",
        "HIREOPS_VAR_DIR": str(tmp_path),
        # Nothing here connects to them; the check is about the settings.
        "DATABASE_URL": "postgres://hireops:x@127.0.0.1:1/hireops",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _compose_plugin() -> str | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return docker
    return None


@pytest.mark.skipif(_compose_plugin() is None, reason="the docker compose plugin is not installed")
def test_docker_compose_accepts_the_file(tmp_path):
    """The file as Docker Compose reads it (no daemon needed), beside a copy of the example
    settings, as an operator's checkout would have them."""
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    shutil.copy(ROOT / ".env.compose.example", tmp_path / ".env.compose")
    result = subprocess.run(
        [_compose_plugin(), "compose", "config", "--quiet"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
