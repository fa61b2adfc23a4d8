"""Load generator of the fan-out benchmark: websocket viewers or chat senders, in one process.

Run by ``bench.fanout.run`` as ``python -m bench.fanout.loadgen viewers|senders ...``; it talks
to its parent in JSON lines: it prints ``{"event": "ready", ...}`` once its connections are
open, then answers one line per command read from stdin (see ``run_viewers`` and
``run_senders``).

Built to stay light next to the server on a small machine:

* plain ``asyncio.BufferedProtocol`` objects reading into one shared buffer, a hand-written
  client handshake and frame walker, no websocket library, no task or coroutine per message;
* most viewers only *count*: they walk the frame headers (to answer pings and notice closes)
  and count the run's marker (the end of the chat text, see ``chat_text``) in the raw bytes;
  no JSON is decoded for them, and their sockets wake the loop only once ``SO_RCVLOWAT``
  bytes are waiting, so one read takes many frames (a sweep every few seconds reads the
  rest, so server pings are answered in time);
* a sample of viewers (spread evenly over the join order) reassembles and decodes every frame
  and records the delivery latency of each chat message into a histogram of whole
  milliseconds (receive wall time minus the send time the sender wrote into the text);
* senders are separate connections in their own process, paced on an absolute schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import resource
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import msgspec

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
OP_TEXT = 0x1
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
JOINED = b'"joined"'
ERROR = b'"error"'
# The chat text ends with the run's tag after this padding: a long pattern of a character
# JSON frames do not otherwise hold lets ``bytes.count`` skip ahead quickly (~2x faster).
RUN_PAD = "~" * 24


def chat_text(tag: str, sent_ms: int) -> str:
    """The text a sender posts: its send time (Unix ms), then the run's tag."""
    return f"t={sent_ms} {RUN_PAD}{tag}"


def run_suffix(tag: str) -> str:
    """How the texts of run ``tag`` end (what counting viewers look for)."""
    return RUN_PAD + tag


