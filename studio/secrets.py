"""Random identifiers, bearer tokens and stream keys, and how they are hashed for storage."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
# Each random byte picks a letter by its low five bits (32 letters: every one equally likely);
# one read of the system's randomness and a table look-up, not a call per letter (every
# websocket viewer gets an id: a join storm makes thousands a second).
_ID_TABLE = bytes(_ID_ALPHABET[b % len(_ID_ALPHABET)].encode()[0] for b in range(256))


def new_id(prefix: str, length: int = 10) -> str:
    """Return an opaque id like ``ses_k3j4h5g6f7`` (unambiguous lowercase letters and digits)."""
    return prefix + "_" + secrets.token_bytes(length).translate(_ID_TABLE).decode()


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
