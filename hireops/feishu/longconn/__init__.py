"""Feishu's long connection (长连接): events over a WebSocket the app opens itself.

``frames`` is the wire format both ends speak (the listener, ``client``, and the sandbox),
``protocol`` the rest of what the two ends agree on. Facts: ../shared/docs/feishu-api-2.md §6
and docs/feishu.md §15.
"""
