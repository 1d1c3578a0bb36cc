"""The long connection's frames: protobuf ``pbbp2.Frame`` (proto2), encoded by hand.

The message has nine scalar fields and one repeated key/value pair, and its schema has
not changed since the SDKs shipped it; a 100-line codec spares production the protobuf
runtime and its generated-code version checks. ``tests/feishu/test_longconn_frames.py``
checks it byte for byte against the official SDK's generated classes.

Proto2 ``required`` fields are always written, zeros included: the Python SDK re-encodes
a received frame to acknowledge it, and refuses to when one is missing (docs/feishu.md §12.4).
"""

from dataclasses import dataclass, field
from typing import cast, overload

CONTROL = 0  # method: ping / pong
DATA = 1  # method: event / card

# Header keys (ws/const.py of the SDK)
TYPE = "type"
MESSAGE_ID = "message_id"
SUM = "sum"
SEQ = "seq"
TRACE_ID = "trace_id"
BIZ_RT = "biz_rt"

PING = "ping"
PONG = "pong"
EVENT = "event"
CARD = "card"


class FrameError(ValueError):
    """Bytes that are not a frame."""


@dataclass
class Frame:
    seq_id: int = 0
    log_id: int = 0
    service: int = 0
    method: int = CONTROL
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload_encoding: str | None = None
    payload_type: str | None = None
    payload: bytes | None = None
    log_id_new: str | None = None

    @overload
    def header(self, key: str) -> str | None: ...
    @overload
    def header(self, key: str, default: str) -> str: ...
    def header(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.headers:
            if k == key:
                return v
        return default


# --- encoding -------------------------------------------------------------------------------
_SMALL = [bytes([i]) for i in range(128)]  # most varints here (tags, lengths, ids) are one byte


def _varint(value: int) -> bytes:
    if 0 <= value < 128:
        return _SMALL[value]
    if value < 0:
        value += 1 << 64  # int32/int64 negatives: ten bytes of two's complement
    out = bytearray()
    while value > 127:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _header(key: str, value: str) -> bytes:
    return _bytes_field(1, key.encode()) + _bytes_field(2, value.encode())


def encode(frame: Frame) -> bytes:
    out = [
        b"\x08",
        _varint(frame.seq_id),
        b"\x10",
        _varint(frame.log_id),
        b"\x18",
        _varint(frame.service),
        b"\x20",
        _varint(frame.method),
    ]
    out += [_bytes_field(5, _header(key, value)) for key, value in frame.headers]
    for number, text in ((6, frame.payload_encoding), (7, frame.payload_type)):
        if text is not None:
            out.append(_bytes_field(number, text.encode()))
    if frame.payload is not None:
        out.append(_bytes_field(8, frame.payload))
    if frame.log_id_new is not None:
        out.append(_bytes_field(9, frame.log_id_new.encode()))
    return b"".join(out)


# --- decoding -------------------------------------------------------------------------------
def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    if pos < len(data) and data[pos] < 128:
        return data[pos], pos + 1
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise FrameError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field; unknown ones are read and passed on.
    The value is an int for a varint (wire type 0), bytes for the others."""
    fields: list[tuple[int, int, int | bytes]] = []
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            size, pos = _read_varint(data, pos)
            if pos + size > end:
                raise FrameError("truncated field")
            value, pos = data[pos : pos + size], pos + size
        elif wire in (1, 5):  # fixed64 / fixed32: not in the schema, skipped
            width = 8 if wire == 1 else 4
            if pos + width > end:
                raise FrameError("truncated field")
            value, pos = data[pos : pos + width], pos + width
        else:
            raise FrameError(f"unsupported wire type {wire}")
        fields.append((number, wire, value))
    return fields


def _text(value: int | bytes, wire: int) -> str:
    if wire != 2:
        raise FrameError("a string field is not length-delimited")
    try:
        return cast(bytes, value).decode()  # wire type 2: bytes
    except UnicodeDecodeError as exc:
        raise FrameError("a string field is not UTF-8") from exc


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _header_pair(value: int | bytes, wire: int) -> tuple[str, str]:
    key = val = ""
    for n, w, v in _fields(cast(bytes, value) if wire == 2 else b""):
        if n == 1:
            key = _text(v, w)
        elif n == 2:
            val = _text(v, w)
    return key, val


def decode(data: bytes) -> Frame:
    frame = Frame()
    for number, wire, value in _fields(bytes(data)):
        if number == 5:
            frame.headers.append(_header_pair(value, wire))
        elif number in (1, 2, 3, 4):
            if wire != 0:
                raise FrameError(f"field {number} is not a varint")
            value = cast(int, value)  # wire type 0: an int
            if number == 1:
                frame.seq_id = value
            elif number == 2:
                frame.log_id = value
            elif number == 3:
                frame.service = _int32(value)
            else:
                frame.method = _int32(value)
        elif number == 6:
            frame.payload_encoding = _text(value, wire)
        elif number == 7:
            frame.payload_type = _text(value, wire)
        elif number == 8:
            if wire != 2:
                raise FrameError("payload is not length-delimited")
            frame.payload = bytes(cast(bytes, value))
        elif number == 9:
            frame.log_id_new = _text(value, wire)
    return frame


# --- the frames the two ends exchange ---------------------------------------------------------
def ping(service: int) -> Frame:
    return Frame(service=service, method=CONTROL, headers=[(TYPE, PING)])


def pong(service: int, payload: bytes | None = None) -> Frame:
    """``payload``: the client configuration as JSON, applied by the client at once."""
    return Frame(service=service, method=CONTROL, headers=[(TYPE, PONG)], payload=payload)


def data_frames(
    payload: bytes,
    *,
    seq_id: int,
    log_id: int,
    service: int,
    message_id: str,
    trace_id: str,
    chunk: int,
    kind: str = EVENT,
) -> list[Frame]:
    """One message as ``sum`` fragments of at most ``chunk`` bytes (``seq`` 0-based)."""
    parts = [payload[i : i + chunk] for i in range(0, len(payload), chunk)] or [b""]
    return [
        Frame(
            seq_id=seq_id,
            log_id=log_id,
            service=service,
            method=DATA,
            headers=[
                (TYPE, kind),
                (MESSAGE_ID, message_id),
                (SUM, str(len(parts))),
                (SEQ, str(i)),
                (TRACE_ID, trace_id),
            ],
            payload=part,
        )
        for i, part in enumerate(parts)
    ]


def ack(received: Frame, payload: bytes, handler_ms: int | None = None) -> Frame:
    """The answer to a data frame, as the SDK builds it: the same ids and headers, ``biz_rt``
    (the handler's milliseconds) on success, and the response JSON as the payload."""
    headers = list(received.headers)
    if handler_ms is not None:
        headers.append((BIZ_RT, str(handler_ms)))
    return Frame(
        seq_id=received.seq_id,
        log_id=received.log_id,
        service=received.service,
        method=received.method,
        headers=headers,
        payload=payload,
    )
