"""kombu's filesystem broker (the embedded default: ``./dev run``, the tests), with each message
written whole before it appears.

kombu creates a message's file under its final name, then writes it. A worker polling the
folder can take the file in between (it renames it away and reads it unlocked): it reads an
empty or half-written message, fails to decode it and stops, and ``./dev run`` stops with it
(honcho ends every process when one exits); the message is lost. Here the message is written
under a name no reader takes (``.<name>.part``: a reader takes only ``<time>_<id>.<queue>.msg``)
and renamed to its final name once whole, which a reader sees at once or not at all.

A folder has no host: the transport names none by default, so kombu does not warn "No hostname
was supplied" at every connection. The settings name this transport for a ``filesystem://``
broker (``CELERY_BROKER_TRANSPORT``).
"""

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # kombu's filesystem channel names it payload (with **kwargs), unlike its base's message.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """Put ``payload`` on ``queue``: kombu's file name and content, written aside and
        renamed into place."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel

    @property
    def default_connection_params(self):
        return {}
