"""Without Chromium or Playwright the browser tests skip, unless CI requires them: then they fail."""

import sys

import pytest

from .chromium import browser_missing, refuse_to_run


def test_a_missing_browser_or_font_is_named(tmp_path):
    assert browser_missing(str(tmp_path / "chromium")) == (
        f"{tmp_path / 'chromium'} not found (apt-get install chromium fonts-noto-cjk)"
    )
    assert browser_missing(sys.executable, str(tmp_path / "font.ttc")).startswith(
        f"{tmp_path / 'font.ttc'} not found: Chinese would show as boxes"
    )


def test_browser_tests_skip_where_they_cannot_run(monkeypatch):
    monkeypatch.delenv("HIREOPS_BROWSER_TESTS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="need Chromium and Playwright: no browser"):
        refuse_to_run("no browser")


def test_browser_tests_fail_where_they_are_required(monkeypatch):
    monkeypatch.setenv("HIREOPS_BROWSER_TESTS", "required")
    with pytest.raises(pytest.fail.Exception, match="HIREOPS_BROWSER_TESTS=required, but no browser"):
        refuse_to_run("no browser")
