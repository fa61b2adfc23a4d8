"""Run the viewer latency benchmark (``python -m bench viewer``).

A Torget node with the shipped media settings (ladder 720/480/360, x264 ``veryfast``, the
slate on) gets the stamped publisher (``bench.media.publisher``: 1280x720 at 30 fps, the wall
clock burned into each picture, publishing over RTMP itself as an encoder does) into an
auto-starting session. Headless Chromium
opens the product's own viewer page (``/s/{id}``) with the latency mode chosen as a viewer
chooses it; ``probe.js`` reads the clock back from the ``<video>`` every 100 ms. Per mode:

1. at go-live: page A is open before the publisher starts; the session auto-starts; A is
   measured from its first picture;
2. a late joiner: page B opens ``join_after`` s after A's first picture;
3. a stall (HLS modes): A's HLS requests are held ``stall_hold`` s; how fast it gets back to
   within 0.3 s of where it played before, and the fastest playback rate it used;
4. each rendition's own distance (LL-HLS): A's quality menu pinned to each in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError

from bench.fanout.procstat import machine_ticks
from bench.fanout.servers import REPO, Unavailable, stop_process
from bench.media.commands import publisher_args
from bench.media.playlist import Summary as Spread
from bench.media.server import MediaServer
from bench.viewer import stats
from bench.viewer.stats import Sample

Say = Callable[[str], None]
CHROMIUM = "/usr/bin/chromium"
PROBE = Path(__file__).with_name("probe.js")
LOG_NAME = "torget-bench-viewer.log"  # the node's log, kept in the temp directory
MODES = {"low": "LL-HLS (default page)", "standard": "classic HLS", "lowest": "WebRTC (WHEP)"}


@dataclass(frozen=True)
class Plan:
    """What to measure."""

    modes: tuple[str, ...] = ("low", "standard", "lowest")
    ladder: tuple[int, ...] = (720, 480, 360)
    go_live_seconds: float = 20.0
    join_after: float = 8.0
    joiner_seconds: float = 15.0
    stall_hold: float = 2.0
    after_stall: float = 12.0
    settle_pinned: float = 4.0
    pinned_seconds: float = 6.0


QUICK = Plan(
    modes=("low",),
    go_live_seconds=10.0,
    joiner_seconds=8.0,
    after_stall=10.0,
    settle_pinned=3.0,
    pinned_seconds=3.0,
)


@dataclass
class Viewer:
    """One page's measurement."""

    first_picture: float | None  # s from the publisher's first frame / from opening the page
    spread: Spread | None
    heights: dict[int, Spread]
    freezes: tuple[int, float]
    playback: str


@dataclass
class Stall:
    """A's stall: where it played before, what the stall added, how it came back."""

    target: float
    peak: float  # the furthest behind after the stall (s)
    recovery: float | None
    fastest: float


@dataclass
class ModeResult:
    """One latency mode of the page."""

    mode: str
    go_live: Viewer
    joiner: Viewer
    stall: Stall | None
    pinned: dict[int, Spread]  # A with its quality pinned to each rendition in turn
    busy: float  # share of all cores busy during the mode's run
    load: float  # 1-minute load average at its end


@dataclass
class Result:
    """The whole benchmark."""

    plan: Plan
    modes: list[ModeResult] = field(default_factory=list)
    cores: int = 1
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def overload_notes(log: str) -> list[str]:
    """What the node's log says it dropped because it could not keep up (``overload``)."""
    return [
        "the node could not keep up with its ladder and "
        + line.split("; ", 1)[1].strip().replace("dropping", "dropped", 1)
        + " (ffmpeg "
        + line.split("(", 1)[1].split(")", 1)[0]
        + "): its viewers moved to another rendition"
        for line in log.splitlines()
        if "cannot keep up with the ladder" in line and "; " in line and "(" in line
    ]


def ffmpeg() -> str:
    """The ffmpeg to run."""
    from streaming.plane import find_ffmpeg

    return find_ffmpeg("")


def _now() -> int:
    return round(time.time() * 1000)


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


async def _samples(page: Any) -> list[Sample]:
    raw = await page.evaluate("window.__benchSamples || []")
    return [Sample(int(s["at"]), s["stamp"], int(s["height"]), float(s["rate"])) for s in raw]