def raise_nofile() -> int:
    """Raise this process's open-file limit to its hard limit; return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final client frame (clients must mask; the mask is random as RFC 6455 asks)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    if n:
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
    else:
        masked = b""
    return header + mask + masked


def text_frame(obj: dict[str, Any]) -> bytes:
    """A client text frame holding ``obj`` as compact JSON."""
    return client_frame(OP_TEXT, json.dumps(obj, separators=(",", ":")).encode())


# One receive buffer for every connection of the process: ``recv_into`` it and copy out only
# the bytes received (a plain Protocol's ``recv(256 KiB)`` allocates 256 KiB per read, which
# cost ~20 µs a read here).
_RECV = memoryview(bytearray(1 << 16))


class Client(asyncio.BufferedProtocol):
    """One websocket connection: handshake, then a frame walker.

    Subclasses decide what to do with the bytes of the open connection (``on_data``).
    """

    def __init__(self, host: str, port: int, path: str, room: str) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.room = room
        self.transport: asyncio.Transport | None = None
        self.sock: socket.socket | None = None
        self.is_open = False
        self.joined = False
        self.closed = False
        self.close_code = 0  # from the server's close frame (0: none came; 1006 below)
        self.closed_before_run = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._key = base64.b64encode(os.urandom(16))
        self._handshake = b""
        self._head = b""  # an incomplete frame header (or control frame) from the last chunk
        self._skip = 0  # payload bytes of the current data frame still to come
        self.frames = 0  # data frames received

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports implement asyncio.Transport without subclassing it)
        self.transport = cast(asyncio.Transport, transport)
        request = (
            f"GET {self.path} HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n"
        )
        self.transport.write(request.encode())

    def get_buffer(self, sizehint: int) -> memoryview:
        return _RECV

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(_RECV[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        if self.is_open:
            self.on_data(data)
            return
        self._handshake += data
        end = self._handshake.find(b"\r\n\r\n")
        if end < 0:
            if len(self._handshake) > 16384:
                self._fail("handshake answer too long")
            return
        head, rest = self._handshake[:end], self._handshake[end + 4 :]
        self._handshake = b""
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"HTTP/1.1 101"):
            self._fail(f"upgrade refused: {lines[0].decode(errors='replace')}")
            return
        accept = base64.b64encode(hashlib.sha1(self._key + WS_GUID).digest())  # noqa: S324
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])
        }
        if headers.get(b"sec-websocket-accept") != accept:
            self._fail("wrong Sec-WebSocket-Accept")
            return
        if headers.get(b"sec-websocket-extensions"):
            self._fail("the server negotiated an extension we did not offer")
            return
        self.is_open = True
        self.send({"type": "join", "room": self.room})
        if rest:
            self.on_data(rest)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.is_open = False
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before joining: {exc}"))

    # --- helpers -------------------------------------------------------------------------

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        if self.transport is not None:
            self.transport.abort()

    def _joined(self) -> None:
        self.joined = True
        if not self.ready.done():
            self.ready.set_result(None)

    def send(self, obj: dict[str, Any]) -> None:
        """Send one JSON text frame."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(text_frame(obj))

    def close(self) -> None:
        """Close without ceremony (the benchmark is over)."""
        if self.transport is not None:
            self.transport.abort()

    def control(self, opcode: int, payload: bytes) -> None:
        """Answer pings; close on a close frame."""
        if self.transport is None or self.transport.is_closing():
            return
        if opcode == OP_PING:
            self.transport.write(client_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.transport.write(client_frame(OP_CLOSE, payload[:2]))
            self.transport.close()

    def walk(self, data: bytes) -> None:
        """Walk the frame headers in ``data``, skipping data payloads, acting on control frames."""
        buf = self._head + data if self._head else data
        pos = self._skip
        n = len(buf)
        frames = 0
        while pos < n:
            if n - pos < 2:
                break
            b1 = buf[pos + 1]
            length = b1 & 0x7F
            if length < 126:
                hl = 2
            elif length == 126:
                if n - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                hl = 4
            else:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                hl = 10
            opcode = buf[pos] & 0x0F
            if opcode >= 8:
                if n - pos < hl + length:
                    break  # wait for the whole control frame
                self.control(opcode, buf[pos + hl : pos + hl + length])
            else:
                frames += 1
            pos += hl + length
        self.frames += frames
        if pos >= n:
            self._skip = pos - n
            self._head = b""
        else:
            self._skip = 0
            self._head = buf[pos:]

    def on_data(self, data: bytes) -> None:
        """Bytes of the open connection."""
        raise NotImplementedError

    def sweep(self) -> None:
        """Read whatever the socket holds now, without waiting for the event loop."""
        sock = self.sock
        if sock is None or self.closed or not self.is_open:
            return
        while True:
            try:
                n = sock.recv_into(_RECV)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # the transport's own reader will see the error
            if n == 0:
                return  # end of stream: likewise
            self.on_data(_RECV[:n].tobytes())
            if n < len(_RECV):
                return


class Tally:
    """What one process's counting viewers saw in the current run (shared, for speed)."""

    def __init__(self) -> None:
        self.suffix = "\x00never"
        self.marker = self.suffix.encode()
        self.received = 0
        self.every = 1  # sample viewers whose rank is a multiple of this decode and time

    def start(self, tag: str, every: int) -> None:
        """A new run: count ``tag``'s messages from zero."""
        self.suffix = run_suffix(tag)
        self.marker = self.suffix.encode()
        self.received = 0
        self.every = max(1, every)


class CountingViewer(Client):
    """A viewer that counts the run's marker in the raw bytes and decodes nothing.

    Once joined, its socket gets ``SO_RCVLOWAT = lowat``: the kernel wakes the event loop
    only when that many bytes are waiting (or the peer closes), so one read takes many
    frames. The server's work is unchanged (on loopback its ``send`` completes as soon as the
    bytes are in our receive queue); ``sweep`` collects the rest before counts are read.
    """

    def __init__(
        self, host: str, port: int, path: str, room: str, tally: Tally, lowat: int
    ) -> None:
        super().__init__(host, port, path, room)
        self.tally = tally
        self.lowat = lowat
        self._tail = b""
        self._early = b""  # bytes before the join was answered

    def on_data(self, data: bytes) -> None:
        self.walk(data)
        if not self.joined:
            self._early += data
            if JOINED in self._early:
                self._joined()
                self._early = b""
                if self.lowat > 1 and self.sock is not None:
                    self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, self.lowat)
            elif ERROR in self._early:
                self._fail(f"join refused: {self._early[-300:].decode(errors='replace')}")
        marker = self.tally.marker
        keep = len(marker) - 1
        # Markers lying across two chunks are found in tail + the start of this chunk.
        self.tally.received += data.count(marker) + (self._tail + data[:keep]).count(marker)
        self._tail = data[-keep:]


