"""Simulated LL-HLS players, as hls.js plays in low-latency mode (one process of the bench).

``python -m bench.hlscache.players --port P --session S --players N ...`` runs N players
through nginx and prints one JSON line: every part fetched within the measuring window (its
URI, when it was complete and how long its request took), request and error counts, and the
process's CPU seconds. Each player:

1. loads the multivariant playlist, then the media playlist of the source rendition;
2. starts at the newest independent part, as hls.js does at the live edge;
3. fetches every part listed after the last it has, one after the other, then asks for the
   playlist that lists the next part (a blocking reload, ``_HLS_msn`` / ``_HLS_part``), and so
   on; every request carries its ``?v=<viewer id>``, as the Torget player's do.

Players start spread over ``--ramp`` seconds. Times are ``time.monotonic()`` (one clock for
every process on the machine), so the bench compares them with when the origin listed a part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.hlscache.http import Connection, HttpError
from bench.media.playlist import MediaPlaylist, parse_media

HOST = "127.0.0.1"


@dataclass
class Record:
    """What the players of this process saw."""

    measure_from: float
    parts: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    requests: int = 0  # within the measuring window
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    skipped: int = 0

    def part(self, uri: str, started: float, done: float) -> None:
        if done >= self.measure_from:
            self.parts.setdefault(uri, []).append((done, done - started))


class Playlists:
    """Parses each playlist body once for every player of the process (they get the same)."""

    def __init__(self) -> None:
        self._parsed: dict[bytes, MediaPlaylist] = {}

    def parse(self, body: bytes) -> MediaPlaylist:
        found = self._parsed.get(body)
        if found is None:
            if len(self._parsed) > 256:
                self._parsed.pop(next(iter(self._parsed)))
            found = self._parsed[body] = parse_media(body.decode())
        return found


def start_point(listed: MediaPlaylist) -> tuple[int, int]:
    """(MSN, part index) just before the newest independent part: where a player starts."""
    start: tuple[int, int] | None = None
    for segment in listed.segments:
        for index, part in enumerate(segment.parts):
            if part.independent:
                start = (segment.msn, index)
    if start is None:
        return listed.media_sequence - 1, 0
    return start[0], start[1] - 1


@dataclass
class Player:
    """One viewer following the source rendition in low-latency mode."""

    viewer: str
    base: str  # /hls/<session>/
    until: float
    record: Record
    playlists: Playlists
    connection: Connection

    async def get(self, path: str) -> tuple[int, bytes]:
        separator = "&" if "?" in path else "?"
        status, body, _ = await self.connection.get(f"{path}{separator}v={self.viewer}")
        if self.record.measure_from <= time.monotonic() <= self.until:
            self.record.requests += 1
        self.record.statuses[str(status)] += 1
        return status, body

    async def media_playlist(self, query: str = "") -> MediaPlaylist | None:
        status, body = await self.get(f"{self.base}source.m3u8{query}")
        return self.playlists.parse(body) if status == 200 else None

    async def run(self) -> None:
        """Play until ``until``; a broken connection or an error answer starts over."""
        while time.monotonic() < self.until:
            try:
                await self._follow()
            except (HttpError, ValueError) as exc:
                self.record.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.5)

    async def _follow(self) -> None:
        await self.get(f"{self.base}index.m3u8")
        listed = await self.media_playlist()
        if listed is None:
            raise ValueError("no media playlist")
        done = start_point(listed)
        while time.monotonic() < self.until and not listed.ended:
            first_listed = (listed.segments[0].msn, 0) if listed.segments else done
            if done < first_listed:
                self.record.skipped += 1
            for segment in listed.segments:
                for index, part in enumerate(segment.parts):
                    if (segment.msn, index) <= done:
                        continue
                    started = time.monotonic()
                    status, _ = await self.get(self.base + part.uri)
                    if status == 200:
                        self.record.part(part.uri, started, time.monotonic())
                    done = (segment.msn, index)
            msn, part_index = listed.next_part()
            reloaded = await self.media_playlist(f"?_HLS_msn={msn}&_HLS_part={part_index}")
            if reloaded is None:
                reloaded = await self.media_playlist()
                if reloaded is None:
                    raise ValueError("no media playlist")
            listed = reloaded


async def run_players(args: argparse.Namespace) -> Record:
    """Start the players spread over the ramp and wait for them all."""
    record = Record(measure_from=args.measure_from)
    playlists = Playlists()
    base = f"/hls/{args.session}/"

    def connect() -> Connection:
        return Connection(HOST, args.port)

    players = [
        Player(f"vwr_{args.tag}{i:05d}", base, args.until, record, playlists, connect())
        for i in range(args.players)
    ]
    tasks: list[asyncio.Task[None]] = []
    for index, player in enumerate(players):
        at = args.start_at + args.ramp * index / max(1, len(players))
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        tasks.append(asyncio.create_task(player.run()))
    await asyncio.gather(*tasks)
    for player in players:
        player.connection.close()
    return record


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.hlscache.players")
    parser.add_argument("--port", type=int, required=True, help="nginx's port on 127.0.0.1")
    parser.add_argument("--session", required=True)
    parser.add_argument("--players", type=int, required=True)
    parser.add_argument("--tag", default="a", help="makes the viewer ids of this process")
    parser.add_argument("--start-at", type=float, required=True, help="time.monotonic()")
    parser.add_argument("--ramp", type=float, default=5.0)
    parser.add_argument("--measure-from", type=float, required=True, help="time.monotonic()")
    parser.add_argument("--until", type=float, required=True, help="time.monotonic()")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the players; print what they saw as one JSON line."""
    args = _parser().parse_args(argv)
    import uvloop  # a dependency on Linux: the players need its lower cost per request

    record = uvloop.run(run_players(args))
    times = os.times()
    out = {
        "parts": record.parts,
        "requests": record.requests,
        "statuses": dict(record.statuses),
        "errors": dict(record.errors),
        "skipped": record.skipped,
        "cpu": times.user + times.system,
    }
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
