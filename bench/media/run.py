"""Orchestrate the media benchmark against real Torget nodes (``python -m bench media``).

1. **Publish → first playable.** A fresh session; ffmpeg publishes a pre-encoded 720p30 clip
   over RTMP through a loopback proxy that notes the publisher's first byte. The source media
   playlist is polled every 20 ms; the times until its first part and its first whole segment
   are listed *and* fetched are noted. A few runs, median reported.
2. **Glass-to-glass.** ``bench.media.publisher`` makes 720p30 frames in real time with the
   wall clock burned in, piped into ``ffmpeg -c copy -f flv rtmp://...``. Two players read the
   source rendition at once (``bench.media.reader``): LL-HLS (blocking reloads, parts) and
   classic HLS (plain reloads, segments). Delay = now - the time burned into a frame.
3. **CPU per session.** One node per ladder (passthrough alone, each rung alone, the default
   ladder); ffmpeg publishes a pre-encoded clip (720p30 and 1080p30) in a loop with ``-c copy``
   (so the publisher costs almost nothing); after a warm-up the CPU seconds of Torget's ffmpeg
   and of the Torget process (minus its idle rate) are read from /proc over a window.

Everything runs on this machine with one clock; other load on it shows in "machine busy".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.fanout.procstat import cpu_seconds, machine_ticks, total_cpu
from bench.fanout.servers import HOST, REPO, Unavailable, free_port, stop_process
from bench.media import commands
from bench.media.playlist import Variant, parse_media, parse_variants
from bench.media.reader import ClassicReader, Delays, LowLatencyReader
from bench.media.server import MediaServer

Say = Callable[[str], None]
BITRATES = {720: 4_000_000, 1080: 6_000_000}  # the clips' video bit rates (OBS-like)
CLIP_SECONDS = 6


@dataclass(frozen=True)
class Plan:
    """What to run, and how long."""

    first_runs: int = 3
    latency_seconds: float = 25.0  # both players together
    latency_warmup: float = 2.0  # first seconds of each player not counted
    latency_size: tuple[int, int] = (1280, 720)
    cpu_seconds: float = 15.0  # measuring window per run
    cpu_warmup: float = 3.0  # after the first segment, before the window
    sources: tuple[int, ...] = (720, 1080)
    ladders: tuple[tuple[int, ...], ...] = ((), (720,), (480,), (360,), (720, 480, 360))
    cores: int = 2  # the node the estimate is for
    headroom: float = 0.8  # share of those cores media may use


QUICK = Plan(first_runs=2, latency_seconds=12.0, cpu_seconds=6.0, ladders=((), (480,)))
SMOKE = Plan(
    first_runs=1,
    latency_seconds=6.0,
    latency_warmup=1.0,
    latency_size=(640, 360),
    cpu_seconds=2.0,
    cpu_warmup=0.5,
    sources=(720,),
    ladders=((), (360,)),
)


@dataclass
class FirstPlayable:
    """One publish: seconds from the publisher's first byte to the first part / segment."""

    part: float | None = None
    segment: float | None = None
    error: str = ""


@dataclass
class Latency:
    """Both players' delays, and what the publisher cost."""

    low_latency: Delays
    classic: Delays
    target_duration: float = 0.0
    part_hold_back: float | None = None
    segment_seconds: float | None = None  # average duration of the segments listed
    publisher_cores: float | None = None  # the Python encoder plus its ffmpeg relay
    error: str = ""


@dataclass
class CpuRun:
    """One session at one source height on a node with one ladder."""

    ladder: tuple[int, ...]
    source: int
    renditions: list[Variant] = field(default_factory=list)
    ffmpeg_cores: float | None = None
    torget_cores: float | None = None  # the Torget process, its idle rate taken off
    publisher_cores: float | None = None
    machine_busy: float | None = None  # share of all cores busy during the window
    error: str = ""

    @property
    def session_cores(self) -> float | None:
        """What one session costs the node: its ffmpeg plus Torget's share."""
        if self.ffmpeg_cores is None or self.torget_cores is None:
            return None
        return self.ffmpeg_cores + max(0.0, self.torget_cores)