class Event(msgspec.Struct):
    """The fields of a room event the benchmark reads."""

    type: str = ""
    text: str = ""


class Frame(msgspec.Struct):
    """The fields of a server frame the benchmark reads."""

    type: str = ""
    events: list[Event] = []
    code: str = ""
    message: str = ""
    ref: str = ""


_decoder = msgspec.json.Decoder(Frame)


def _decode_frame(message: bytes) -> Frame:
    """The frame's fields the benchmark reads; an undecodable frame reads as type ``?``."""
    try:
        return _decoder.decode(message)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return Frame(type="?")


class ParsingClient(Client):
    """A client that reassembles and decodes every text frame (``on_frame``)."""

    def __init__(self, host: str, port: int, path: str, room: str) -> None:
        super().__init__(host, port, path, room)
        self._buf = bytearray()
        self._parts: list[bytes] = []

    def on_data(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos = 0
        n = len(buf)
        now = time.time()
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            hl = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                hl = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                hl = 10
            if n - pos < hl + length:
                break
            payload = bytes(buf[pos + hl : pos + hl + length])
            pos += hl + length
            opcode = b0 & 0x0F
            if opcode >= 8:
                self.control(opcode, payload)
                continue
            self._parts.append(payload)
            if b0 & 0x80:  # FIN
                message = b"".join(self._parts)
                self._parts.clear()
                self.frames += 1
                self.on_frame(message, now)
        del buf[:pos]

    def on_frame(self, message: bytes, now: float) -> None:
        """One whole data message, received at wall time ``now``."""
        raise NotImplementedError


class SampleViewer(ParsingClient):
    """A viewer that reads promptly, decodes every frame and records delivery latencies.

    ``rank`` is its place among the sample (in join order); in a run where the tally says
    ``every = k``, only ranks that are multiples of k decode (fast rooms need fewer), the
    others count markers like the counting viewers.
    """

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        room: str,
        tally: Tally,
        hist: Counter[int],
        rank: int,
    ) -> None:
        super().__init__(host, port, path, room)
        self.tally = tally
        self.hist = hist
        self.rank = rank

    @property
    def active(self) -> bool:
        """Whether this viewer times messages in the current run."""
        return self.rank % self.tally.every == 0

    def on_frame(self, message: bytes, now: float) -> None:
        tally = self.tally
        if self.joined and not self.active:
            tally.received += message.count(tally.marker)
            return
        frame = _decode_frame(message)
        if frame.type == "events":
            suffix = tally.suffix
            now_ms = now * 1000.0
            hist = self.hist
            for event in frame.events:
                text = event.text
                if event.type == "chat.message" and text.endswith(suffix):
                    sent_ms = int(text[2 : text.index(" ")])
                    hist[round(now_ms - sent_ms)] += 1
                    tally.received += 1
        elif frame.type == "joined":
            self._joined()
        elif frame.type == "error" and not self.joined:
            self._fail(f"join refused: {frame.code}: {frame.message}")


class Sender(ParsingClient):
    """A chat sender: posts ``chat.send`` frames, counts acks and errors."""

    def __init__(self, host: str, port: int, path: str, room: str) -> None:
        super().__init__(host, port, path, room)
        self.acked = 0
        self.errors: Counter[str] = Counter()
        self.sent_at: dict[str, float] = {}  # ref -> wall time sent, until answered
        self.ack_ms: Counter[int] = Counter()  # histogram of send -> ack times

    def on_frame(self, message: bytes, now: float) -> None:
        frame = _decode_frame(message)
        if frame.type == "ack":
            self.acked += 1
            sent = self.sent_at.pop(frame.ref, None)
            if sent is not None:
                self.ack_ms[round((now - sent) * 1000)] += 1
        elif frame.type == "joined":
            self._joined()
        elif frame.type == "error":
            self.errors[frame.code or "?"] += 1
            if not self.joined:
                self._fail(f"join refused: {frame.code}: {frame.message}")

    def chat(self, text: str, ref: str) -> None:
        """Post one chat message."""
        self.sent_at[ref] = time.time()
        self.send({"type": "chat.send", "room": self.room, "text": text, "ref": ref})


