"""A long-connection listener's state: as its heartbeat row stores it, for machines ("connected",
or "disconnected: <reason>" with the reason hireops.feishu.longconn gives, in English, as logs
and /readyz show it), and as people read it on the admin's pages, in their language."""

import re

from django.utils.translation import gettext, gettext_noop

CONNECTED = "connected"
DISCONNECTED = "disconnected: "

# The reasons hireops.feishu.longconn.client gives, matched whole; the technical rest of one
# (an exception's name, Feishu's answer) is kept as it is.
_REASONS = tuple(
    (re.compile(pattern), msgid)
    for pattern, msgid in (
        (r"starting", gettext_noop("starting")),
        (r"stopping", gettext_noop("stopping")),
        (r"stopped", gettext_noop("stopped")),
        (r"connection dropped", gettext_noop("the connection dropped")),
        (r"closed by Feishu", gettext_noop("Feishu closed the connection")),
        (
            r"closed by Feishu \(code (?P<code>\d+)\)",
            gettext_noop("Feishu closed the connection (code %(code)s)"),
        ),
        (r"silent: silent for (?P<seconds>\d+) s", gettext_noop("no word from Feishu for %(seconds)s s")),
        (r"(?:connection|handshake) failed: (?P<detail>.+)", gettext_noop("could not connect (%(detail)s)")),
        (r"handshake refused: (?P<detail>.+)", gettext_noop("Feishu refused the connection (%(detail)s)")),
        (r"(?P<detail>discovery.+)", gettext_noop("Feishu gave no address to connect to (%(detail)s)")),
    )
)


def stored(connected: bool, reason: str) -> str:
    """The row's ``state`` (machines compare it with ``CONNECTED``)."""
    return CONNECTED if connected else DISCONNECTED + reason


def describe(state: str) -> str:
    """The stored state in the reader's language: "connected", or "not connected: why"."""
    if state == CONNECTED:
        return gettext("connected")
    if not state.startswith(DISCONNECTED):
        return state
    reason = state.removeprefix(DISCONNECTED)
    for pattern, msgid in _REASONS:
        found = pattern.fullmatch(reason)
        if found:
            reason = gettext(msgid) % found.groupdict() if found.groupdict() else gettext(msgid)
            break
    return gettext("not connected: %(reason)s") % {"reason": reason}
