"""Run the caption latency benchmark (``python -m bench captions``).

The viewer benchmark's node and publisher (``bench.viewer.run``: the shipped media settings,
the stamped 720p30 publisher over RTMP, an auto-starting session) and the product's own viewer
page in headless Chromium, once per latency choice (LL-HLS, classic HLS, WebRTC). Once the
page plays, Swedish captions are turned on in its captions menu; a captioner then sends
``lines`` lines over HTTP, one every ``every`` s (as Enter in the caption console does: the
line belongs to the picture of that moment). ``cues.js`` notes when each line is first among
the video's active cues; ``probe.js`` how far behind live the picture is. A line is on time
when it shows no later than the viewer's own delay + 0.5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.captions.stats import Lateness, Line, lateness
from bench.fanout.servers import Unavailable, stop_process
from bench.media.server import MediaServer
from bench.viewer import run as viewer
from bench.viewer.run import CHROMIUM, MODES, Say

CUES = Path(__file__).with_name("cues.js")
LANGUAGE = "sv"  # the first caption language of the shipped configuration


@dataclass(frozen=True)
class Plan:
    """What to measure."""

    modes: tuple[str, ...] = ("low", "standard", "lowest")
    ladder: tuple[int, ...] = (720, 480, 360)
    settle: float = 6.0  # s of playing before the first line
    lines: int = 8
    every: float = 3.0
    after: float = 8.0  # s to wait for the last line


QUICK = Plan(modes=("low",), lines=3, settle=4.0, after=6.0)


@dataclass
class ModeResult:
    """One latency choice's lines."""

    mode: str
    playback: str
    lines: list[Line]
    lateness: Lateness


@dataclass
class Result:
    """The whole benchmark."""

    plan: Plan
    modes: list[ModeResult] = field(default_factory=list)
    seconds: float = 0.0


async def _send(server: MediaServer, session_id: str, text: str) -> int:
    """Post a caption line now (its picture is the present one); the wall clock (ms) sent."""
    sent = round(time.time() * 1000)
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {server.token}"}
    ) as http:  # fmt: skip
        answer = await http.post(
            f"{server.base}/api/v1/sessions/{session_id}/captions",
            json={"text": text, "language": LANGUAGE},
        )
        if answer.status != 201:
            raise Unavailable(f"a caption was refused: {answer.status} {await answer.text()}")
    return sent


async def _captions_on(page: Any, server: MediaServer, session_id: str) -> None:
    """Turn the Swedish track on in the page's captions menu (a WebRTC page makes its track
    when the first line comes: a line is sent first)."""
    find = (
        "[...document.getElementById('video').textTracks]"
        f".findIndex((track) => track.language === '{LANGUAGE}')"
    )
    deadline = time.monotonic() + 20
    while (index := await page.evaluate(find)) < 0:
        if time.monotonic() > deadline:
            raise Unavailable("the page offers no Swedish captions")
        await _send(server, session_id, "Textning på")
        await asyncio.sleep(1.0)
    await page.select_option("#captions", str(index))


async def _mode(server: MediaServer, browser: Any, mode: str, plan: Plan, say: Say) -> ModeResult:
    session_id, key = await server.new_session(f"Caption latency: {mode}", auto_start=True)
    context = await browser.new_context(
        base_url=server.base, viewport={"width": 1280, "height": 900}
    )
    await context.add_init_script(
        f"window.__benchLatency = {mode!r};\n" + viewer.PROBE.read_text() + CUES.read_text()
    )
    page = await context.new_page()
    await page.goto(f"/s/{session_id}")
    source = await viewer._publish(server, key)
    try:
        published = await viewer._first_frame(source)
        await viewer._first_picture(page, published, 30)
        await _captions_on(page, server, session_id)
        await asyncio.sleep(plan.settle)
        sent: list[tuple[str, int]] = []
        for number in range(plan.lines):
            text = f"Rad {number + 1}: välkomna till mässan"
            sent.append((text, await _send(server, session_id, text)))
            await asyncio.sleep(plan.every)
        await asyncio.sleep(plan.after)
        shown = {c["text"]: int(c["at"]) for c in await page.evaluate("window.__benchCues")}
        lines = [Line(text, at, shown.get(text)) for text, at in sent]
        samples = await viewer._samples(page)
        playback = await viewer._playback(page)
    finally:
        await stop_process(source)
        with contextlib.suppress(Exception):
            await server.end_session(session_id)
        await context.close()
    result = ModeResult(mode, playback, lines, lateness(lines, samples))
    late = result.lateness
    if late.to_screen is not None and late.delay is not None:
        say(
            f"{MODES[mode]} ({playback}): Enter to screen median {late.to_screen.median:.2f} s, "
            f"picture behind live {late.delay.median:.2f} s, missed {late.missed}"
        )
    return result


async def run_async(plan: Plan, say: Say) -> Result:
    """Start a node and a browser, measure every mode, stop everything."""
    result = Result(plan)
    clock = time.monotonic()
    async with viewer.node_and_browser(plan.ladder, "torget-bench-captions-") as (server, browser):
        for mode in plan.modes:
            result.modes.append(await _mode(server, browser, mode, plan, say))
    result.seconds = time.monotonic() - clock
    return result


def run(plan: Plan, say: Say = print) -> Result:
    """Run the benchmark."""
    if not Path(CHROMIUM).exists():
        raise Unavailable(f"needs {CHROMIUM}")
    return asyncio.run(run_async(plan, say))
