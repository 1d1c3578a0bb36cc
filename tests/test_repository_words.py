"""The repository speaks of the project, not of who worked on it when: no tracked file (code,
comments, tests, docs) names a work session by its number, a machine after such a session, or a
numbered issue of the project's tracker. A reader has neither; the reason itself, or the machine
described by what it is (its cores, its single-thread probe), says what they would point to.
(The examples below are written in two halves, so that this file passes its own test.)"""

import re
import subprocess

import pytest

from tests.conftest import ROOT

ORDINAL = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
WORDS = {
    "a work session by its number": re.compile(rf"\b({ORDINAL})(\s+and\s+({ORDINAL}))?\s+sessions?\b", re.I),
    "a machine named after a session": re.compile(r"\bsessions?'s?\s+machines?\b", re.I),
    "a numbered issue": re.compile(r"\bissues?\s+#?\d+", re.I),
    "the tracker's issue": re.compile(r"\b(the|this|that)\s+issue's\b", re.I),
}
# Text, not data: where a sentence can be written.
TEXT = re.compile(
    r"\.(py|md|txt|toml|cfg|ini|in|ya?ml|html|sh|css|js|po)$|(^|/)(dev|run|Dockerfile|Procfile)$"
)


def tracked_text_files() -> list[str]:
    result = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("not a git checkout")
    return [path for path in result.stdout.splitlines() if TEXT.search(path)]


@pytest.mark.processes  # git ls-files
def test_the_enumeration_reads_the_code_the_docs_and_the_tests():
    files = set(tracked_text_files())
    assert {
        "README.md",
        "docs/benchmarks.md",
        "pyproject.toml",
        "dev",
        "tests/test_repository_words.py",
    } <= files
    assert any(path.startswith("hireops/") and path.endswith(".py") for path in files)


@pytest.mark.parametrize(("what", "pattern"), WORDS.items(), ids=list(WORDS))
def test_the_pattern_catches_what_it_names(what, pattern):
    examples = {
        "a work session by its number": [
            "the Tenth " + "session's " + "machine",
            "first and second " + "sessions",
        ],
        "a machine named after a session": ["the session's " + "machine", "on the sessions' " + "machines"],
        "a numbered issue": ["(Issue " + "46)", "issue " + "#45", "issues " + "31"],
        "the tracker's issue": ["the issue" + "'s case", "This issue" + "'s rule"],
    }[what]
    for example in examples:
        assert pattern.search(example), example
    # A login session and a third-party tracker's address are not what it looks for.
    for fine in [
        "this session's sign-in",
        "the session's row",
        "github.com/go-lark/lark/issues/28",
        "the issuer's key",
        "the issues list of a library",
    ]:
        assert not pattern.search(fine), fine


@pytest.mark.processes  # git ls-files
def test_no_tracked_file_speaks_of_work_sessions_or_numbered_issues():
    found = []
    for path in tracked_text_files():
        try:
            text = (ROOT / path).read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            continue  # deleted in the work tree, or not text after all
        for number, line in enumerate(text.splitlines(), 1):
            for what, pattern in WORDS.items():
                if pattern.search(line):
                    found.append(f"{path}:{number}: {what}: {line.strip()[:120]}")
    assert not found, "say the reason itself:\n" + "\n".join(found)
