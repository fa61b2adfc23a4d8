"""The Redis engine: many nodes share each room's log and live events.

Keys hold the room in a hash tag (one Cluster slot per room): ``torget:{<room>}:log`` (Stream),
``:live`` (pub/sub, "<id>\\n<fact>"), ``:viewers`` (presence), ``:uniques`` (HyperLogLog). An
append is one Lua script (XADD then PUBLISH). Redis errors become ``EngineUnavailable`` here.
See docs/architecture.md, "Realtime" (Engines).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from realtime.engine import Engine, Entry, now_ms
from realtime.errors import EngineUnavailable
from studio.interaction.facts import log_position, normal_log_id
from studio.store import Store

log = logging.getLogger(__name__)

_APPEND = """
local id = redis.call('XADD', KEYS[1], '*', 'f', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[1])
return id
"""
PAGE = 5000
BACKOFF_MAX_S = 5.0


@contextlib.contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """Map Redis and socket errors to ``EngineUnavailable`` ("<what> is briefly unavailable")."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise EngineUnavailable(f"{what} is briefly unavailable; try again") from exc


def _stream_id(event_id: str) -> str:
    """The Redis Stream id of a log id (Redis does not pad: ``<ms>-<seq>``)."""
    ms, seq = log_position(event_id)
    return f"{ms}-{seq}"


def _keys(room: str) -> tuple[str, str, str]:
    base = f"torget:{{{room}}}"
    return f"{base}:log", f"{base}:live", f"{base}:viewers"


def _uniques_key(room: str) -> str:
    return f"torget:{{{room}}}:uniques"


def _room_of(channel: str) -> str:
    return channel[channel.index("{") + 1 : channel.rindex("}")]


class RedisEngine(Engine):
    """Rooms' logs in Redis Streams, live fan-out over pub/sub, presence in sorted sets."""

    def __init__(self, url: str, store: Store) -> None:
        super().__init__()
        self._url = url
        self._store = store
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=10
        )
        self._append = self._redis.register_script(_APPEND)
        self._following: set[str] = set()
        self._last: dict[str, str] = {}
        self._listener: asyncio.Task[None] | None = None
        self._pubsub: Any = None
        self._subscribed: dict[str, asyncio.Future[None]] = {}
        self.up = False

    async def start(self, on_entry: Any, on_status: Any) -> None:
        await super().start(on_entry, on_status)
        self._listener = asyncio.create_task(self._listen_forever(), name="redis-listener")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()

    # --- the log -----------------------------------------------------------------------------

    async def append(self, room: str, data: bytes) -> str:
        log_key, channel, _ = _keys(room)
        with _unavailable("live chat"):
            event_id = await self._append(keys=[log_key, channel], args=[data])
        return normal_log_id(event_id.decode() if isinstance(event_id, bytes) else str(event_id))

    async def read(self, room: str) -> list[Entry]:
        return await self._read_after(room, None)

    async def _read_after(self, room: str, after: str | None) -> list[Entry]:
        log_key = _keys(room)[0]
        start = f"({_stream_id(after)}" if after else "-"
        entries: list[Entry] = []
        with _unavailable("the room's history"):
            while True:
                page: list[Any] = (
                    await self._redis.xrange(log_key, min=start, max="+", count=PAGE) or []
                )
                for event_id, fields in page:
                    entries.append((normal_log_id(bytes(event_id).decode()), bytes(fields[b"f"])))
                if len(page) < PAGE:
                    return entries
                start = f"({_stream_id(entries[-1][0])}"

    # --- following rooms ---------------------------------------------------------------------

    async def follow(self, room: str) -> None:
        self._following.add(room)
        if self._pubsub is None:
            return  # the listener subscribes every followed room when it connects
        done = asyncio.get_running_loop().create_future()
        self._subscribed[_keys(room)[1]] = done
        try:
            with _unavailable("live chat"):
                await self._pubsub.subscribe(_keys(room)[1])
                async with asyncio.timeout(5):
                    await done  # confirmed: nothing published from now on is missed
        finally:
            self._subscribed.pop(_keys(room)[1], None)

    async def unfollow(self, room: str) -> None:
        self._following.discard(room)
        self._last.pop(room, None)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(_keys(room)[1])

    def _deliver(self, room: str, event_id: str, data: bytes) -> None:
        last = self._last.get(room)
        if last is not None and log_position(event_id) <= log_position(last):
            return
        self._last[room] = event_id
        self._on_entry(room, event_id, data)

    async def _listen_forever(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, EngineUnavailable) as exc:
                log.warning("redis link lost: %s", exc)
            self._pubsub = None
            if self.up:
                self.up = False
                self._on_status(False)
                backoff = 0.2  # it was working: retry soon
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            rooms = list(self._following)
            channels = [_keys(r)[1] for r in rooms] or ["torget:nodes"]
            awaiting = set(channels)
            await pubsub.subscribe(*channels)
            # Rooms followed while that was in flight saw no pubsub yet and left it to us.
            while late := [r for r in self._following if r not in rooms]:
                rooms += late
                late_channels = [_keys(r)[1] for r in late]
                awaiting.update(late_channels)
                await pubsub.subscribe(*late_channels)
            self._pubsub = pubsub  # no await since the last check: nothing followed is missed
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                channel = message["channel"].decode()
                if message["type"] == "subscribe":
                    waiter = self._subscribed.get(channel)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(None)
                    if awaiting:
                        awaiting.discard(channel)
                        if not awaiting:
                            await self._catch_up(rooms)
                            self.up = True
                            self._on_status(True)
                elif message["type"] == "message":
                    event_id, _, data = message["data"].partition(b"\n")
                    self._deliver(_room_of(channel), normal_log_id(event_id.decode()), data)
        finally:
            self._pubsub = None
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _catch_up(self, rooms: list[str]) -> None:
        """After (re)subscribing: deliver what each followed room logged meanwhile, in order."""
        for room in rooms:
            for event_id, data in await self._read_after(room, self._last.get(room)):
                self._deliver(room, event_id, data)

    # --- presence ----------------------------------------------------------------------------

    async def touch_viewers(self, room: str, viewer_ids: Iterable[str], ttl_s: float) -> None:
        key = _keys(room)[2]
        until = now_ms() + int(ttl_s * 1000)
        mapping = {viewer: until for viewer in viewer_ids}
        with _unavailable("presence"):
            async with self._redis.pipeline(transaction=False) as pipe:
                if mapping:
                    pipe.zadd(key, mapping)
                pipe.zremrangebyscore(key, "-inf", now_ms())
                pipe.expire(key, int(ttl_s * 4))
                await pipe.execute()

    async def count_viewers(self, room: str) -> int:
        with _unavailable("presence"):
            return int(await self._redis.zcount(_keys(room)[2], now_ms(), "+inf"))

    async def count_uniques(self, room: str, viewer_ids: Iterable[str]) -> int:
        key = _uniques_key(room)
        viewers = list(viewer_ids)
        with _unavailable("presence"):
            if viewers:
                await self._redis.pfadd(key, *viewers)
            return int(await self._redis.pfcount(key))

    async def archive(self, room: str) -> None:
        await self._store.replace_room_facts(room, await self.read(room))
