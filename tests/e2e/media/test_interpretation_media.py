"""End to end: an interpreter's voice becomes an audio rendition of the session's LL-HLS.

ffmpeg publishes a picture with a 440 Hz tone over RTMP; an aiortc interpreter sends a 400 Hz
tone over sound-only WHIP. The English rendition carries the original sound alone before the
interpreter is on air (never silence) and the voice over it once they are; ffprobe reads two
audio renditions with their languages from the multivariant playlist.
"""

from __future__ import annotations

import asyncio
import math
import struct
import subprocess
from pathlib import Path

import m3u8  # type: ignore[import-untyped]
import pytest

from tests.support.media_stage import (
    Stage,
    fetch,
    new_session,
    playlist,
    probe_hls,
    publisher,
    replay_published,
    stage,
)
from tests.support.media_tools import FFMPEG, needs_ffmpeg, probe
from tests.support.waiting import until
from tests.support.whep_viewer import relay_live, viewer
from tests.support.whip_publisher import interpreter_on_air

pytestmark = [pytest.mark.slow, needs_ffmpeg]

RATE = 8_000  # the decoded sound is read back at this rate (mono)


def tone_power(samples: list[int], frequency: float) -> float:
    """The Goertzel power of ``frequency`` in ``samples`` (at ``RATE``), per sample."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / RATE)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return (previous**2 + before**2 - coefficient * previous * before) / len(samples) ** 2


async def latest_sound(st: Stage, session_id: str, rendition: str) -> list[int]:
    """The last two complete segments of an audio rendition, decoded to mono samples."""
    media = await playlist(st, f"/hls/{session_id}/{rendition}.m3u8")
    segments = [s for s in media.segments if s.uri][-2:]
    assert len(segments) == 2, f"{rendition}: fewer than two segments"
    init = (await fetch(st, f"/hls/{session_id}/{segments[0].init_section.uri}"))[0]
    body = init + b"".join([(await fetch(st, f"/hls/{session_id}/{s.uri}"))[0] for s in segments])
    assert FFMPEG is not None
    args = [FFMPEG, "-hide_banner", "-loglevel", "error", "-i", "pipe:0"]
    args += ["-ac", "1", "-ar", str(RATE), "-f", "s16le", "pipe:1"]
    done = await asyncio.to_thread(
        subprocess.run, args, input=body, capture_output=True, check=True, timeout=20
    )
    return list(
        struct.unpack(f"<{len(done.stdout) // 2}h", done.stdout[: len(done.stdout) // 2 * 2])
    )


def left_channel_at_8k(sound: bytes) -> list[int]:
    """48 kHz stereo s16 sound as its left channel at ``RATE`` (every sixth sample)."""
    samples = struct.unpack(f"<{len(sound) // 2}h", sound[: len(sound) // 2 * 2])
    return list(samples[0::12])


def spoken(samples: list[int]) -> bool:
    """Whether the interpreter's 400 Hz is in the sound as well as the original's 440 Hz."""
    voice, original = tone_power(samples, 400), tone_power(samples, 440)
    return original > 0 and voice > original / 20


async def test_an_interpreters_voice_is_an_audio_rendition_over_the_original_sound(
    tmp_path: Path,
) -> None:
    """Before the interpreter is on air the English rendition is the original sound; with the
    interpreter on air it carries their voice too, the original rendition never does; ffprobe
    lists the two audio renditions with their languages; the replay lists both and its MP4
    has the English track after the original (the default)."""
    async with stage(tmp_path, ladder=[], slate=False, interpretations=["en"]) as st:
        session_id, key = await new_session(st, "Opening: innovative municipalities")
        live = await st.app.client.post(f"/api/v1/sessions/{session_id}/live", headers=st.app.admin)
        assert live.status == 200, await live.text()
        async with publisher(st.rtmp(key), size="640x360"):

            async def listed(rendition: str = "audio-en") -> bool:
                answer = await st.app.client.get(f"/hls/{session_id}/{rendition}.m3u8")
                return answer.status == 200 and (await answer.text()).count("#EXTINF") >= 3

            await until(listed, timeout=30, what="three English segments", interval=0.2)
            master = m3u8.loads((await fetch(st, f"/hls/{session_id}/index.m3u8"))[0].decode())
            audio = [(m.uri, m.language, m.default) for m in master.media if m.type == "AUDIO"]
            assert audio == [("audio.m3u8", None, "YES"), ("audio-en.m3u8", "en", "NO")]
            before = await latest_sound(st, session_id, "audio-en")
            assert tone_power(before, 440) > 0
            assert not spoken(before)

            pc = await interpreter_on_air(st, session_id)
            try:

                async def voice_heard() -> bool:
                    return spoken(await latest_sound(st, session_id, "audio-en"))

                await until(voice_heard, timeout=30, what="the voice in the rendition", interval=1)
                assert not spoken(await latest_sound(st, session_id, "audio"))
                probed = await asyncio.to_thread(probe_hls, st, f"/hls/{session_id}/index.m3u8")
            finally:
                await pc.close()
            end = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/end", headers=st.app.admin
            )
            assert end.status == 200, await end.text()
        languages = sorted(
            s.get("tags", {}).get("language", "") for s in probed if s["codec_type"] == "audio"
        )
        assert languages in (["", "en"], ["en", "und"]), probed

        # The replay keeps the interpretation: an audio rendition, and a track in the MP4.
        await replay_published(st, session_id)
        replay = m3u8.loads((await fetch(st, f"/hls/{session_id}/index.m3u8"))[0].decode())
        audio = [(m.uri, m.language, m.default) for m in replay.media if m.type == "AUDIO"]
        assert audio == [("audio.m3u8", None, "YES"), ("audio-en.m3u8", "en", "NO")]
        assert "#EXT-X-ENDLIST" in (await fetch(st, f"/hls/{session_id}/audio-en.m3u8"))[0].decode()
        mp4 = tmp_path / "replay.mp4"
        body, _ = await fetch(st, f"/api/v1/sessions/{session_id}/recording.mp4")
        await asyncio.to_thread(mp4.write_bytes, body)
    streams = [
        s for s in (await asyncio.to_thread(probe, mp4))["streams"] if s["codec_type"] == "audio"
    ]
    assert [(s["tags"].get("language"), s["disposition"]["default"]) for s in streams] == [
        ("und", 1), ("eng", 0),
    ]  # fmt: skip


async def test_a_webrtc_viewer_hears_the_interpreter_while_on_air_and_the_original_otherwise(
    tmp_path: Path,
) -> None:
    """A WHEP viewer asking for English hears the original sound until the interpreter is on
    air, then their voice in its place, then the original again once they drop (never
    silence); a language the event is not interpreted into is refused."""
    async with stage(tmp_path, ladder=[], slate=False, interpretations=["en"]) as st:
        session_id, key = await new_session(st, "Opening: innovative municipalities")
        live = await st.app.client.post(f"/api/v1/sessions/{session_id}/live", headers=st.app.admin)
        assert live.status == 200, await live.text()
        async with publisher(st.rtmp(key), size="640x360"):
            await relay_live(st, session_id)
            refused = await st.app.client.post(
                f"/whep/{session_id}?audio=de", data="v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
                headers={"Content-Type": "application/sdp"},
            )  # fmt: skip
            assert refused.status == 422
            message = (await refused.json())["error"]["message"]
            assert (
                message
                == "language: 'de' is not an interpretation language of this event (choose en)"
            )
            async with viewer(st, session_id, "?audio=en") as heard:

                def hearing(voice: bool) -> bool:
                    """The last second is the interpreter's voice alone (``voice``), or the
                    original without it."""
                    if len(heard.sound) < 48_000 * 4:
                        return False
                    samples = left_channel_at_8k(bytes(heard.sound))
                    if voice:
                        return tone_power(samples, 400) > 10 * tone_power(samples, 440)
                    return tone_power(samples, 440) > 0 and not spoken(samples)

                await until(lambda: hearing(False), timeout=30, what="the original sound")
                pc = await interpreter_on_air(st, session_id)
                try:
                    await until(lambda: hearing(True), timeout=30, what="the interpreter")
                finally:
                    await pc.close()
                await until(lambda: hearing(False), timeout=60, what="the original again")
