"""The node's realtime hub: folds each followed room's log and sweeps its events out to clients.

Entries arrive from the engine in log order and are folded into the room's ``RoomState``; at
most once a tick a sweep writes each member the one frame that brings it up to date (decisions
in realtime/feed.py), in chunks that yield to the event loop. Why and how fast:
docs/architecture.md, "Realtime" (Fan-out at 10 000+ clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from realtime.connection import Connection
from realtime.engine import Engine
from realtime.errors import RealtimeError
from realtime.feed import RoomFeed
from realtime.frames import CLOSE_SIGN_IN_ENDED, text_frame
from realtime.link import Link
from realtime.sign_ins import SignIns
from studio.errors import StudioError
from studio.interaction.facts import Fact, SignInEnded, decode_fact
from studio.interaction.room import Emit, RoomState
from studio.secrets import new_id
from studio.store import Store

log = logging.getLogger(__name__)
PRESENCE_TTL_S = 15.0
PRESENCE_EVERY_S = 1.0
# A viewer's presence is renewed this long after it was last renewed (well within the TTL):
# renewing 10 000 viewers every second cost a node a tenth of a core in Redis commands alone.
PRESENCE_RENEW_S = 5.0
# Viewer counts go out when they change, at most once a second, and in a room with many
# members on this node at most this many count writes a second (a frame to each member: at
# 10 000 members every 2 s). A join storm otherwise spent a fifth of its time on counts.
COUNT_WRITES_PER_S = 5000
RECORD_EVERY_TICKS = 10
PING_EVERY_S = 30.0  # the shared heartbeat: a client silent for two rounds is cut off
PING_STEPS = 30  # each step pings this share of the clients
SIGN_IN_CHECK_EVERY = 30  # seconds between checks of the signed-in clients against the store
EVENT_ROOM = "event"
# Writes between two yields to the event loop in one sweep (~1-2 ms): a store commit takes
# about ten loop turns, so commits (and acks) keep flowing while 20 000 clients are written.
FANOUT_CHUNK = 256
# From this many writes on, a chunk's writes are split between the event loop's thread and the
# sweep writer thread. A loopback send is ~5-10 µs in the kernel without the GIL, so two
# threads write nearly twice as fast on two cores (bench/fanout shows the effect).
PARALLEL_FROM = 64

_encode = msgspec.json.Encoder().encode


def frame(payload: object) -> bytes:
    """Encode a server frame once, ready to write to any client."""
    return text_frame(_encode(payload))


@dataclass(eq=False)
class LiveRoom:
    """A room followed by this node: its folded state and its members' feed."""

    name: str
    state: RoomState
    feed: RoomFeed[Connection]
    viewers: int = 0
    staff: int = 0
    uniques: int = 0
    minute: datetime | None = None
    minute_peak: int = 0
    counted: set[str] = field(default_factory=set)
    renewed: dict[str, float] = field(default_factory=dict)  # viewer -> when presence was renewed
    pushed: tuple[int, int] = (-1, -1)  # the viewers and staff members were last sent
    pushed_at: float = float("-inf")  # and when (monotonic)

    @property
    def members(self) -> Iterable[Connection]:
        """The local clients in the room."""
        return self.feed.cursors.keys()


