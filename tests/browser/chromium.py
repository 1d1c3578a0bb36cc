"""Debian's Chromium (with CJK fonts), driven by Playwright: can this machine run the browser tests?

Never ``playwright install``: it downloads a browser of its own, which fails here.
"""

import os

import pytest

# Debian's old headless shell where it is installed (.ci/run installs it): the same Blink as
# chromium, without the full browser's windowing, and the build Playwright itself runs headless
# tests in. The admin crawl costs it about a quarter less CPU (benchmarks.md).
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
CHROMIUM = HEADLESS_SHELL if os.access(HEADLESS_SHELL, os.X_OK) else "/usr/bin/chromium"
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"  # without it Chinese shows as boxes
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


def browser_missing(chromium: str = CHROMIUM, cjk_font: str = CJK_FONT) -> str | None:
    """Why the browser tests cannot run on this machine, or None when they can."""
    if not os.access(chromium, os.X_OK):
        return f"{chromium} not found (apt-get install chromium fonts-noto-cjk)"
    if not os.path.exists(cjk_font):
        return f"{cjk_font} not found: Chinese would show as boxes (apt-get install fonts-noto-cjk)"
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
