"""Captions kept with the recording, end to end with real ffmpeg: the replay's HLS lists a
subtitle rendition per caption language whose VOD playlist and WebVTT segments put a cue where
the live ones did, and the MP4 download carries a mov_text stream per language, tagged with its
ISO 639-2 code and timed from going live."""

from __future__ import annotations

import asyncio
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import m3u8  # type: ignore[import-untyped]
import pytest

from streaming import names
from tests.support.media_stage import (
    Stage,
    fetch,
    new_session,
    playlist,
    publisher,
    replay_published,
    stage,
    start_broadcast,
)
from tests.support.media_tools import FFMPEG, needs_ffmpeg, probe
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_ffmpeg]

SWEDISH = "Välkomna till mässan"
ENGLISH = "Welcome to the fair"
INTO_SEGMENT = 0.3  # where the Swedish cue starts within its segment (s)
SHOWN = 1.5  # how long each cue lasts (s)


def program_date_times(parsed: m3u8.M3U8) -> dict[str, datetime]:
    """The program date time of each listed segment, by the video segment it belongs to."""
    found: dict[str, datetime] = {}
    for segment in parsed.segments:
        if segment.program_date_time is not None:
            uri = str(segment.uri).split(".")[0] + ".m4s"
            found[uri] = segment.program_date_time
    return found


async def timed_segments(st: Stage, session_id: str, count: int) -> dict[str, datetime]:
    """Wait until the live playlist lists ``count`` complete segments of the broadcast (the
    ingest run after the slate's); their program date times."""

    async def listed() -> dict[str, datetime] | None:
        answer = await st.app.client.get(f"/hls/{session_id}/source.m3u8")
        if answer.status != 200:  # the broadcast's run is still starting
            return None
        live = m3u8.loads(await answer.text())
        runs = [names.parse_name(str(s.uri)).run for s in live.segments if s.uri]
        if not runs:
            return None
        stamps = program_date_times(live)
        ingest = {uri: at for uri, at in stamps.items() if uri.startswith(f"r{max(runs):04d}_")}
        return ingest if len(ingest) >= count else None

    found = await until(listed, timeout=20, what=f"{count} segments on air", interval=0.2)
    assert found is not None
    return found


async def post_cue(st: Stage, session_id: str, language: str, text: str, start: datetime) -> None:
    """Caption a line of ``language`` shown from ``start`` for ``SHOWN`` s."""
    st.app.clock.current = datetime.now(UTC)  # the programme's clock is the pictures' clock
    cue = {"text": text, "language": language, "start": start.isoformat(),
           "end": (start + timedelta(seconds=SHOWN)).isoformat()}  # fmt: skip
    answer = await st.app.client.post(
        f"/api/v1/sessions/{session_id}/captions", json=cue, headers=st.app.admin
    )
    assert answer.status == 201, await answer.text()


VTT_CUE = re.compile(r"^([0-9:.]+) --> ([0-9:.]+)[^\n]*\n(.+)$", re.MULTILINE)


def _seconds(stamp: str) -> float:
    total = 0.0
    for part in stamp.split(":"):
        total = total * 60 + float(part)
    return total


def assert_one_cue(cues: list[tuple[float, float, str]], start: float, text: str) -> None:
    """``cues`` is one cue of ``text`` shown from ``start`` s for ``SHOWN`` s (to 2 ms)."""
    assert [line for _, _, line in cues] == [text]
    assert cues[0][0] == pytest.approx(start, abs=0.002)
    assert cues[0][1] == pytest.approx(start + SHOWN, abs=0.002)


def vtt_cues(text: str) -> list[tuple[float, float, str]]:
    """The cues of a WebVTT file: (start, end) in seconds and the (one-line) text."""
    return [(_seconds(a), _seconds(b), line) for a, b, line in VTT_CUE.findall(text)]


def subtitle_cues(mp4: Path, stream: int) -> list[tuple[float, float, str]]:
    """The cues of the MP4's subtitle stream ``stream``, read back as WebVTT by ffmpeg."""
    assert FFMPEG is not None
    args = [FFMPEG, "-hide_banner", "-loglevel", "error", "-i", str(mp4), "-map", f"0:s:{stream}"]
    out = subprocess.run(
        [*args, "-f", "webvtt", "-"], check=True, capture_output=True, text=True, timeout=20
    ).stdout
    return vtt_cues(out)


@dataclass(frozen=True)
class CaptionedReplay:
    """A recorded session captioned live: the Swedish cue starts ``INTO_SEGMENT`` s into the
    source segment ``segment`` (``segment_at`` its live program date time, ``live_map`` its
    live WebVTT segment), the English one 0.1 s into the next."""

    session_id: str
    segment: str
    segment_at: datetime
    live_map: str
    sv_start: datetime
    en_start: datetime


