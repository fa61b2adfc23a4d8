"""The HLS cache benchmark's arithmetic (pure): lags behind the origin, percentiles, rates."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Part fetches as the players report them: URI -> [(when complete, seconds it took), ...].
Fetches = Mapping[str, Sequence[Sequence[float]]]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank) of ``values``; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def merge(fetches: Sequence[Fetches]) -> dict[str, list[tuple[float, float]]]:
    """The fetches of several player processes together."""
    merged: dict[str, list[tuple[float, float]]] = {}
    for one in fetches:
        for uri, pairs in one.items():
            merged.setdefault(uri, []).extend((float(p[0]), float(p[1])) for p in pairs)
    return merged


def behind_origin(fetches: Fetches, listed_at: Mapping[str, float]) -> list[float]:
    """For each part a player has, the seconds since the origin first listed it (only parts
    the origin watcher saw listed)."""
    lags: list[float] = []
    for uri, pairs in fetches.items():
        at = listed_at.get(uri)
        if at is not None:
            lags += [max(0.0, float(p[0]) - at) for p in pairs]
    return lags


def fetch_times(fetches: Fetches) -> list[float]:
    """How long each part request took."""
    return [float(p[1]) for pairs in fetches.values() for p in pairs]


def coverage(
    fetches: Fetches, listed_at: Mapping[str, float], players: int, window: tuple[float, float]
) -> float:
    """The share of (player, part listed within ``window``) pairs the players fetched: 1.0
    when every player kept up with every part."""
    start, end = window
    listed = {uri for uri, at in listed_at.items() if start <= at <= end}
    if not listed or players == 0:
        return 0.0
    got = sum(len(fetches.get(uri, ())) for uri in listed)
    return min(1.0, got / (len(listed) * players))


def request_kind(path: str) -> str:
    """What an HLS request asks for: ``multivariant``, ``blocking reload``, ``playlist``,
    ``part or segment``, or ``other``."""
    uri, _, query = path.partition("?")
    if uri.endswith("/index.m3u8"):
        return "multivariant"
    if uri.endswith(".m3u8"):
        return "blocking reload" if "_HLS_msn=" in query else "playlist"
    if uri.endswith((".m4s", ".mp4", ".ts")):
        return "part or segment"
    return "other"


def nginx_log_kinds(text: str) -> dict[str, int]:
    """Lines of nginx's access log (deploy/nginx.conf.template's ``torget`` format: requests
    that were not cache hits), counted by ``<kind> <status> cache=<status>``."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        try:
            request = line.split('"', 2)[1]
            status = line.split('"', 2)[2].split()[0]
        except IndexError:
            continue
        cache = line.rsplit("cache=", 1)[-1].strip() if "cache=" in line else "-"
        key = f"{request_kind(request.split()[1])} {status} cache={cache}"
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class Figures:
    """One run: ``players`` players for ``seconds`` of measuring window."""

    players: int
    seconds: float
    origin_requests: int  # requests the node holding the media answered (watcher's removed)
    forwarded: int  # of those, requests the other node forwarded to it
    player_requests: int
    part_p50: float | None
    part_p99: float | None
    behind_p50: float | None
    behind_p99: float | None
    coverage: float
    part_target: float
    errors: int
    cpu: Mapping[str, float]  # cores used: nginx, nodes, players
    machine_busy: float | None
    reached_nodes: Mapping[str, int] = field(default_factory=dict)  # nginx log, by kind
    player_errors: Mapping[str, int] = field(default_factory=dict)

    @property
    def origin_per_second(self) -> float:
        return self.origin_requests / self.seconds if self.seconds else 0.0

    @property
    def player_per_second(self) -> float:
        return self.player_requests / self.seconds if self.seconds else 0.0
