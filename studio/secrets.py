"""Random identifiers, bearer tokens and stream keys, and how they are hashed for storage."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_id(prefix: str, length: int = 10) -> str:
    """Return an opaque id like ``ses_k3j4h5g6f7`` (unambiguous lowercase letters and digits)."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_secret(prefix: str) -> str:
    """Return a fresh secret with 256 bits of randomness, e.g. ``tgt_...`` or ``sk_...``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """Hash a high-entropy secret for storage (SHA-256 suffices: the secret is random)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def no_stream_key(session_id: str) -> str:
    """What a session without a stream key stores in place of a key's hash: unique to the
    session, and no key hashes to it (a hash is 64 hexadecimal digits)."""
    return f"none:{session_id}"


def same_secret(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())
