"""Realtime: the websocket protocol, the fan-out hub and the engines (memory, Redis)."""
