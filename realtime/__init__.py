"""Realtime: the websocket protocol, the fan-out hub and the engines (memory, Redis).

How the parts fit: docs/architecture.md, "Realtime"; the wire protocol: docs/protocol.md.
"""