@dataclass
class MediaResult:
    """Everything the media benchmark measured."""

    plan: Plan
    ffmpeg: str = ""
    first: list[FirstPlayable] = field(default_factory=list)
    latency: Latency | None = None
    cpu: list[CpuRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- helpers ---------------------------------------------------------------------------------


def ffmpeg_program() -> str:
    """The ffmpeg Torget uses with an empty ``media.ffmpeg``: PATH's, else imageio-ffmpeg's."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]
    except ImportError:
        raise Unavailable("no ffmpeg on PATH and no imageio-ffmpeg") from None
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def ffmpeg_version(ffmpeg: str) -> str:
    """The first line of ``ffmpeg -version``, shortened."""
    done = subprocess.run(
        [ffmpeg, "-hide_banner", "-version"], capture_output=True, text=True, check=False
    )
    words = (done.stdout.splitlines() or ["ffmpeg ?"])[0].split()
    return " ".join(words[:3])


class FirstByteProxy:
    """A loopback TCP proxy to the RTMP port that notes when the publisher's first byte came."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.first_byte: float | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.read(65536)
        if not first:
            writer.close()
            return
        if self.first_byte is None:
            self.first_byte = time.monotonic()
        up_reader, up_writer = await asyncio.open_connection(HOST, self.target_port)
        up_writer.write(first)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(_pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.close()


async def _start(
    args: Sequence[str], *, stdin: int | None = None, stdout: int | None = None, cwd: Path = REPO
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else stdin,
        stdout=asyncio.subprocess.DEVNULL if stdout is None else stdout,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=cwd,
    )


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with http.get(url) as answer:
        return answer.status, await answer.read()


async def _settle(server: MediaServer, seconds: float = 10.0) -> None:
    """Wait until the node runs no ffmpeg (the last session's pipeline is gone)."""
    deadline = time.monotonic() + seconds
    while server.ffmpeg_pids() and time.monotonic() < deadline:  # noqa: ASYNC110 (polls /proc)
        await asyncio.sleep(0.1)


async def _until_segment(
    http: aiohttp.ClientSession, url: str, seconds: float, variants: int = 1
) -> list[Variant]:
    """Wait until the multivariant playlist at ``url`` names ``variants`` variants and the
    first variant lists a whole segment; return the variants."""
    deadline = time.monotonic() + seconds
    base = url.rsplit("/", 1)[0] + "/"
    while time.monotonic() < deadline:
        status, body = await _get(http, url)
        if status == 200:
            found = parse_variants(body.decode())
            if len(found) >= variants:
                status, body = await _get(http, base + found[0].uri)
                if status == 200 and parse_media(body.decode()).complete:
                    return found
        await asyncio.sleep(0.1)
    raise Unavailable(f"no segment within {seconds:.0f} s")


# --- 1. publish to first playable ---------------------------------------------------------------


async def first_playable(server: MediaServer, ffmpeg: str, clip: Path) -> FirstPlayable:
    """Publish ``clip`` through the proxy; time the first part and segment listed + fetched."""
    result = FirstPlayable()
    session_id, key = await server.new_session("First segment")
    proxy = FirstByteProxy(server.rtmp_port)
    await proxy.start()
    url = f"rtmp://{HOST}:{proxy.port}/live/{key}"
    playlist_url = f"{server.base}/hls/{session_id}/source.m3u8"
    publisher = await _start(commands.loop_args(ffmpeg, clip, url))
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 20
            while result.segment is None and time.monotonic() < deadline:
                status, body = await _get(http, playlist_url)
                if status == 200 and proxy.first_byte is not None:
                    listed = parse_media(body.decode())
                    base = playlist_url.rsplit("/", 1)[0] + "/"
                    parts = [p for s in listed.segments for p in s.parts]
                    if result.part is None and parts:
                        fetched, _ = await _get(http, base + parts[0].uri)
                        if fetched == 200:
                            result.part = time.monotonic() - proxy.first_byte
                    if listed.complete:
                        uri = listed.complete[0].uri
                        assert uri is not None
                        fetched, _ = await _get(http, base + uri)
                        if fetched == 200:
                            result.segment = time.monotonic() - proxy.first_byte
                            if result.part is None:
                                result.part = result.segment
                if publisher.returncode is not None:
                    raise Unavailable(f"the publisher exited ({publisher.returncode})")
                await asyncio.sleep(0.02)
            if result.segment is None:
                result.error = "no segment within 20 s"
    except (Unavailable, aiohttp.ClientError, OSError) as exc:
        result.error = str(exc) or type(exc).__name__
    finally:
        await stop_process(publisher)
        await proxy.stop()
        await _settle(server)
    return result


# --- 2. glass to glass ------------------------------------------------------------------------


async def glass_to_glass(server: MediaServer, ffmpeg: str, plan: Plan) -> Latency:
    """Publish the stamped clock; let an LL-HLS and a classic HLS player follow it."""
    latency = Latency(Delays(), Delays())
    session_id, key = await server.new_session("Glass to glass")
    read_fd, write_fd = os.pipe()
    try:
        encoder = await _start(
            commands.publisher_args(sys.executable, plan.latency_size, 30, 1.0),
            stdout=write_fd,
        )
        try:
            relay = await _start(commands.relay_args(ffmpeg, server.rtmp_url(key)), stdin=read_fd)
        except OSError:
            await stop_process(encoder)
            raise
    finally:
        os.close(read_fd)
        os.close(write_fd)
    master = f"{server.base}/hls/{session_id}/index.m3u8"
    try:
        async with aiohttp.ClientSession() as http:
            await _until_segment(http, master, 30)
            url = f"{server.base}/hls/{session_id}/source.m3u8"
            listed = parse_media((await _get(http, url))[1].decode())
            latency.target_duration = listed.target_duration
            latency.part_hold_back = listed.part_hold_back
            if listed.complete:
                durations = [seg.duration for seg in listed.complete]
                latency.segment_seconds = sum(durations) / len(durations)
            pids = [encoder.pid, relay.pid]
            cpu_before, clock = total_cpu(pids), time.monotonic()
            low = LowLatencyReader(http, url, plan.latency_warmup)
            classic = ClassicReader(http, url, plan.latency_warmup)
            latency.low_latency, latency.classic = await asyncio.gather(
                low.run(plan.latency_seconds), classic.run(plan.latency_seconds)
            )
            latency.publisher_cores = (total_cpu(pids) - cpu_before) / (time.monotonic() - clock)
    except (Unavailable, aiohttp.ClientError, OSError) as exc:
        latency.error = str(exc) or type(exc).__name__
    finally:
        await stop_process(encoder)
        await stop_process(relay)
        await _settle(server)
    return latency


# --- 3. CPU per session ---------------------------------------------------------------------------


class ChildCpu:
    """CPU seconds of the processes a Torget node runs, sampled so that one which exits (or
    is restarted) during the window still counts up to its last sample."""

    def __init__(self, server: MediaServer) -> None:
        self.server = server
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.started = 0
        self.sample(initial=True)

    def sample(self, *, initial: bool = False) -> None:
        """Read every child's CPU seconds now."""
        for pid in self.server.ffmpeg_pids():
            try:
                used = cpu_seconds(pid)
            except (OSError, ValueError):
                continue
            if pid not in self.first:
                self.first[pid] = used if initial else 0.0
                self.started += 0 if initial else 1
            self.last[pid] = used

    def used(self) -> float:
        """CPU seconds used since the first sample."""
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


async def idle_rate(server: MediaServer, seconds: float = 2.0) -> float:
    """The Torget process's CPU (cores) with no session publishing."""
    before, clock = cpu_seconds(server.pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds(server.pid) - before) / (time.monotonic() - clock)


async def cpu_run(
    server: MediaServer, ffmpeg: str, clip: Path, source: int, plan: Plan, idle: float
) -> CpuRun:
    """One session publishing ``clip`` in a loop; CPU over ``plan.cpu_seconds``."""
    run = CpuRun(server.ladder, source)
    session_id, key = await server.new_session(f"CPU {source}p")
    publisher = await _start(commands.loop_args(ffmpeg, clip, server.rtmp_url(key)))
    expected = 1 + sum(1 for h in server.ladder if h < source)
    try:
        async with aiohttp.ClientSession() as http:
            master = f"{server.base}/hls/{session_id}/index.m3u8"
            run.renditions = await _until_segment(http, master, 30, expected)
        await asyncio.sleep(plan.cpu_warmup)
        children = ChildCpu(server)
        torget_before = cpu_seconds(server.pid)
        publisher_before = total_cpu([publisher.pid])
        busy_before, _, total_before = machine_ticks()
        clock = time.monotonic()
        while time.monotonic() - clock < plan.cpu_seconds:
            await asyncio.sleep(min(0.5, max(0.0, plan.cpu_seconds - (time.monotonic() - clock))))
            children.sample()
        wall = time.monotonic() - clock
        run.ffmpeg_cores = children.used() / wall
        run.torget_cores = (cpu_seconds(server.pid) - torget_before) / wall - idle
        run.publisher_cores = (total_cpu([publisher.pid]) - publisher_before) / wall
        busy_after, _, total_after = machine_ticks()
        if total_after > total_before:
            run.machine_busy = (busy_after - busy_before) / (total_after - total_before)
        if children.started:
            run.error = f"Torget started {children.started} ffmpeg during the window (a restart)"
        if publisher.returncode is not None:
            run.error = f"the publisher exited ({publisher.returncode}) during the window"
    except (Unavailable, aiohttp.ClientError, OSError) as exc:
        run.error = str(exc) or type(exc).__name__
    finally:
        await stop_process(publisher)
        await _settle(server)
    return run


# --- the whole benchmark ------------------------------------------------------------------------


async def _make_clips(ffmpeg: str, workdir: Path, heights: Sequence[int]) -> dict[int, Path]:
    clips: dict[int, Path] = {}
    for height in sorted(set(heights)):
        path = workdir / f"clip{height}.mp4"
        args = commands.clip_args(
            ffmpeg, path, height, CLIP_SECONDS, BITRATES.get(height, 4_000_000)
        )
        done = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        _, err = await done.communicate()
        if done.returncode != 0:
            raise Unavailable(f"could not encode the {height}p clip: {err.decode()[-200:]}")
        clips[height] = path
    return clips


@contextlib.asynccontextmanager
async def _node(workdir: Path, ladder: tuple[int, ...]) -> AsyncIterator[MediaServer]:
    name = "-".join(str(h) for h in ladder) or "passthrough"
    server = MediaServer(workdir / f"node-{name}", ladder)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def ladder_name(ladder: tuple[int, ...]) -> str:
    """How a ladder is named in the report."""
    if not ladder:
        return "passthrough only"
    return "source + " + ", ".join(f"{h}p" for h in ladder)


async def run_async(plan: Plan, say: Say) -> MediaResult:
    """Run the three parts; failures become notes, never exceptions."""
    result = MediaResult(plan)
    started = time.monotonic()
    try:
        await _run_parts(plan, say, result)
    except Unavailable as exc:
        result.notes.append(f"not measured: {exc}")
        say(f"media: not measured: {exc}")
    result.seconds = time.monotonic() - started
    return result


async def _run_parts(plan: Plan, say: Say, result: MediaResult) -> None:
    ffmpeg = ffmpeg_program()
    result.ffmpeg = ffmpeg_version(ffmpeg)
    with tempfile.TemporaryDirectory(prefix="torget-media-bench-") as tmp:
        workdir = Path(tmp)
        say(f"media: encoding test clips ({', '.join(f'{h}p' for h in plan.sources)})")
        clips = await _make_clips(ffmpeg, workdir, (*plan.sources, 720))
        for ladder in plan.ladders:
            runs = [s for s in plan.sources if not ladder or any(h < s for h in ladder)]
            first_node = ladder == plan.ladders[0]
            if not runs and not first_node:
                continue
            try:
                async with _node(workdir, ladder) as server:
                    if first_node:
                        for _ in range(plan.first_runs):
                            found = await first_playable(server, ffmpeg, clips[720])
                            result.first.append(found)
                            say(f"media: publish -> first part {_s(found.part)}, "
                                f"first segment {_s(found.segment)} {found.error}")  # fmt: skip
                        say(f"media: glass to glass for {plan.latency_seconds:.0f} s")
                        result.latency = await glass_to_glass(server, ffmpeg, plan)
                    idle = await idle_rate(server)
                    for source in runs:
                        say(f"media: CPU, {ladder_name(ladder)}, {source}p30 source")
                        run = await cpu_run(server, ffmpeg, clips[source], source, plan, idle)
                        result.cpu.append(run)
                        say(f"media:   ffmpeg {_pct(run.ffmpeg_cores)}, torget "
                            f"{_pct(run.torget_cores)} of a core {run.error}")  # fmt: skip
            except Unavailable as exc:
                result.notes.append(f"{ladder_name(ladder)}: {exc}")
                say(f"media: {ladder_name(ladder)}: {exc}")


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def run(plan: Plan, say: Say = print) -> MediaResult:
    """Run the media benchmark (blocking)."""
    return asyncio.run(run_async(plan, say))


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.media.run [--quick]``: run and print the Markdown section."""
    from bench.media.report import markdown

    parser = argparse.ArgumentParser(prog="python -m bench.media.run")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else Plan()
    print(markdown(run(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