async def open_client(client: Client, source: str | None, limit_s: float) -> Client:
    """Connect ``client`` (from ``source``, a loopback address), upgrade, join; raise on failure."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if source is not None:
            # Pick the port at connect time: ephemeral ports are then per destination.
            sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source, 0))
        async with asyncio.timeout(limit_s):
            await loop.sock_connect(sock, (client.host, client.port))
            client.sock = sock
            await loop.create_connection(lambda: client, sock=sock)
            await client.ready
    except BaseException:
        if client.transport is not None:
            client.transport.abort()
        else:
            sock.close()
        raise
    return client


async def open_many(
    count: int,
    make: Callable[[int], Client],
    sources: list[str],
    concurrency: int,
    limit_s: float,
    opened: list[Client] | None = None,
) -> tuple[list[Client], Counter[str]]:
    """Open ``count`` clients, at most ``concurrency`` handshakes at once, two tries each.

    Each client is also appended to ``opened`` as soon as it has joined.
    """
    gate = asyncio.Semaphore(concurrency)
    failures: Counter[str] = Counter()
    clients: list[Client | None] = [None] * count

    async def one(i: int) -> None:
        source = sources[i % len(sources)] if sources else None
        for attempt in range(2):
            async with gate:
                try:
                    clients[i] = client = await open_client(make(i), source, limit_s)
                    if opened is not None:
                        opened.append(client)
                    return
                except (OSError, TimeoutError) as exc:
                    if attempt == 1:
                        failures[f"{type(exc).__name__}: {exc}"[:160]] += 1
            await asyncio.sleep(0.2)

    # Create the tasks in slices so a big ramp does not hold thousands of pending coroutines.
    step = max(concurrency * 4, 1)
    for start in range(0, count, step):
        await asyncio.gather(*(one(i) for i in range(start, min(count, start + step))))
    return [c for c in clients if c is not None], failures


async def sweep_all(clients: list[Client], chunk: int = 500) -> None:
    """Read every client's waiting bytes, yielding to the loop between chunks."""
    for start in range(0, len(clients), chunk):
        for client in clients[start : start + chunk]:
            client.sweep()
        await asyncio.sleep(0)


async def sweep_forever(clients: list[Client], every: float) -> None:
    """Sweep now and then, so pings held back by ``SO_RCVLOWAT`` are answered in time."""
    while True:
        await asyncio.sleep(every)
        await sweep_all(clients)


