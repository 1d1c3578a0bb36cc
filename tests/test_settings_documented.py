"""Every environment variable hireops reads is in .env.example, explained, and in the operators'
table (docs/deployment.md, "Settings (environment variables)"); neither names one nothing reads.

What reads the environment is found in the source, not listed by hand:

- the settings modules (config/settings/*.py): every call of django-environ's ``env`` (``env()``,
  ``env.int()``, ``env.db_url()``…), in every branch, taken or not;
- the project's Python (config/, hireops/, bindings/, orders/, referrals/, gunicorn.conf.py):
  ``os.environ`` and ``os.getenv`` reads;
- the image's entry point (docker/entrypoint*.sh) and the Procfile: ``$NAME`` and ``${NAME…}``.

A name must be a string literal there (a computed one fails the test): otherwise nothing could
say what is read. A second test imports the settings in a fresh process with every read of the
environment recorded, and finds none the source scan missed (a read through another name).

Left out, as nobody deploying hireops sets them: ``DJANGO_SETTINGS_MODULE`` (each program sets
its own default), ./dev's own switches (``SANDBOX_RESET``, ``HIREOPS_TEST_WORKERS``), the tests'
settings (tests/), the Feishu emulator's package and the benchmarks.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SETTINGS_MODULES = sorted((ROOT / "config" / "settings").glob("*.py"))
PYTHON_ROOTS = ["config", "hireops", "bindings", "orders", "referrals"]
SHELL_FILES = [*sorted((ROOT / "docker").glob("entrypoint*")), ROOT / "Procfile"]
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_EXAMPLE = ROOT / ".env.compose.example"
DEPLOYMENT = ROOT / "docs" / "deployment.md"
SECTION = "## Settings (environment variables)"

# .env.compose.example also feeds what is not hireops: the database container and the S3 client.
COMPOSE_OWN = {
    "POSTGRES_USER": "the db service's image creates this user",
    "POSTGRES_DB": "and this database",
    "POSTGRES_PASSWORD": "with this password",
    "AWS_ACCESS_KEY_ID": "django-storages' S3 backend (boto3) reads it",
    "AWS_SECRET_ACCESS_KEY": "likewise",
}


def is_env(node: ast.expr) -> bool:
    """``env`` (the settings' django-environ ``Env``) or ``env.<method>``."""
    if isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "env"


def is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def reads_by_call(func: ast.expr, *, settings: bool) -> bool:
    """``env(NAME)``, ``env.int(NAME)``… (in the settings), ``os.environ.get(NAME)``,
    ``os.getenv(NAME)``; not ``os.environ.setdefault`` (a program's own default)."""
    if settings and is_env(func):
        return not (isinstance(func, ast.Attribute) and func.attr == "read_env")
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "get":
        return is_os_environ(func.value)
    return func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os"


def environment_reads(path: Path, *, settings: bool) -> dict[str, str]:
    """The variables a Python file reads, each with where: ``{name: "file:line"}``. Fails on a
    read whose name is not a literal."""
    tree = ast.parse(path.read_text(), str(path))
    found: dict[str, str] = {}

    def name_of(node: ast.expr | None, at: ast.expr) -> None:
        where = f"{path.relative_to(ROOT)}:{at.lineno}"
        assert isinstance(node, ast.Constant) and isinstance(node.value, str), (
            f"{where}: the variable's name is not a literal"
        )
        found.setdefault(node.value, where)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and reads_by_call(node.func, settings=settings):
            name_of(node.args[0] if node.args else None, node)
        elif isinstance(node, ast.Subscript) and is_os_environ(node.value) and isinstance(node.ctx, ast.Load):
            name_of(node.slice, node)
        elif isinstance(node, ast.Compare) and any(is_os_environ(c) for c in node.comparators):
            name_of(node.left, node)
    return found


SHELL_VARIABLE = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")


def shell_reads(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for name in SHELL_VARIABLE.findall(line):
            found.setdefault(name, f"{path.relative_to(ROOT)}:{number}")
    return found


def variables_read() -> dict[str, str]:
    """Every variable hireops reads, with the first place found that reads it."""
    python = [path for root in PYTHON_ROOTS for path in sorted((ROOT / root).rglob("*.py"))]
    python = [path for path in [*python, ROOT / "gunicorn.conf.py"] if path not in SETTINGS_MODULES]
    readers = [
        *(environment_reads(path, settings=True) for path in SETTINGS_MODULES),
        *(environment_reads(path, settings=False) for path in python),
        *(shell_reads(path) for path in SHELL_FILES),
    ]
    found: dict[str, str] = {}
    for reads in readers:
        for name, where in reads.items():
            found.setdefault(name, where)
    return found


# A variable's line: ``NAME=value``, or ``# NAME=value`` (commented out: the default stands).
EXAMPLE_LINE = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=")


def example_variables(path: Path) -> list[str]:
    return [m.group(1) for line in path.read_text().splitlines() if (m := EXAMPLE_LINE.match(line))]


def unexplained(path: Path) -> list[str]:
    """Variables of .env.example without a comment line of their own just above, saying what
    they do (a heading, a blank line or another variable does not)."""
    missing, above = [], ""
    for line in path.read_text().splitlines():
        m = EXAMPLE_LINE.match(line)
        if m and not (
            above.startswith("#") and not above.startswith("# ---") and not EXAMPLE_LINE.match(above)
        ):
            missing.append(m.group(1))
        above = line
    return missing


def settings_section() -> str:
    text = DEPLOYMENT.read_text()
    assert SECTION in text, f"docs/deployment.md has no {SECTION!r}"
    section = text.split(SECTION, 1)[1]
    return section.split("\n## ", 1)[0]


def documented_rows() -> dict[str, list[str]]:
    """The section's table rows by the variable in their first cell: ``{name: cells}``."""
    rows: dict[str, list[str]] = {}
    for line in settings_section().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and (m := re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0])):
            assert m.group(1) not in rows, f"{m.group(1)} has two rows"
            rows[m.group(1)] = cells
    return rows


