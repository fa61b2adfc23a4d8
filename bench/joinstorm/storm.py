"""Load generator of the join-storm benchmark: many websocket viewers joining one room at once.

Run by ``bench.joinstorm.run`` as ``python -m bench.joinstorm.storm --count N ...``. At the
wall time ``--at`` (so several generator processes start together) it starts the viewers'
TCP connects, at most ``--inflight`` connects, upgrades and joins under way at a time (0: no
limit: every viewer at once, like browsers whose node just died). Each viewer upgrades, sends
``join`` once the upgrade is answered, and waits for ``joined``.

The clients are plain non-blocking sockets driven by one ``epoll`` loop, with no event-loop
objects per connection: a Python asyncio client costs about half a millisecond of CPU per
connection, which on a 2-core machine shared with the server would bound the figures at about
2 000 joins a second whatever the server does. The process prints one JSON line: per viewer
the seconds from the storm's start to its upgrade (101) and to its ``joined``, and failures.
"""

from __future__ import annotations

import argparse
import base64
import errno
import hashlib
import json
import os
import select
import socket
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass

from bench.fanout.loadgen import _endpoint, raise_nofile

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
JOINED = b'"joined"'
ERROR = b'"error"'
CONNECTING, UPGRADING, JOINING, DONE = range(4)


def masked_text(payload: bytes) -> bytes:
    """One final masked client text frame (payload under 126 bytes)."""
    assert len(payload) < 126
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x81, 0x80 | len(payload))) + mask + body


@dataclass(slots=True)
class Viewer:
    """One connection's state."""

    index: int
    sock: socket.socket
    started: float
    key: bytes
    state: int = CONNECTING
    buffer: bytes = b""
    upgraded: float = -1.0
    joined: float = -1.0


class Storm:
    """The viewers of one process and the epoll loop that drives them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.poll = select.epoll()
        self.viewers: dict[int, Viewer] = {}
        self.done: list[Viewer] = []
        self.failures: Counter[str] = Counter()
        join: dict[str, str] = {"type": "join", "room": args.room}
        if args.after:
            join["after"] = args.after  # viewers that reconnect resume from what they saw
        self.join = masked_text(json.dumps(join).encode())
        self.origin = 0.0

    def request(self, host: str, port: int, key: bytes) -> bytes:
        return (
            f"GET {self.args.path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()

    def start(self, index: int) -> None:
        args = self.args
        host, port = args.endpoints[(args.offset + index) % len(args.endpoints)]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        try:
            if args.sources:
                sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((args.sources[index % len(args.sources)], 0))
            code = sock.connect_ex((host, port))
        except OSError as exc:
            sock.close()
            self.failures[f"connect: {exc.strerror}"] += 1
            return
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            self.failures[f"connect: {os.strerror(code)}"] += 1
            return
        key = base64.b64encode(os.urandom(16))
        viewer = Viewer(index, sock, time.monotonic(), key)
        self.viewers[sock.fileno()] = viewer
        self.poll.register(sock.fileno(), select.EPOLLOUT)

    def fail(self, viewer: Viewer, why: str) -> None:
        self.failures[why] += 1
        fd = viewer.sock.fileno()
        self.poll.unregister(fd)
        del self.viewers[fd]
        viewer.sock.close()

    def ready(self, viewer: Viewer, events: int) -> None:
        now = time.monotonic() - self.origin
        sock = viewer.sock
        if viewer.state == CONNECTING:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self.fail(viewer, f"connect: {os.strerror(code)}")
                return
            host, port = sock.getpeername()
            sock.send(self.request(host, port, viewer.key))
            viewer.state = UPGRADING
            self.poll.modify(sock.fileno(), select.EPOLLIN)
            return
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as exc:
            self.fail(viewer, f"recv: {exc.strerror}")
            return
        if not data:
            self.fail(viewer, "closed by the server")
            return
        viewer.buffer += data
        if viewer.state == UPGRADING:
            end = viewer.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, viewer.buffer = viewer.buffer[:end], viewer.buffer[end + 4 :]
            accept = base64.b64encode(hashlib.sha1(viewer.key + WS_GUID).digest())  # noqa: S324
            if not head.startswith(b"HTTP/1.1 101") or accept not in head:
                self.fail(viewer, head.split(b"\r\n", 1)[0].decode(errors="replace")[:80])
                return
            viewer.upgraded = now
            viewer.state = JOINING
            sock.send(self.join)
        if viewer.state == JOINING:
            if JOINED in viewer.buffer:
                viewer.joined = now
                viewer.state = DONE
                viewer.buffer = b""
                self.poll.unregister(sock.fileno())  # later frames wait in the socket
                del self.viewers[sock.fileno()]
                self.done.append(viewer)
            elif ERROR in viewer.buffer:
                self.fail(viewer, "join refused: " + viewer.buffer[-200:].decode(errors="replace"))
            elif len(viewer.buffer) > 65536:
                viewer.buffer = viewer.buffer[-16:]

    def run(self) -> dict[str, object]:
        args = self.args
        time.sleep(max(0.0, args.at - time.time()))
        self.origin = time.monotonic()
        waiting = deque(range(args.count))
        while waiting or self.viewers:
            while waiting and (not args.inflight or len(self.viewers) < args.inflight):
                self.start(waiting.popleft())
            for fd, events in self.poll.poll(0.05):
                viewer = self.viewers.get(fd)
                if viewer is not None:
                    self.ready(viewer, events)
            now = time.monotonic()
            late = [v for v in self.viewers.values() if now - v.started > args.timeout]
            for viewer in late:
                self.fail(viewer, "timed out")
        report: dict[str, object] = {
            "event": "done",
            "joined": sorted(round(v.joined, 4) for v in self.done),
            "upgraded": sorted(round(v.upgraded, 4) for v in self.done),
            "failed": dict(self.failures),
        }
        for viewer in self.done:
            viewer.sock.close()
        return report


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the storm, print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.joinstorm.storm")
    parser.add_argument(
        "--endpoint",
        dest="endpoints",
        type=_endpoint,
        action="append",
        required=True,
        help="host:port of a node (repeat: viewers are spread over them)",
    )
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--room", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--offset", type=int, default=0, help="index of this process's first")
    parser.add_argument("--source", dest="sources", action="append", default=[])
    parser.add_argument("--at", type=float, default=0.0, help="wall time (Unix) to start at")
    parser.add_argument("--inflight", type=int, default=0, help="0: every viewer at once")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per viewer")
    parser.add_argument("--after", default="", help="join with after= this event id")
    args = parser.parse_args(argv)
    raise_nofile()
    sys.stdout.write(json.dumps(Storm(args).run()) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