async def _playback(page: Any) -> str:
    return str(await page.evaluate("document.getElementById('video')?.dataset.playback || ''"))


async def _open(browser: Any, base: str, session_id: str, mode: str) -> tuple[Any, Any]:
    context = await browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    await context.add_init_script(f"window.__benchLatency = {mode!r};\n" + PROBE.read_text())
    page = await context.new_page()
    await page.goto(f"/s/{session_id}")
    return context, page


async def _first_picture(page: Any, since: int, within: float) -> int:
    """The wall clock (ms) of the page's first readable picture after ``since``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = stats.first_picture(await _samples(page), since)
        if found is not None:
            return since + round(found * 1000)
        await asyncio.sleep(0.2)
    raise Unavailable(f"no readable picture within {within:.0f} s")


async def _first_frame(source: asyncio.subprocess.Process, within: float = 20) -> int:
    assert source.stderr is not None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(source.stderr.readline(), within)
        if not line:
            break
        if line.startswith(b"first-frame "):
            return int(line.split()[1])
    raise Unavailable("the publisher made no frame")


def _viewer(samples: list[Sample], first: float | None, start: int, seconds: float) -> Viewer:
    part = stats.window(samples, start, start + round(seconds * 1000))
    return Viewer(
        first_picture=first,
        spread=stats.spread(stats.distances(part)),
        heights=stats.by_height(part),
        freezes=stats.freezes(part),
        playback="",
    )


async def _stall(page: Any, plan: Plan) -> int:
    """Hold the page's HLS requests for ``stall_hold`` s; the wall clock when let go."""
    release = asyncio.Event()

    async def hold(route: Any) -> None:
        await release.wait()
        with contextlib.suppress(Exception):  # the page may have given up on the request
            await route.continue_()

    await page.route("**/hls/**", hold)
    await asyncio.sleep(plan.stall_hold)
    release.set()
    released = _now()
    await page.unroute("**/hls/**", hold)
    return released


async def _pinned(page: Any, plan: Plan, say: Say) -> dict[int, Spread]:
    """Pin the page's quality to each rendition in turn (the page's own menu); each one's
    distance from live once it settled."""
    found: dict[int, Spread] = {}
    labels = await page.eval_on_selector_all(
        "#quality option", "options => options.map(o => o.textContent)"
    )
    for label in labels[1:]:  # after "Automatic"
        try:  # the menu is off while the player (re)loads the playlists
            await page.select_option("#quality", label=label, timeout=20_000)
        except PlaywrightError as exc:  # gone (dropped for overload?): leave it out
            say(f"pinned {label}: not chosen ({str(exc).splitlines()[0]})")
            continue
        await asyncio.sleep(plan.settle_pinned)
        start = _now()
        await asyncio.sleep(plan.pinned_seconds)
        part = stats.window(await _samples(page), start, _now())
        for height, spread in stats.by_height(part).items():
            if spread.count >= len(part) // 2:
                found[height] = spread
    return found