def test_the_scan_finds_the_variables_of_every_kind_of_reader():
    read = variables_read()
    assert len(read) > 100
    assert read["DATABASE_URL"].startswith("config/settings/django.py")  # env.db_url()
    assert read["CONN_MAX_AGE"].startswith("config/settings/django.py")  # in a branch not taken on SQLite
    assert read["REQUESTS_CA_BUNDLE"].startswith("hireops/feishu/http.py")  # os.environ.get()
    assert read["WORKER_QUEUES"].startswith("docker/entrypoint.sh")  # ${WORKER_QUEUES:-}
    assert "DJANGO_SETTINGS_MODULE" not in read  # os.environ.setdefault: the program's own default


def test_every_variable_read_is_in_env_example_and_nothing_else_is():
    read, listed = variables_read(), example_variables(ENV_EXAMPLE)
    missing = sorted(f"{name} ({where})" for name, where in read.items() if name not in listed)
    assert not missing, "not in .env.example:\n" + "\n".join(missing)
    stale = sorted(set(listed) - set(read))
    assert not stale, f".env.example names what nothing reads: {stale}"
    twice = sorted({name for name in listed if listed.count(name) > 1})
    assert not twice, f".env.example names these twice: {twice}"


def test_every_variable_in_env_example_says_what_it_does_on_the_line_above():
    missing = unexplained(ENV_EXAMPLE)
    assert not missing, f"no comment line just above, saying what they do: {missing}"


# In a fresh process: .env.example with every variable uncommented, read as the settings read
# .env (base.py; real environment variables win), then the settings imported.
LOAD = r"""
import json, os, sys
import environ

environ.Env.read_env(sys.argv[1], overwrite=False)
read = {name: os.environ.get(name) for name in json.loads(sys.argv[2])}
import config.settings as s

engine = s.DATABASES["default"]["ENGINE"]
print(json.dumps({"read": read, "hosts": s.ALLOWED_HOSTS, "age": s.SESSION_COOKIE_AGE, "db": engine}))
"""