class Hub:
    """Rooms, their local members, and the batched fan-out."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        *,
        tick_ms: int,
        history: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.node_id = new_id("node", 6)
        self.clock = clock  # the programme's: sign-ins expire by it
        self.engine = engine
        self.store = store
        self.tick_s = tick_ms / 1000
        self.history = history
        self.rooms: dict[str, LiveRoom] = {}
        self._opening: dict[str, asyncio.Future[LiveRoom]] = {}
        self._buffered: dict[str, list[tuple[str, bytes]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.connections: set[Connection] = set()
        self.engine_up = True
        self.event_listeners: list[Callable[[str, bytes], None]] = []  # see watch_events
        self.status_listeners: list[Callable[[bool], None]] = []  # the engine went down / up
        self.sign_ins: SignIns[Connection] = SignIns()
        self._writer: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Connect the engine and start the tick and presence loops."""
        await self.engine.start(self._on_entry, self._on_status)
        await self.engine.follow(EVENT_ROOM)  # always: sign-ins that end are announced there
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="realtime-writer")
        self._tasks = [
            asyncio.create_task(self._tick_loop(), name="realtime-tick"),
            asyncio.create_task(self._presence_loop(), name="realtime-presence"),
            asyncio.create_task(self._ping_loop(), name="realtime-ping"),
            asyncio.create_task(self._sign_in_loop(), name="realtime-sign-ins"),
        ]

    async def close(self) -> None:
        """Stop the loops and the engine."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None
        await self.engine.close()

    # --- rooms -------------------------------------------------------------------------------

    async def room(self, name: str) -> LiveRoom:
        """The live room, following it (and folding its log) on first use."""
        if name in self.rooms:
            return self.rooms[name]
        if name in self._opening:
            return await asyncio.shield(self._opening[name])
        opening: asyncio.Future[LiveRoom] = asyncio.get_running_loop().create_future()
        self._opening[name] = opening
        try:
            self._buffered[name] = []
            await self.engine.follow(name)
            state = RoomState(name, history_max=self.history)
            for event_id, data in await self.engine.read(name):
                _fold(state, event_id, _fact(event_id, data))
            live = LiveRoom(name, state, RoomFeed(name, frame))
            for event_id, data in self._buffered.pop(name):
                live.feed.add(_fold(state, event_id, _fact(event_id, data)))
            self.rooms[name] = live
            opening.set_result(live)
            return live
        except BaseException as exc:
            self._buffered.pop(name, None)
            opening.set_exception(exc)
            opening.exception()  # mark retrieved: the caller gets it raised
            raise
        finally:
            del self._opening[name]

    def _on_entry(self, room: str, event_id: str, data: bytes) -> None:
        live = self.rooms.get(room)
        fact = _fact(event_id, data) if live is not None or room == EVENT_ROOM else None
        if room == EVENT_ROOM:
            for listener in self.event_listeners:
                listener(event_id, data)
            if isinstance(fact, SignInEnded):
                self.end_sign_ins(self.sign_ins.ended(fact))
        if live is not None:
            live.feed.add(_fold(live.state, event_id, fact))
        elif room in self._buffered:
            self._buffered[room].append((event_id, data))

    def _on_status(self, up: bool) -> None:
        if up == self.engine_up:
            return
        self.engine_up = up
        for listener in self.status_listeners:
            listener(up)
        notice = frame(
            {"type": "notice", "code": "restored" if up else "degraded",
             "text": "reconnected to the other nodes" if up
             else "live link to the other nodes lost; reconnecting"}
        )  # fmt: skip
        for conn in list(self.connections):
            conn.send(notice)

    def join(self, live: LiveRoom, conn: Connection) -> None:
        """Add a client to a room's fan-out. Its history (read right after, from the folded
        state) covers every event up to now: the next batch gives it only what comes later, so
        nothing arrives twice and nothing is skipped."""
        live.feed.join(conn)
        conn.rooms.add(live.name)

    def leave(self, name: str, conn: Connection) -> None:
        """Remove a client from a room (the room is unfollowed when its last client leaves)."""
        conn.leave(name)
        live = self.rooms.get(name)
        if live is None:
            return
        live.feed.leave(conn)
        if not live.feed.cursors:
            del self.rooms[name]
            if name == EVENT_ROOM:
                return  # always followed (sign-ins that end, watch_events)
            task = asyncio.get_running_loop().create_task(self.engine.unfollow(name))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    def disconnect(self, conn: Connection) -> None:
        """Forget a client that went away."""
        for name in list(conn.rooms):
            self.leave(name, conn)
        self.connections.discard(conn)
        if conn.principal_id is not None:
            self.sign_ins.remove(conn)

    def end_sign_ins(self, conns: list[Connection]) -> None:
        """Close connections whose sign-in ended (revoked, signed out or expired) at once:
        their staff rights end with them; the client reconnects as what it still is."""
        for conn in conns:
            conn.drop(CLOSE_SIGN_IN_ENDED, "sign-in ended; sign in again")

    # --- media hook: the event room's entries for the node's media plane (web/app.py) ----------

    async def watch_events(self, listener: Callable[[str, bytes], None]) -> None:
        """Hand every new entry of the event room, from any node, to ``listener`` (the hub
        follows that room from its start, whether or not a client is in it)."""
        self.event_listeners.append(listener)

    # --- fan-out -----------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            for live in list(self.rooms.values()):
                if live.feed.due:
                    await self._sweep(live)
            # Sweeps start at most once a tick (so events that come fast share frames); when a
            # sweep takes longer than a tick, the next one follows at once.
            await asyncio.sleep(max(started + self.tick_s - loop.time(), 0))

    async def _sweep(self, live: LiveRoom) -> None:
        """Bring every member of the room up to date, in chunks. Events that arrive between
        two chunks go out to the rest of this sweep's members at once."""
        feed = live.feed
        members = feed.begin()
        try:
            for start in range(0, len(members), FANOUT_CHUNK):
                if start:
                    await asyncio.sleep(0)  # let reads, acks and commits in between
                writes: list[tuple[Link, bytes]] = []
                for conn in members[start : start + FANOUT_CHUNK]:
                    data = feed.out(conn)
                    if data and conn.ready():
                        writes.append((conn.link, data))
                self._write(writes)
        finally:
            feed.end()

    def _write(self, writes: list[tuple[Link, bytes]]) -> None:
        """Write each frame to its link, half of them on the writer thread meanwhile."""
        writer = self._writer
        if writer is None or len(writes) < PARALLEL_FROM:
            _write_each(writes)
            return
        other = writer.submit(_write_each, writes[1::2])
        _write_each(writes[0::2])
        other.result()

    async def _ping_loop(self) -> None:
        """One heartbeat for every client (instead of a timer each): each client is pinged
        every ``PING_EVERY_S`` and cut off if it stayed silent since its previous ping. The
        clients are spread over ``PING_STEPS`` steps so their pongs do not arrive all at once."""
        while True:
            clients = list(self.connections)
            for step in range(PING_STEPS):
                await asyncio.sleep(PING_EVERY_S / PING_STEPS)
                for conn in clients[step::PING_STEPS]:
                    conn.ping()

    async def _sign_in_loop(self) -> None:
        """End expired sign-ins about once a second; every ``SIGN_IN_CHECK_EVERY`` seconds also
        those the store no longer has (a revocation whose announcement was lost: the engine
        was down, or its node stopped in between)."""
        ticks = 0
        while True:
            await asyncio.sleep(1.0)
            ticks += 1
            self.end_sign_ins(self.sign_ins.expired(self.clock()))
            if ticks % SIGN_IN_CHECK_EVERY or not self.sign_ins:
                continue
            try:
                self.end_sign_ins(await self._gone_sign_ins())
            except StudioError as exc:
                log.warning("sign-in check failed: %s", exc.message)

    async def _gone_sign_ins(self) -> list[Connection]:
        tokens = {token.id for token in await self.store.list_tokens()}
        now = self.clock()
        gone = []
        for conn, sign_in in self.sign_ins.items():
            if sign_in.token_id not in tokens or (
                sign_in.web_session is not None
                and await self.store.web_session(sign_in.web_session, now) is None
            ):
                gone.append(conn)
        for conn in gone:
            self.sign_ins.remove(conn)
        return gone

    async def _presence_loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(PRESENCE_EVERY_S)
            ticks += 1
            try:
                await self.update_presence(record=ticks % RECORD_EVERY_TICKS == 0)
            except (
                StudioError,
                RealtimeError,
            ) as exc:  # the engine is down: counts pause, nothing else does
                log.warning("presence update failed: %s", exc.message)

    async def update_presence(self, *, record: bool) -> None:
        """Touch this node's members into each room's presence and push the counts: viewers
        are the clients without a staff sign-in (operators, moderators, captioners and admins
        are counted apart, as ``staff``, which only the room's moderators are sent); only
        viewers go into the report's peaks and uniques."""
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        for live in list(self.rooms.values()):
            if live.name == EVENT_ROOM:
                continue
            viewers: set[str] = set()
            staff: set[str] = set()
            for conn in live.members:
                (viewers if conn.principal_id is None else staff).add(conn.viewer_id)
            await self.engine.touch_viewers(live.name, _due(live, viewers), PRESENCE_TTL_S)
            # Staff are few: their presence is renewed every round.
            await self.engine.touch_viewers(staff_room(live.name), staff, PRESENCE_TTL_S)
            live.viewers = await self.engine.count_viewers(live.name)
            live.staff = await self.engine.count_viewers(staff_room(live.name))
            live.uniques = await self.engine.count_uniques(live.name, viewers - live.counted)
            live.counted |= viewers
            if live.minute != minute:
                if live.minute is not None:
                    await self._record(live)
                live.minute, live.minute_peak = minute, 0
            live.minute_peak = max(live.minute_peak, live.viewers)
            if record:
                await self._record(live)
            now = time.monotonic()
            interval = count_interval(len(live.feed.cursors)) - PRESENCE_EVERY_S / 10
            counts = (live.viewers, live.staff)
            if counts != live.pushed and now >= live.pushed_at + interval:
                live.pushed, live.pushed_at = counts, now
                count = {"type": "viewers", "room": live.name, "count": live.viewers}
                live.feed.set_count(frame(count), frame({**count, "staff": live.staff}))

    async def _record(self, live: LiveRoom) -> None:
        """Keep this minute's peak for the after-event report."""
        if live.minute is not None:
            await self.store.record_viewers(
                live.name, live.minute, self.node_id, live.minute_peak, live.uniques
            )


