"""The long connection's frame codec, checked against the official SDK's generated protobuf
classes (lark_oapi.ws.pb, a test dependency) and the byte vector seen on the wire."""

from importlib.util import find_spec

import pytest

from hireops.feishu.longconn import frames
from hireops.feishu.longconn.protocol import ClientConfig, ack_code, ack_payload

pytestmark = pytest.mark.skipif(find_spec("lark_oapi") is None, reason="the official SDK is not installed")


def pb():
    """The SDK's frame classes, imported by the tests (the SDK is 11,000 modules: not at
    collection)."""
    from lark_oapi.ws.pb import pbbp2_pb2

    return pbbp2_pb2


def sdk_frame(frame: frames.Frame):
    out = pb().Frame(SeqID=frame.seq_id, LogID=frame.log_id, service=frame.service, method=frame.method)
    for key, value in frame.headers:
        out.headers.add(key=key, value=value)
    if frame.payload is not None:
        out.payload = frame.payload
    return out


def test_the_sdk_ping_is_the_recorded_byte_vector():
    assert frames.encode(frames.ping(42)).hex() == "08001000182a20002a0c0a0474797065120470696e67"


@pytest.mark.parametrize(
    "frame",
    [
        frames.ping(42),
        frames.pong(7, b'{"PingInterval": 5}'),
        frames.Frame(seq_id=2**63, log_id=9, service=-1, method=1, headers=[("k", "值")], payload=b""),
        *frames.data_frames(
            "事件".encode() * 100, seq_id=7, log_id=8, service=42, message_id="m1", trace_id="t", chunk=64
        ),
    ],
)
def test_encoding_matches_the_sdk_and_decodes_back(frame):
    encoded = frames.encode(frame)
    assert encoded == sdk_frame(frame).SerializeToString()
    assert frames.decode(encoded) == frame


def test_a_frame_the_sdk_built_decodes_including_fields_we_never_write():
    sdk = pb().Frame(SeqID=1, LogID=2, service=3, method=1, payload_encoding="gzip", LogIDNew="x")
    sdk.headers.add(key="type", value="event")
    decoded = frames.decode(sdk.SerializeToString())
    assert (decoded.payload_encoding, decoded.log_id_new, decoded.header("type")) == ("gzip", "x", "event")
    assert frames.encode(decoded) == sdk.SerializeToString()


def test_fragments_are_numbered_from_zero_and_join_to_the_payload():
    payload = bytes(range(256)) * 3
    parts = frames.data_frames(
        payload, seq_id=1, log_id=1, service=1, message_id="m", trace_id="t", chunk=300
    )
    assert [(p.header("sum"), p.header("seq")) for p in parts] == [("3", "0"), ("3", "1"), ("3", "2")]
    assert b"".join(p.payload for p in parts) == payload


def test_the_ack_keeps_ids_and_headers_and_adds_the_handler_time():
    received = frames.data_frames(
        b"{}", seq_id=5, log_id=6, service=42, message_id="m", trace_id="t", chunk=9
    )[0]
    ack = frames.ack(received, ack_payload(200), handler_ms=3)
    assert (ack.seq_id, ack.log_id, ack.service, ack.method) == (5, 6, 42, frames.DATA)
    assert ack.headers == [*received.headers, ("biz_rt", "3")]
    assert ack_code(ack.payload) == 200
    assert ack_code(b'{"code": "200"}') is None and ack_code(b"not json") is None


@pytest.mark.parametrize(
    "garbage", [b"\x08", b"\x2a\x10\x0a", b"\x0f", b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"]
)
def test_bytes_that_are_not_a_frame_raise_frame_error(garbage):
    with pytest.raises(frames.FrameError):
        frames.decode(garbage)


def test_client_config_keeps_what_is_missing_or_invalid():
    base = ClientConfig(PingInterval=5)
    got = ClientConfig.from_json({"PingInterval": 2, "ReconnectNonce": "x", "ReconnectInterval": -3}, base)
    assert got == ClientConfig(PingInterval=2)
    assert ClientConfig.from_json(None, base) is base