async def _publish(server: MediaServer, key: str) -> Any:
    """The stamped publisher, connected to the node's RTMP before it makes its first frame."""
    return await asyncio.create_subprocess_exec(
        *publisher_args(sys.executable, (1280, 720), 30, 1.0, server.rtmp_url(key)),
        cwd=REPO, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _mode(server: MediaServer, browser: Any, mode: str, plan: Plan, say: Say) -> ModeResult:
    session_id, key = await server.new_session(f"Viewer latency: {mode}", auto_start=True)
    context_a, page_a = await _open(browser, server.base, session_id, mode)
    context_b: Any = None
    await asyncio.sleep(2)  # the page has its websocket welcome and shows "starts soon"
    busy_before, _, total_before = machine_ticks()
    source = await _publish(server, key)
    try:
        published = await _first_frame(source)
        shown_a = await _first_picture(page_a, published, 30)
        say(f"{mode}: first picture {(shown_a - published) / 1000:.2f} s after the first frame")
        await asyncio.sleep(max(0.0, shown_a / 1000 + plan.join_after - time.time()))
        context_b, page_b = await _open(browser, server.base, session_id, mode)
        opened_b = _now()
        shown_b = await _first_picture(page_b, opened_b, 30)
        a_end = shown_a + round(plan.go_live_seconds * 1000)
        b_end = shown_b + round(plan.joiner_seconds * 1000)
        await asyncio.sleep(max(0.0, a_end / 1000 - time.time()))
        stall: Stall | None = None
        if mode != "lowest":
            stalled_at = _now()
            released = await _stall(page_a, plan)
            await asyncio.sleep(plan.after_stall)
            samples = await _samples(page_a)
            before = stats.distances(stats.window(samples, stalled_at - 8000, stalled_at))
            after = stats.window(samples, stalled_at, _now())
            if before:
                target = stats.spread(before)
                assert target is not None
                stall = Stall(
                    target=target.median,
                    peak=max(stats.distances(after), default=target.median),
                    recovery=stats.recovery(after, released, target.median),
                    fastest=stats.fastest(after),
                )
        await asyncio.sleep(max(0.0, b_end / 1000 - time.time()))
        pinned = await _pinned(page_a, plan, say) if mode == "low" else {}
        busy_after, _, total_after = machine_ticks()
        go_live = _viewer(
            await _samples(page_a), (shown_a - published) / 1000, shown_a, plan.go_live_seconds
        )
        go_live.playback = await _playback(page_a)
        joiner = _viewer(
            await _samples(page_b), (shown_b - opened_b) / 1000, shown_b, plan.joiner_seconds
        )
        joiner.playback = await _playback(page_b)
    finally:
        await stop_process(source)
        with contextlib.suppress(Exception):
            await server.end_session(session_id)
        await context_a.close()
        if context_b is not None:
            await context_b.close()
    busy = (busy_after - busy_before) / max(1, total_after - total_before)
    result = ModeResult(mode, go_live, joiner, stall, pinned, busy, _load())
    for name, viewer in (("go-live", go_live), ("joiner", joiner)):
        if viewer.spread is not None:
            say(
                f"{mode} {name} ({viewer.playback}): median {viewer.spread.median:.2f} s "
                f"(p10 {viewer.spread.p10:.2f}, p90 {viewer.spread.p90:.2f}), "
                f"freezes {viewer.freezes[0]} ({viewer.freezes[1]:.2f} s), by height "
                + ", ".join(f"{h}p {d.median:.2f} s ({d.count})" for h, d in viewer.heights.items())
            )
    if pinned:
        say(f"{mode} pinned: " + ", ".join(f"{h}p {d.median:.2f} s" for h, d in pinned.items()))
    if stall is not None:
        say(
            f"{mode} stall: target {stall.target:.2f} s, peak {stall.peak:.2f} s, back in "
            f"{stall.recovery} s, fastest rate {stall.fastest}"
        )
    return result


@contextlib.asynccontextmanager
async def node_and_browser(
    ladder: tuple[int, ...], prefix: str, before_cleanup: Callable[[Path], None] | None = None
) -> AsyncIterator[tuple[MediaServer, Any]]:
    """A Torget node (shipped settings, the slate on) in a fresh work directory and headless
    Chromium, for the block; ``before_cleanup`` sees the node's directory once it stopped."""
    from playwright.async_api import async_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    server = MediaServer(work / "node", ladder, slate=True)
    await server.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--autoplay-policy=no-user-gesture-required", "--disable-dev-shm-usage"],
            )
            try:
                yield server, browser
            finally:
                await browser.close()
    finally:
        await server.stop()
        if before_cleanup is not None:
            before_cleanup(work / "node")
        shutil.rmtree(work, ignore_errors=True)


async def run_async(plan: Plan, say: Say) -> Result:
    """Start a node and a browser, measure every mode, stop everything."""
    result = Result(plan, cores=os.cpu_count() or 1)
    clock = time.monotonic()

    def keep_log(node: Path) -> None:
        with contextlib.suppress(OSError):
            log = (node / "torget.log").read_text(errors="replace")
            result.notes += overload_notes(log)
            shutil.copy(node / "torget.log", Path(tempfile.gettempdir()) / LOG_NAME)

    async with node_and_browser(plan.ladder, "torget-bench-viewer-", keep_log) as (server, browser):
        for mode in plan.modes:
            result.modes.append(await _mode(server, browser, mode, plan, say))
    result.seconds = time.monotonic() - clock
    return result


def run(plan: Plan, say: Say = print) -> Result:
    """Run the benchmark."""
    if not Path(CHROMIUM).exists():
        raise Unavailable(f"needs {CHROMIUM}")
    return asyncio.run(run_async(plan, say))
