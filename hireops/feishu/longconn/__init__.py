"""Feishu's long connection (长连接): events over a WebSocket the app opens itself.

``frames`` is the wire format both ends speak (the listener, ``client``, and the sandbox),
``protocol`` the rest of what the two ends agree on. Facts: docs/feishu.md §12 (the
protocol, from the SDK's source) and §15 (what the sandbox chose where it is unconfirmed).
"""