def emit(obj: dict[str, Any]) -> None:
    """One JSON line to the parent."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def _stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_viewers(args: argparse.Namespace) -> None:
    """Open this process's share of the viewers, then obey the parent's commands."""
    tally = Tally()
    hist: Counter[int] = Counter()
    stride = max(1, args.total // max(1, args.sample))

    def make(i: int) -> Client:
        index = args.offset + i  # viewers are spread evenly over the nodes and the sample
        host, port = args.endpoints[index % len(args.endpoints)]
        if index % stride == 0 and index // stride < args.sample:
            rank = index // stride
            return SampleViewer(host, port, args.path, args.room, tally, hist, rank)
        return CountingViewer(host, port, args.path, args.room, tally, args.lowat)

    started = time.monotonic()
    # Sweep from the start: a long ramp must not leave the first viewers' pings unanswered.
    joined: list[Client] = []
    sweeper = asyncio.create_task(sweep_forever(joined, args.sweep))
    clients, failures = await open_many(
        args.count, make, args.sources, args.concurrency, args.timeout, joined
    )
    closed_before = 0
    emit(
        {
            "event": "ready",
            "connected": len(clients),
            "failed": dict(failures),
            "samples": sum(1 for c in clients if isinstance(c, SampleViewer)),
            "seconds": round(time.monotonic() - started, 2),
            "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            "loop": loop_name(),
        }
    )
    reader = await _stdin_lines()
    while line := await reader.readline():
        command = json.loads(line)
        match command["cmd"]:
            case "run":
                tally.start(command["tag"], int(command.get("every", 1)))
                hist.clear()
                for c in clients:
                    c.frames = 0
                for c in clients:
                    c.closed_before_run = c.closed
                closed_before = sum(1 for c in clients if c.closed)
                emit({"event": "ok", "open": len(clients) - closed_before})
            case "stat":
                await sweep_all(clients)
                emit({"event": "stat", "received": tally.received})
            case "report":
                await sweep_all(clients)
                sample_clients = [c for c in clients if isinstance(c, SampleViewer) and c.active]
                emit(
                    {
                        "event": "report",
                        "received": tally.received,
                        "closed": sum(1 for c in clients if c.closed) - closed_before,
                        "close_codes": dict(
                            Counter(
                                str(c.close_code or 1006)
                                for c in clients
                                if c.closed and not c.closed_before_run
                            )
                        ),
                        "hist": {str(k): v for k, v in hist.items()},
                        "sample_frames": sum(c.frames for c in sample_clients),
                        "samples": len(sample_clients),
                        "cpu_seconds": _cpu_seconds(),
                    }
                )
            case "quit":
                break
    sweeper.cancel()
    for c in clients:
        c.close()


async def run_senders(args: argparse.Namespace) -> None:
    """Open the sender connections, then send at the commanded rate on request."""
    host, port = args.endpoints[0]

    def make(_: int) -> Client:
        return Sender(host, port, args.path, args.room)

    clients, failures = await open_many(
        args.count, make, args.sources, args.concurrency, args.timeout
    )
    senders = [c for c in clients if isinstance(c, Sender)]
    emit({"event": "ready", "connected": len(senders), "failed": dict(failures)})
    reader = await _stdin_lines()
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] != "send" or not senders:
            emit({"event": "error", "message": f"cannot {command['cmd']}"})
            continue
        active = senders[: max(1, int(command.get("senders", len(senders))))]
        for s in active:
            s.acked = 0
            s.errors.clear()
            s.sent_at.clear()
            s.ack_ms.clear()
        emit({"event": "ok"})
        sent = await _send_paced(
            active, command["tag"], float(command["rate"]), float(command["seconds"])
        )
        # Wait a little for the last answers.
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            answered = sum(s.acked + sum(s.errors.values()) for s in active)
            if answered >= sent:
                break
            await asyncio.sleep(0.05)
        errors: Counter[str] = Counter()
        ack_ms: Counter[int] = Counter()
        for s in active:
            errors.update(s.errors)
            ack_ms.update(s.ack_ms)
        emit(
            {
                "event": "sent",
                "sent": sent,
                "acked": sum(s.acked for s in active),
                "ack_ms": {str(k): v for k, v in ack_ms.items()},
                "errors": dict(errors),
                "closed": sum(1 for s in active if s.closed),
            }
        )
    for c in clients:
        c.close()


async def _send_paced(senders: list[Sender], tag: str, rate: float, seconds: float) -> int:
    """Send ``rate * seconds`` messages on an absolute schedule, round-robin over senders."""
    total = round(rate * seconds)
    start = time.monotonic()
    i = 0
    while i < total:
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        while i < total and start + i / rate <= now:
            sender = senders[i % len(senders)]
            if not sender.closed:
                sender.chat(chat_text(tag, round(time.time() * 1000)), f"m{i}")
            i += 1
    return total


def _endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run viewers or senders until told to quit."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout.loadgen")
    parser.add_argument("role", choices=["viewers", "senders"])
    parser.add_argument(
        "--endpoint",
        dest="endpoints",
        type=_endpoint,
        action="append",
        required=True,
        help="host:port of a server node (repeat for several nodes: viewers are spread)",
    )
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--room", required=True)
    parser.add_argument("--count", type=int, required=True, help="connections in this process")
    parser.add_argument("--offset", type=int, default=0, help="index of this process's first")
    parser.add_argument("--total", type=int, default=0, help="viewers over all processes")
    parser.add_argument("--sample", type=int, default=500, help="latency-sampled viewers, all")
    parser.add_argument(
        "--source", dest="sources", action="append", default=[], help="loopback source address"
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--lowat", type=int, default=16384, help="SO_RCVLOWAT of counting viewers (1: off)"
    )
    parser.add_argument(
        "--sweep", type=float, default=5.0, help="seconds between reads of every socket"
    )
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    args.total = args.total or args.count
    raise_nofile()
    runner = run_viewers if args.role == "viewers" else run_senders
    with contextlib.suppress(KeyboardInterrupt):
        if _use_uvloop(args.loop):
            import uvloop

            uvloop.run(runner(args))
        else:
            asyncio.run(runner(args))
    return 0


def _use_uvloop(choice: str) -> bool:
    if choice == "asyncio":
        return False
    try:
        import uvloop  # noqa: F401
    except ImportError:
        if choice == "uvloop":
            raise
        return False
    return True


def loop_name() -> str:
    """Which event loop runs this process."""
    loop = asyncio.get_running_loop()
    module = type(loop).__module__.split(".")[0]
    return "uvloop" if module == "uvloop" else "asyncio"


if __name__ == "__main__":
    sys.exit(main())
