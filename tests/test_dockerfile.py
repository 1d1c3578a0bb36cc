"""The Dockerfile and its build context, checked by reading them: no Docker daemon runs here or
in CI, so the image is never built by the tests (docs/deployment.md says what was verified)."""

import re
import shlex
import subprocess

import pytest

from tests.conftest import ROOT

SLIM_PYTHON_3_11 = re.compile(r"^python:3\.11-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|_KEY\b|ENCRYPT|DSN", re.I)
PIP_INSTALL = re.compile(r"\bpip\b.*\binstall\b")
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|make|build-essential|libpq-dev|python3-dev)\b")


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in joined.splitlines()
        if line.strip()
    ]


def stages() -> list[list[tuple[str, str]]]:
    """The build's stages, each starting with its FROM."""
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions((ROOT / "Dockerfile").read_text()):
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def arguments(stage, instruction: str) -> list[str]:
    return [args for name, args in stage if name == instruction]


def env(stage) -> dict[str, str]:
    return dict(pair.split("=", 1) for args in arguments(stage, "ENV") for pair in shlex.split(args))


def test_every_stage_builds_on_slim_python_3_11():
    assert len(stages()) >= 2  # build tools and caches stay in the build stage
    for stage in stages():
        image = stage[0][1].split()[0]
        assert SLIM_PYTHON_3_11.match(image), image


def test_the_image_runs_as_a_user_other_than_root():
    [user] = arguments(final_stage(), "USER")
    name, _, group = user.partition(":")
    assert name not in ("root", "0") and group not in ("root", "0")
    assert name.isdigit(), "a numeric user, so Kubernetes' runAsNonRoot can check it"


def test_dependencies_come_from_the_hashed_lock_only():
    installs = [args for stage in stages() for args in arguments(stage, "RUN") if PIP_INSTALL.search(args)]
    assert installs, "the Dockerfile installs nothing"
    for args in installs:
        assert "--require-hashes" in args and re.search(r"-r \S*requirements\.txt\b", args), args
        assert "requirements-dev" not in args
    assert not any(PIP_INSTALL.search(args) for args in arguments(final_stage(), "RUN"))
    assert any(args.startswith("--from=build /opt/venv") for args in arguments(final_stage(), "COPY"))


def test_no_build_tools_ship():
    for args in arguments(final_stage(), "RUN"):
        assert not BUILD_TOOLS.search(args), args


def test_static_files_are_collected_at_build_time():
    assert env(final_stage())["STATIC_ROOT"]
    assert any("manage.py collectstatic --noinput" in args for args in arguments(final_stage(), "RUN"))


def test_python_neither_buffers_output_nor_writes_bytecode_at_run_time():
    assert env(final_stage())["PYTHONUNBUFFERED"] == "1"
    assert env(final_stage())["PYTHONDONTWRITEBYTECODE"] == "1"


def test_no_secret_is_baked_in():
    for stage in stages():
        for name in [*env(stage), *(a.split("=")[0] for a in arguments(stage, "ARG"))]:
            assert not SECRET_NAME.search(name), name


def test_every_process_starts_through_the_entry_point():
    [entrypoint] = arguments(final_stage(), "ENTRYPOINT")
    assert entrypoint == '["/app/docker/entrypoint.sh"]'  # exec form: no shell in between
    assert arguments(final_stage(), "CMD") == ['["admin"]']


def dockerignore_patterns() -> list[tuple[re.Pattern, bool]]:
    """.dockerignore's patterns as regular expressions, each with whether it excludes (``!``: it
    includes again); they are anchored at the context's root, ``*`` stays within one path
    segment and ``**`` crosses them."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        regex = (
            re.escape(line.lstrip("!"))
            .replace(r"\*\*/", "(.*/)?")
            .replace(r"\*", "[^/]*")
            .replace(r"\?", "[^/]")
        )
        patterns.append((re.compile(regex + "(/.*)?$"), excludes))
    return patterns


def ignored(path: str) -> bool:
    """As Docker decides: the last pattern matching the path says."""
    verdict = False
    for pattern, excludes in dockerignore_patterns():
        if pattern.match(path):
            verdict = excludes
    return verdict


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("not a git checkout")
    return result.stdout.split()


@pytest.mark.processes
def test_the_build_context_has_the_application_and_no_local_state_or_secrets():
    files = tracked_files()
    not_shipped = {"tests", "bench", "sandbox", "demo"}
    packages = {path.split("/")[0] for path in files if path.endswith("/__init__.py")} - not_shipped
    needed = re.compile(
        rf"^({'|'.join(packages)}|docker|templates|locale)/|^(manage\.py|requirements\.txt|docs/api\.md)$"
    )
    missing = [path for path in files if needed.match(path) and ignored(path)]
    assert not missing, f".dockerignore leaves out what the image needs: {missing[:10]}"
    for path in (
        ".env",
        ".env.compose",
        ".git/config",
        ".venv/bin/python",
        "var/db.sqlite3",
        "orders/__pycache__/x.pyc",
        "docs/deployment.md",
    ):
        assert ignored(path), path


@pytest.mark.processes
def test_the_feishu_emulator_is_not_in_the_image():
    """The sandbox is for development, demos, tests and benchmarks: not one of its files is in the
    build context, so the image cannot install it (settings refuse FEISHU_SANDBOX=1 without it)."""
    emulator = [path for path in tracked_files() if path.startswith("sandbox/")]
    assert emulator, "the emulator moved: this test no longer looks at it"
    shipped = [path for path in emulator if not ignored(path)]
    assert not shipped, shipped
