"""Several WebSocket messages in one write to the socket.

``websockets``' ``send`` writes and drains once per message: a system call and a trip through
its send context per frame. A burst of events (the sandbox) or of acknowledgements (the
listener, a batch committed together) goes out here as one write and one drain instead; the
bytes on the wire are the same frames, in order.
"""

from collections.abc import Iterable

from websockets.asyncio.connection import Connection


async def send_many(ws: Connection, messages: Iterable[bytes]) -> None:
    """Send each of ``messages`` as a binary message; raises ``ConnectionClosed`` as ``send`` does."""
    async with ws.send_context():  # checks the connection is open; drains on the way out
        for message in messages:
            ws.protocol.send_binary(message)
        chunks = ws.protocol.data_to_send()
        data = b"".join(chunks)
        if data:
            ws.transport.write(data)
        if not all(chunks) and ws.transport.can_write_eof():  # b"": the protocol's half-close
            ws.transport.write_eof()
