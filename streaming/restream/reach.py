"""Resolve a restream destination's host and apply ``urls.Reach`` to what it resolved to.

Checked when an operator adds a destination (a refusal is ``InvalidArgument``, 422 naming
``url``) and again before every push attempt, so a name that resolves differently later is
caught; a plain ``rtmp://`` push then connects to the address that was checked (``pinned``),
not to what the name resolves to a moment later. (``rtmps://`` keeps the name, which TLS needs;
an internal service rarely completes a TLS handshake.)
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from streaming.restream.urls import Reach, pinned_url, push_endpoint

Resolve = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT = 5.0


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (an address resolves to itself); empty when it does
    not resolve within ``RESOLVE_TIMEOUT`` seconds."""
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Checked:
    """What the check of a destination found: why it is refused, or the URL to push to."""

    refusal: str | None
    addresses: tuple[str, ...]
    url: str

    @property
    def resolved(self) -> bool:
        """Whether the host resolved at all."""
        return bool(self.addresses)


async def check_destination(url: str, reach: Reach, lookup: Resolve = resolve) -> Checked:
    """Resolve the destination and this node's ingest names; apply ``reach``.

    A host that does not resolve is not refused here (nothing was learnt about it); the push
    then fails to connect, and its next attempt checks again.
    """
    host, port = push_endpoint(url)
    addresses = tuple(await lookup(host, port))
    ingest = {
        (address, ingest_port)
        for ingest_host, ingest_port in reach.ingest
        for address in await lookup(ingest_host, ingest_port)
    }
    refusal = reach.refusal(host, port, addresses, ingest)
    pushed = url
    if refusal is None and addresses and url.startswith("rtmp://"):
        pushed = pinned_url(url, addresses[0])
    return Checked(refusal, addresses, pushed)