def staff_room(room: str) -> str:
    """The presence set of a room's staff connections (apart from its viewers')."""
    return f"{room}:staff"


def count_interval(members: int) -> float:
    """Seconds at least between two viewer counts sent to a room's ``members`` on this node."""
    return max(PRESENCE_EVERY_S, members / COUNT_WRITES_PER_S)


def _due(live: LiveRoom, viewers: set[str]) -> list[str]:
    """The room's viewers whose presence is to be renewed now (new ones, and those renewed
    ``PRESENCE_RENEW_S`` ago); those gone are forgotten."""
    now = time.monotonic()
    renewed = live.renewed
    due = [v for v in viewers if renewed.get(v, -PRESENCE_RENEW_S) <= now - PRESENCE_RENEW_S]
    if len(renewed) > len(viewers) + len(due):
        live.renewed = renewed = {v: t for v, t in renewed.items() if v in viewers}
    for viewer in due:
        renewed[viewer] = now
    return due


def _fact(event_id: str, data: bytes) -> Fact | None:
    """The fact of a log entry; None (and a warning) for one this version cannot read, say
    from a newer node in a rolling upgrade: it is skipped, the room goes on."""
    try:
        return decode_fact(data)
    except msgspec.MsgspecError:
        log.warning("log entry %s holds no fact this version knows; skipped", event_id)
        return None


def _fold(state: RoomState, event_id: str, fact: Fact | None) -> list[Emit]:
    return [] if fact is None else state.apply(event_id, fact)


def _write_each(writes: list[tuple[Link, bytes]]) -> None:
    for link, data in writes:
        link.write(data)
