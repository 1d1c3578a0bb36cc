"""What the listener and Feishu agree on besides frames: discovery, client configuration,
handshake refusals, acknowledgements (docs/feishu.md §12.2, §12.3, §12.6)."""

import json
from dataclasses import asdict, dataclass

ENDPOINT_PATH = "/callback/ws/endpoint"

# Discovery answers (``code`` in the JSON body; ws/const.py of the SDK)
OK = 0
SYSTEM_BUSY = 1
FORBIDDEN = 403
AUTH_FAILED = 514
INTERNAL_ERROR = 1000040343
NO_CREDENTIAL = 1000040344
EXCEED_CONN_LIMIT = 1000040350
RETRYABLE_CODES = frozenset({SYSTEM_BUSY, INTERNAL_ERROR})

# A refused WebSocket handshake carries these headers on its non-101 answer.
H_STATUS = "handshake-status"
H_MSG = "handshake-msg"
H_AUTH_CODE = "handshake-autherrcode"

ACK_TIMEOUT = 3.0  # seconds Feishu waits for an acknowledgement before it counts a failure
ACK_OK = 200
ACK_FAILED = 500
MAX_CONNECTIONS = 50  # per app


@dataclass(frozen=True)
class ClientConfig:
    """The server's wishes, in seconds (``ReconnectCount`` −1: retry forever). Sent by
    discovery and optionally in a pong; the SDK's defaults when absent."""

    ReconnectCount: int = -1  # Feishu's JSON names, as sent
    ReconnectInterval: int = 120
    ReconnectNonce: int = 30
    PingInterval: int = 120

    @classmethod
    def from_json(cls, data: object, base: "ClientConfig | None" = None) -> "ClientConfig":
        """Read what is there and valid; keep ``base`` (or the defaults) for the rest."""
        base = base or cls()
        if not isinstance(data, dict):
            return base
        values = asdict(base)
        for name in values:
            value = data.get(name)
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (value >= 0 or name == "ReconnectCount")
            ):
                values[name] = value
        return cls(**values)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()


def ack_payload(code: int) -> bytes:
    return json.dumps({"code": code}).encode()


def ack_code(payload: bytes | None) -> int | None:
    """The ``code`` of an acknowledgement's JSON, or None when it is not one."""
    try:
        data = json.loads(payload or b"")
    except ValueError:
        return None
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, int) else None