async def captioned_replay(st: Stage, size: str = "1280x720") -> CaptionedReplay:
    """Broadcast a few seconds, caption a Swedish and an English line, end; wait for the
    replay."""
    session_id, key = await new_session(st, "Replay captions")
    async with publisher(st.rtmp(key), gop=30, size=size):
        st.app.clock.current = datetime.now(UTC)
        await start_broadcast(st, session_id)
        live = await timed_segments(st, session_id, 3)
        first, second = sorted(live)[1:3]
        live_map = (await fetch(st, f"/hls/{session_id}/{names.cues_name(first, 'sv')}"))[0]
        sv_start = live[first] + timedelta(seconds=INTO_SEGMENT)
        en_start = live[second] + timedelta(seconds=0.1)
        await post_cue(st, session_id, "sv", SWEDISH, sv_start)
        await post_cue(st, session_id, "en", ENGLISH, en_start)
        end = await st.app.client.post(f"/api/v1/sessions/{session_id}/end", headers=st.app.admin)
        assert end.status == 200
    await replay_published(st, session_id)
    return CaptionedReplay(session_id, first, live[first], live_map.decode(), sv_start, en_start)


async def test_the_replay_and_its_mp4_carry_the_captions(tmp_path: Path) -> None:
    """A Swedish and an English cue captioned live: the replay's multivariant lists both
    subtitle renditions; the Swedish VOD subtitle playlist gives the cue's segment the program
    date time the live one had, and its WebVTT segment holds the cue 0.3 s in, with the live
    one's timestamp map; the MP4 has a swe and an eng mov_text stream, each cue where its
    picture plays."""
    async with stage(tmp_path, ladder=[], max_gop=1.0) as st:
        made = await captioned_replay(st)
        session_id, first = made.session_id, made.segment
        hls = f"/hls/{session_id}"

        master = m3u8.loads((await fetch(st, f"{hls}/index.m3u8"))[0].decode())
        subtitles = [m for m in master.media if m.type == "SUBTITLES"]
        assert [(m.group_id, m.language, m.uri) for m in subtitles] == [
            ("subs", "sv", "subs-sv.m3u8"),
            ("subs", "en", "subs-en.m3u8"),
        ]
        assert all(p.stream_info.subtitles == "subs" for p in master.playlists)

        video = await playlist(st, f"{hls}/source.m3u8")
        subs = await playlist(st, f"{hls}/subs-sv.m3u8")
        assert subs.playlist_type == "vod"
        assert subs.is_endlist
        assert [str(s.uri).split(".")[0] for s in subs.segments] == [
            str(s.uri).split(".")[0] for s in video.segments
        ]
        assert [s.duration for s in subs.segments] == [s.duration for s in video.segments]
        replayed = program_date_times(subs)
        gap = abs((replayed[first] - made.segment_at).total_seconds())
        assert gap <= 0.002, f"{first}: replay {replayed[first]}, live {made.segment_at}"

        cue_file = names.cues_name(first, "sv")
        body, headers = await fetch(st, f"{hls}/{cue_file}")
        assert headers["Content-Type"].startswith("text/vtt")
        text = body.decode()
        assert text.splitlines()[1] == made.live_map.splitlines()[1]  # X-TIMESTAMP-MAP, as live
        assert_one_cue(vtt_cues(text), INTO_SEGMENT, SWEDISH)
        others = [s.uri for s in subs.segments if s.uri != cue_file]
        for other in others:
            assert SWEDISH not in (await fetch(st, f"{hls}/{other}"))[0].decode()

        mp4 = tmp_path / "replay.mp4"
        body, _ = await fetch(st, f"/api/v1/sessions/{session_id}/recording.mp4")
        await asyncio.to_thread(mp4.write_bytes, body)
        probed: dict[str, Any] = await asyncio.to_thread(probe, mp4)

    streams = [s for s in probed["streams"] if s["codec_type"] == "subtitle"]
    assert [(s["codec_name"], s["tags"]["language"]) for s in streams] == [
        ("mov_text", "swe"),
        ("mov_text", "eng"),
    ]
    # Where the cue's picture plays in the MP4: the replay's segments before it, then its offset.
    uris = [str(s.uri) for s in video.segments]
    before = sum(s.duration for s in video.segments[: uris.index(first)])
    assert_one_cue(subtitle_cues(mp4, 0), before + INTO_SEGMENT, SWEDISH)
    # The English line ends with the recording (the broadcast ended a moment after it).
    en_at = before + video.segments[uris.index(first)].duration + 0.1
    length = sum(s.duration for s in video.segments)
    [(start, end, line)] = subtitle_cues(mp4, 1)
    assert line == ENGLISH
    assert start == pytest.approx(en_at, abs=0.002)
    assert end == pytest.approx(min(en_at + SHOWN, length), abs=0.002)