@pytest.mark.processes
def test_env_example_uncommented_gives_each_value_as_written_and_settings_that_load(tmp_path):
    """A value's line carries nothing but the value: django-environ keeps the rest of a line,
    an aligned comment included, and a number or a host name with one fails or never matches."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    written = {m.group(1): line.split("=", 1)[1] for line in lines if (m := EXAMPLE_LINE.match(line))}
    dotenv = tmp_path / ".env"
    dotenv.write_text("\n".join(re.sub(r"^#\s*(?=[A-Z][A-Z0-9_]*=)", "", line) for line in lines) + "\n")
    env = {  # where the example's paths point on a server, this test's own folder; Sentry stays off
        "PATH": "/usr/bin:/bin",
        "HIREOPS_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "SENTRY_DSN": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(dotenv), json.dumps(sorted(written))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.splitlines()[-1])
    differ = {
        name: value for name, value in loaded["read"].items() if name not in env and value != written[name]
    }
    assert not differ, f"read otherwise than written: {differ}"
    assert (loaded["hosts"], loaded["age"], loaded["db"]) == (
        ["127.0.0.1", "localhost"],
        28800,
        "django.db.backends.postgresql",
    )


def test_env_compose_example_names_nothing_that_nothing_reads():
    stale = sorted(set(example_variables(COMPOSE_EXAMPLE)) - set(variables_read()) - set(COMPOSE_OWN))
    assert not stale, f".env.compose.example names what nothing reads: {stale}"


def test_every_variable_read_has_its_row_in_the_operators_table_and_nothing_else_does():
    read, rows = variables_read(), documented_rows()
    missing = sorted(f"{name} ({where})" for name, where in read.items() if name not in rows)
    assert not missing, f"not in docs/deployment.md, {SECTION!r}:\n" + "\n".join(missing)
    stale = sorted(set(rows) - set(read))
    assert not stale, f"docs/deployment.md documents what nothing reads: {stale}"
    for name, cells in rows.items():  # variable, default, what it does
        assert len(cells) == 3 and all(cells), f"{name}: {cells}"


# In a fresh process: the names read while the settings are imported (the product's settings,
# from a bare environment), by django-environ's Env or from os.environ, by the project's code.
RECORD = r"""
import json, os, sys

PROJECT = os.getcwd() + os.sep
STDLIB = os.path.dirname(os.__file__) + os.sep
read = set()


# Whether the code that asked is the project's: past the standard library's frames
# (os.environ.get is Mapping.get) and django-environ's own (Env reads os.environ).
def by_the_project(frame):
    while frame is not None:
        where = frame.f_code.co_filename
        if not (where.startswith((STDLIB, "<frozen")) or f"{os.sep}environ{os.sep}" in where):
            break
        frame = frame.f_back
    return frame is not None and where.startswith(PROJECT) and f"{os.sep}site-packages{os.sep}" not in where


# os.environ.setdefault(): a program's own default (DJANGO_SETTINGS_MODULE), as the scan has it.
def record(key, frame):
    if frame.f_code.co_name != "setdefault" and by_the_project(frame):
        read.add(key)


class Recording(type(os.environ)):
    def __getitem__(self, key):
        record(key, sys._getframe(1))
        return super().__getitem__(key)

    def __contains__(self, key):
        record(key, sys._getframe(1))
        return super().__contains__(key)


os.environ.__class__ = Recording
import environ

get_value = environ.Env.get_value


def recorded(self, var, *args, **kwargs):
    read.add(var)
    return get_value(self, var, *args, **kwargs)


environ.Env.get_value = recorded
import config.settings  # noqa: F401

print(json.dumps(sorted(read)))
"""


@pytest.mark.processes
def test_importing_the_settings_reads_no_variable_the_scan_does_not_find(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HIREOPS_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", RECORD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    recorded = set(json.loads(done.stdout.splitlines()[-1]))
    assert {"SECRET_KEY", "DATABASE_URL", "LOG_FORMAT"} <= recorded  # the recording works
    missed = sorted(recorded - set(variables_read()))
    assert not missed, f"read while the settings are imported, but not found by the scan: {missed}"
