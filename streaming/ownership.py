"""Which node holds a session's media, decided without I/O (the adapter is ``owners``).

``proxy_target``: answer here when there is no owner, when this node is the owner, or when the
owner's row is stale (``STALE_AFTER_S``); else forward to the owner's URL. Which headers cross
(``proxy_request_headers``/``proxy_response_headers``) and ``Echoes`` (changes this node
announced). See ``docs/architecture.md`` ("Media across nodes").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

STALE_AFTER_S = 15.0
REFRESH_EVERY_S = 5.0
PROXIED_HEADER = "X-Torget-Proxied"
NODE_HEADER = "X-Torget-Media-Node"

# What a proxied request carries to the owner (the rest, hop-by-hop headers above all, stays).
REQUEST_HEADERS = (
    "Accept",
    "Authorization",
    "Content-Type",
    "Cookie",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "Range",
    "User-Agent",
    "X-Forwarded-Proto",
)
# What the owner's answer carries back to the viewer.
RESPONSE_HEADERS = (
    "Accept-Ranges",
    "Cache-Control",
    "Content-Disposition",
    "Content-Range",
    "Content-Type",
    "ETag",
    "Last-Modified",
    "Location",
    "Retry-After",
)


class OwnerRow(Protocol):
    """A row of ``media_owners`` (``studio.store.MediaOwnerRecord``)."""

    @property
    def node_url(self) -> str:
        """The owner's internal base URL."""

    @property
    def updated_at(self) -> datetime:
        """When the owner last confirmed the row."""


def is_stale(row: OwnerRow, now: datetime, stale_after: float = STALE_AFTER_S) -> bool:
    """Whether the owner has not confirmed the row for longer than ``stale_after`` seconds."""
    return now - row.updated_at > timedelta(seconds=stale_after)


def proxy_target(
    row: OwnerRow | None, me: str, now: datetime, stale_after: float = STALE_AFTER_S
) -> str | None:
    """The owner's URL to forward a media request to, or None to answer here."""
    if row is None or same_node(row.node_url, me) or is_stale(row, now, stale_after):
        return None
    return row.node_url.rstrip("/")


def same_node(a: str, b: str) -> bool:
    """Whether two node URLs name the same node (a trailing slash or case makes no odds)."""
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def proxy_request_headers(
    incoming: Iterable[tuple[str, str]], client_address: str
) -> dict[str, str]:
    """The headers a forwarded request carries: the allowed ones, the viewer's address appended
    to ``X-Forwarded-For`` (the owner takes the last entry, from a private peer), the mark that
    stops the owner from forwarding again."""
    allowed = {name.lower(): name for name in REQUEST_HEADERS}
    out: dict[str, str] = {}
    forwarded: list[str] = []
    for name, value in incoming:
        key = name.lower()
        if key == "x-forwarded-for":
            forwarded.append(value)
        elif key in allowed and allowed[key] not in out:
            out[allowed[key]] = value
    forwarded.append(client_address)
    out["X-Forwarded-For"] = ", ".join(forwarded)
    out[PROXIED_HEADER] = "1"
    return out


def proxy_response_headers(upstream: Mapping[str, str], node_url: str) -> dict[str, str]:
    """The headers of the owner's answer passed back, plus the owner's mark."""
    out = {name: upstream[name] for name in RESPONSE_HEADERS if name in upstream}
    out[NODE_HEADER] = node_url
    return out


class Echoes:
    """Session changes this node announced, so that their copy coming back through the realtime
    engine is told apart from a change made on another node (bounded: the oldest are dropped)."""

    def __init__(self, limit: int = 1000) -> None:
        self._sent: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._limit = limit

    def sent(self, session_id: str, state: str) -> None:
        """This node announces ``session_id`` now in ``state``."""
        key = (session_id, state)
        self._sent[key] = self._sent.get(key, 0) + 1
        self._sent.move_to_end(key)
        while len(self._sent) > self._limit:
            self._sent.popitem(last=False)

    def is_echo(self, session_id: str, state: str) -> bool:
        """Whether this change is one this node announced (each announcement answers once)."""
        key = (session_id, state)
        count = self._sent.get(key, 0)
        if count == 0:
            return False
        if count == 1:
            del self._sent[key]
        else:
            self._sent[key] = count - 1
        return True
