"""Viewer passes: a signed, expiring proof of a viewer's id, with the display name it was issued
with (web/auth.py issues them, the websocket reads them). Pure.

The signed value is ``<viewer_id>`` or ``<viewer_id>~<name, base64url>``; passes issued before
names were carried have no ``~`` and read with no name. See docs/protocol.md, "Identity".
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from studio.errors import InvalidInput
from studio.interaction.chat import clean_name
from studio.signing import Signer

PURPOSE = "viewer"
_NAME_MARK = "~"


@dataclass(frozen=True, slots=True)
class PassHolder:
    """Who a valid pass names: the viewer id, and the display name it was issued with."""

    viewer_id: str
    name: str | None


def issue_pass(signer: Signer, viewer_id: str, name: str, expires: int) -> str:
    """A pass for ``viewer_id`` named ``name``, valid until ``expires`` (seconds since 1970)."""
    encoded = base64.urlsafe_b64encode(name.encode()).rstrip(b"=").decode()
    return signer.sign(PURPOSE, f"{viewer_id}{_NAME_MARK}{encoded}", expires)


def read_pass(signer: Signer, signed: str, now: int) -> PassHolder | None:
    """The holder of a pass, or None if it is forged, malformed or expired."""
    value = signer.unsign(PURPOSE, signed, now)
    if value is None:
        return None
    viewer_id, _, encoded = value.partition(_NAME_MARK)
    return PassHolder(viewer_id, _name(encoded) if encoded else None)


def _name(encoded: str) -> str | None:
    try:
        return clean_name(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, InvalidInput):
        return None
