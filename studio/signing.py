"""Signed, expiring values for cookies (viewer passes, CSRF tokens). Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac


class Signer:
    """Signs and checks short values with a key shared by every node (kept in the store)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def mac(self, purpose: str, value: str) -> str:
        """A URL-safe MAC binding ``value`` to ``purpose``."""
        digest = hmac.new(self._key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, purpose: str, value: str, expires: int) -> str:
        """``value.expires.mac`` — ``value`` must not contain dots."""
        if "." in value:
            raise ValueError("signed values must not contain dots")
        return f"{value}.{expires}.{self.mac(purpose, f'{value}.{expires}')}"

    def unsign(self, purpose: str, signed: str, now: int) -> str | None:
        """The value of a signed string, or None if forged, malformed or expired."""
        value, _, rest = signed.partition(".")
        expires, _, mac = rest.partition(".")
        if not value or not expires.isdigit() or int(expires) < now:
            return None
        if not hmac.compare_digest(mac, self.mac(purpose, f"{value}.{expires}")):
            return None
        return value
