"""Traffic through nginx for the cluster tests: a steady prober and chat clients that resume.

``Prober`` asks nginx, again and again, for what must keep working whatever happens to one
node, Redis or the store: the programme, a static file, a websocket upgrade (up to the
``welcome``), a session's HLS. Each answer is judged: the expected status, or a status the test
tolerates for that probe during a fault *and* answered by Torget itself (its JSON error body);
anything else (nginx's own 502/504, a refused connection, a timeout) is a failure.

``ChatClient`` is a viewer that chats through nginx: it sends a message every ``interval``,
notes each acknowledged event id and every ``chat.message`` id it receives, and when its
connection breaks it reconnects through nginx (reaching whichever node nginx gives it) and
resumes with ``join.after``. ``chat_problems`` checks the clients against each other: every
acknowledged message reached every client exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.support.waiting import WaitTimedOut, until

PROBE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Probe:
    """One request the prober repeats: ``kind`` names it in reports; ``{n}`` in the path is
    the request's number (a query ``?probe={n}`` gives each request its own cache key, so it
    reaches a node through nginx's cache)."""

    kind: str
    path: str
    websocket: bool = False

    def nth(self, n: int) -> str:
        """The path of request ``n``."""
        return self.path.replace("{n}", str(n))


@dataclass(frozen=True)
class Outcome:
    """One answer (or failure to get one)."""

    kind: str
    at: float
    status: int | None
    detail: str


def is_torget_error(body: bytes) -> bool:
    """Whether ``body`` is Torget's JSON error (``{"error": {"code", "message"}}``)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return isinstance(error, dict) and {"code", "message"} <= error.keys()


@dataclass
class Prober:
    """Repeats its probes through ``base_url`` every ``interval`` until stopped."""

    base_url: str
    probes: list[Probe]
    interval: float = 0.1
    tolerated: dict[str, set[int]] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    failures: list[Outcome] = field(default_factory=list)
    tolerated_seen: list[Outcome] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Prober:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
        self._http = aiohttp.ClientSession(timeout=timeout)
        self._tasks = [asyncio.create_task(self._repeat(probe)) for probe in self.probes]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    @contextlib.contextmanager
    def tolerating(self, kind: str, *statuses: int) -> Any:
        """Within the block, Torget's own ``statuses`` answers to ``kind`` are not failures."""
        self.tolerated[kind] = set(statuses)
        try:
            yield
        finally:
            self.tolerated.pop(kind, None)

    def report(self) -> str:
        """The failures, one per line, with the count of answers per probe."""
        lines = [f"{kind}: {count} answers" for kind, count in sorted(self.answers.items())]
        lines += [f"FAILED {o.kind} at {o.at:.2f}: {o.status} {o.detail}" for o in self.failures]
        return "\n".join(lines)

    async def _repeat(self, probe: Probe) -> None:
        while True:
            started = time.monotonic()
            self.answers[probe.kind] += 1
            path = probe.nth(self.answers[probe.kind])
            outcome = await (self._upgrade(probe) if probe.websocket else self._get(probe, path))
            if outcome is not None:
                if outcome.status in self.tolerated.get(probe.kind, set()) and (
                    outcome.detail == "torget"
                ):
                    self.tolerated_seen.append(outcome)
                else:
                    self.failures.append(outcome)
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def _get(self, probe: Probe, path: str) -> Outcome | None:
        assert self._http is not None
        at = time.monotonic()
        try:
            async with self._http.get(self.base_url + path) as answer:
                body = await answer.read()
                if answer.status == 200:
                    return None
                origin = "torget" if is_torget_error(body) else body[:120].decode(errors="replace")
                return Outcome(probe.kind, at, answer.status, origin)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome(probe.kind, at, None, f"{type(exc).__name__}: {exc}")

    async def _upgrade(self, probe: Probe) -> Outcome | None:
        assert self._http is not None
        at = time.monotonic()
        try:
            async with self._http.ws_connect(self.base_url + probe.path) as ws:
                message = await ws.receive(timeout=PROBE_TIMEOUT)
                if message.type is aiohttp.WSMsgType.TEXT and '"welcome"' in message.data:
                    return None
                return Outcome(probe.kind, at, 101, f"no welcome: {message.type.name}")
        except aiohttp.WSServerHandshakeError as exc:
            return Outcome(probe.kind, at, exc.status, exc.message)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome(probe.kind, at, None, f"{type(exc).__name__}: {exc}")


