"""What the demo's seeds (``manage.py bootstrap_demo`` runs each app's ``demo.seed``) need to
know of the Feishu they run against, without the product importing the emulator.

The sandbox app plugs its directory in at start-up (``SandboxConfig.ready``); where no sandbox
is installed (production) nothing is plugged in and the apps' seeds find no directory.
"""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

_directory: Callable[[], dict] | None = None


def feishu_keeps_state() -> bool:
    """Whether the sandbox will start from a saved state (``SANDBOX_STATE_FILE`` exists: it
    appears at its first change), so it has what the demo sent it before."""
    path = settings.SANDBOX_STATE_FILE
    return bool(path) and Path(path).exists()


def provide_directory(loader: Callable[[], dict] | None) -> None:
    """``loader()`` returns the Feishu directory the demo runs against (tenants, employees,
    referral accounts), as the sandbox reads it."""
    global _directory
    _directory = loader


def directory() -> dict | None:
    return _directory() if _directory is not None else None
