"""Debian's Chromium, driven by Playwright: whether this machine can run the browser tests.

Never ``playwright install``: it downloads a browser of its own, which fails here.
"""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
# No sandbox (tests run as root), no GPU, and no background calls to outside hosts, which
# this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_missing(chromium: str = CHROMIUM) -> str | None:
    """Why the browser tests cannot run on this machine, or None when they can."""
    if not os.access(chromium, os.X_OK):
        return f"{chromium} not found (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the playwright package cannot be imported ({exc}; pip install -r requirements-dev.txt)"
    return None


def refuse_to_run(reason: str):
    """Skip, unless this machine promised to run the browser tests (CI): then fail."""
    if os.environ.get("HIREOPS_BROWSER_TESTS") == "required":
        pytest.fail(f"HIREOPS_BROWSER_TESTS=required, but {reason}", pytrace=False)
    pytest.skip(f"browser tests need Chromium and Playwright: {reason}")