@dataclass
class ChatClient:
    """A viewer chatting through nginx, resuming wherever its reconnection lands."""

    name: str
    base_url: str
    room: str
    interval: float = 0.5
    acked: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    resets: int = 0
    sending: bool = True
    _sent: int = 0
    _pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    @property
    def last_seen(self) -> str | None:
        return self.seen[-1] if self.seen else None

    @property
    def connections(self) -> int:
        return len(self.nodes)

    def answered(self) -> bool:
        """Whether every message sent so far has had its answer (or was given up on)."""
        return all(future.done() for future in self._pending.values())

    async def run(self, http: aiohttp.ClientSession) -> None:
        """Connect, join, chat; reconnect and resume whenever the connection ends."""
        while True:
            try:
                async with http.ws_connect(self.base_url + "/ws", heartbeat=None) as ws:
                    await self._session(ws)
            except (aiohttp.ClientError, OSError, TimeoutError, ConnectionError):
                pass
            for future in self._pending.values():
                future.cancel()
            self._pending.clear()
            await asyncio.sleep(0.3)

    async def _session(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        welcome = json.loads((await ws.receive(timeout=10)).data)
        self.nodes.append(str(welcome.get("node")))
        join: dict[str, Any] = {"type": "join", "room": self.room, "ref": "join"}
        if self.last_seen is not None:
            join["after"] = self.last_seen
        await ws.send_str(json.dumps(join))
        sender = asyncio.create_task(self._send_loop(ws))
        try:
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                self._take(json.loads(message.data))
                if ws.closed:
                    break
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    def _take(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "joined":
            self.resets += bool(frame.get("reset"))
            self._events(frame.get("events", []))
        elif kind == "events":
            self._events(frame["events"])
        elif kind == "notice":
            self.notices.append(str(frame.get("code")))
        elif kind == "ack" and frame.get("ref") in self._pending:
            self._pending.pop(frame["ref"]).set_result(frame)
        elif kind == "error":
            self.refusals[str(frame.get("code"))] += 1
            if frame.get("ref") == "join":  # not joined (e.g. Redis is down): try again later
                raise ConnectionError(f"join refused: {frame.get('code')}")
            future = self._pending.pop(str(frame.get("ref")), None)
            if future is not None:
                future.set_result(frame)

    def _events(self, events: list[dict[str, Any]]) -> None:
        self.seen += [str(event["id"]) for event in events if event["type"] == "chat.message"]

    async def _send_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self.sending:
                continue
            self._sent += 1
            ref = f"{self.name}-{self._sent}"
            answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending[ref] = answer
            frame = {"type": "chat.send", "room": self.room, "ref": ref, "text": ref}
            await ws.send_str(json.dumps(frame))
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                reply = await asyncio.wait_for(answer, 5)
                if reply.get("type") == "ack":
                    self.acked.append(str(reply["id"]))


def chat_problems(clients: list[ChatClient]) -> list[str]:
    """Every acknowledged message, seen by every client exactly once: what is not so."""
    acked = {message for client in clients for message in client.acked}
    problems: list[str] = []
    for client in clients:
        doubled = sorted(m for m, n in Counter(client.seen).items() if n > 1)
        missing = sorted(acked - set(client.seen))
        if doubled:
            problems.append(f"{client.name} got {len(doubled)} messages twice: {doubled[:5]}")
        if missing:
            problems.append(f"{client.name} missed {len(missing)} acked: {missing[:5]}")
        if client.seen != sorted(client.seen, key=_log_order):
            problems.append(f"{client.name} got messages out of log order")
        if client.resets:
            problems.append(f"{client.name} was told to redraw ({client.resets} resets)")
    return problems


def _log_order(event_id: str) -> tuple[int, int]:
    millis, _, sequence = event_id.partition("-")
    return int(millis), int(sequence or 0)


async def chat_until_quiet(clients: list[ChatClient], settle: float = 2.0) -> None:
    """Stop sending, then wait until every client has seen every acknowledged message (or
    ``settle`` more seconds pass without progress)."""
    for client in clients:
        client.sending = False
    await until(
        lambda: all(client.answered() for client in clients),
        timeout=10,
        what="the last sends to be answered",
    )
    acked = {message for client in clients for message in client.acked}
    with contextlib.suppress(WaitTimedOut):
        await until(
            lambda: all(acked <= set(client.seen) for client in clients),
            timeout=settle,
            what="every client to see every acknowledged message",
        )


@contextlib.asynccontextmanager
async def chatting(clients: list[ChatClient]) -> AsyncIterator[None]:
    """Run the clients for the block, then disconnect them."""
    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.create_task(client.run(http)) for client in clients]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def until_joined(clients: list[ChatClient], seconds: float = 15.0) -> None:
    """Wait until every client has connected once and acknowledged a message."""
    await until(
        lambda: all(client.nodes and client.acked for client in clients),
        timeout=seconds,
        what="chat clients to get going",
    )
