"""Restream destination URLs: the check, where a push may connect, the masked form an API
shows, the scrubbing of logs.

A destination must be ``rtmp://`` or ``rtmps://`` with a host and a path; its stream key (the
last path segment, any query, any password) is shown only masked and scrubbed from every text
that could reach a log or an API answer (ffmpeg prints the URL in its errors).

A push connects only to public addresses: never to loopback, link-local (cloud metadata at
169.254.169.254), private or other non-public ranges, nor to this node's own RTMP ingest,
unless the operator allows the host (``Reach.hosts``, ``Reach.networks``). ``Reach.refusal``
decides it from the addresses the host resolved to (``restream.reach`` resolves). Pure.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from streaming.errors import InvalidArgument
from streaming.ffmpeg_args import redact_url

MAX_URL = 1024
MASK = "••••"
URL_PROBLEM = (
    "must be an rtmp:// or rtmps:// URL with a host and a path, "
    "like rtmp://a.rtmp.youtube.com/live2/<stream key>"
)
_SCHEMES = frozenset({"rtmp", "rtmps"})
DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443}
ALLOWED_SETTING = "[media] restream_allowed_hosts"
OWN_INGEST = "must not point at this server's own RTMP ingest"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check_push_url(url: str) -> str:
    """Return ``url`` if it can be a restream destination; raise ``InvalidArgument`` if not."""
    if len(url) > MAX_URL:
        raise InvalidArgument("url", f"must be at most {MAX_URL} characters")
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidArgument("url", URL_PROBLEM)
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when the port is not a number in range
    except ValueError:
        raise InvalidArgument("url", URL_PROBLEM) from None
    if (
        parts.scheme not in _SCHEMES
        or not parts.hostname
        or not parts.path.strip("/")
        or parts.fragment
    ):
        raise InvalidArgument("url", URL_PROBLEM)
    return url


def url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that are secret: the stream key (last path segment), the query and
    any user name and password, longest first."""
    parts = urlsplit(url)
    found = [parts.path.rstrip("/").rpartition("/")[2], parts.query]
    with contextlib.suppress(ValueError):
        found += [parts.username or "", parts.password or ""]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL redacted and every secret part of it replaced by ``***``."""
    text = text.replace(url, redact_url(url))
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text


def mask_url(url: str) -> str:
    """The URL as an API may show it: no credentials, the stream key masked but for its last
    four characters when it is long enough (``rtmp://host/live2/••••abcd``), no query."""
    parts = urlsplit(url)
    head, _, key = parts.path.rstrip("/").rpartition("/")
    if not key:
        shown = parts.path
    elif len(key) >= 12:
        shown = f"{head}/{MASK}{key[-4:]}"
    else:
        shown = f"{head}/{MASK}"
    netloc = parts.hostname or ""
    with contextlib.suppress(ValueError):
        if parts.port:
            netloc += f":{parts.port}"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{netloc}{shown}{query}"


def push_endpoint(url: str) -> tuple[str, int]:
    """The host (lowercase, without brackets) and port a push to ``url`` connects to."""
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 1935)


def address_kind(address: str) -> str | None:
    """Why ``address`` is not public (``loopback``, ``link-local``, ``private``, ...), or None
    for a public address. An IPv4 address written as IPv6 (``::ffff:127.0.0.1``) is unwrapped."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("not public", not ip.is_global),
    ):
        if flag:
            return kind
    return None


@dataclass(frozen=True)
class Reach:
    """Where pushes may connect besides public addresses, and where they never may.

    ``hosts``: host names (lowercase) a push may reach whatever they resolve to; ``networks``:
    addresses and ranges it may reach; ``ingest``: this node's RTMP ingest as (host name or
    address, port) pairs, refused unless allowed (a push into itself: a relay into another
    session of this node is the one use).
    """

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()
    ingest: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def allowing(cls, allowed: Sequence[str], ingest: Collection[tuple[str, int]] = ()) -> Reach:
        """Rules from the setting's entries: host names, addresses or CIDR ranges."""
        hosts: set[str] = set()
        networks: list[Network] = []
        for entry in allowed:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower())
        pairs = frozenset((host.strip("[]").lower(), port) for host, port in ingest)
        return cls(frozenset(hosts), tuple(networks), pairs)

    def refusal(
        self,
        host: str,
        port: int,
        addresses: Sequence[str],
        ingest_addresses: Collection[tuple[str, int]] = (),
    ) -> str | None:
        """Why a push to ``host``:``port``, which resolved to ``addresses``, must not connect
        (a sentence to follow ``url:``), or None when it may. ``ingest_addresses``: what this
        node's ingest names resolved to, as (address, port)."""
        if host in self.hosts or (addresses and all(self._allows(a) for a in addresses)):
            return None
        own = self.ingest | frozenset(ingest_addresses)
        if (host, port) in own or any((a, port) in own for a in addresses):
            return OWN_INGEST
        for address in addresses:
            kind = address_kind(address)
            if kind is not None and not self._allows(address):
                return (
                    f"must not point at an internal address ({address} is {kind}); an "
                    f"administrator can allow the host in {ALLOWED_SETTING}"
                )
        return None

    def _allows(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return any(ip in network for network in self.networks if network.version == ip.version)


def pinned_url(url: str, address: str) -> str:
    """``url`` with its host replaced by ``address`` (brackets for IPv6), port kept: the push
    connects to the address that was checked, not to what a name resolves to later."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    if parts.username is not None:
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def tc_url(url: str) -> str:
    """The RTMP ``tcUrl`` ffmpeg announces for a push to ``url`` (scheme, host, port and the
    application, the path's first segment), to keep announcing it when the push is pinned."""
    host, port = push_endpoint(url)
    parts = urlsplit(url)
    shown = f"[{host}]" if ":" in host else host
    app = parts.path.lstrip("/").split("/", 1)[0]
    return f"{parts.scheme}://{shown}:{port}/{app}"
