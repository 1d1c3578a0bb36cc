"""What the demo's seeds know of the Feishu they run against: the sandbox's, whose directory
file (``SANDBOX_DIRECTORY_FILE``; ./dev run's is sandbox/data/demo.json) they mirror, and
whose state file says whether it still has what the demo sent it before.

The demo is installed with the sandbox only (``FEISHU_SANDBOX=1``), so it reads the emulator's
directory as the emulator does, with no hook between the two.
"""

from pathlib import Path

from django.conf import settings

from sandbox.state import DEMO_DIRECTORY, load_directory


def feishu_keeps_state() -> bool:
    """Whether the sandbox will start from a saved state (``SANDBOX_STATE_FILE`` exists: it
    appears at its first change), so it has what the demo sent it before."""
    path = settings.SANDBOX_STATE_FILE
    return bool(path) and Path(path).exists()


def directory() -> dict:
    """The Feishu directory the demo runs against (tenants, employees, referral accounts), as
    the sandbox reads it."""
    return load_directory(settings.SANDBOX_DIRECTORY_FILE or DEMO_DIRECTORY)
