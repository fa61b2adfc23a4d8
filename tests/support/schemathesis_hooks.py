"""Schemathesis hooks for the fuzz run (loaded with ``SCHEMATHESIS_HOOKS``): bodies of media
types schemathesis has no serializer for."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/sdp")
def sdp(ctx: Any, value: Any) -> bytes:
    """WHIP/WHEP offers are SDP text: send the generated string as it is."""
    return value.encode() if isinstance(value, str) else str(value).encode()
