"""WHEP playback end to end: an ffmpeg RTMP publisher, real aiortc viewers, refusals, cleanup."""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender

from streaming.flv import parse_flv
from streaming.rtmp_relay import AacToOpus, AvcToAnnexB, aac_config, aac_frame
from streaming.whep import WhepLimits
from tests.support.browser import chromium, needs_chromium
from tests.support.media_stage import Stage, error_of, new_session, publisher, stage
from tests.support.media_tools import FFMPEG, needs_ffmpeg
from tests.support.waiting import until
from tests.support.whep_viewer import peer, post_offer, relay_live, viewer
from tests.support.whip_publisher import whip_publisher
from web.keys import WHEP

pytestmark = pytest.mark.slow

# --- FLV from a real ffmpeg becomes relay media ------------------------------------------------


def _flv(tmp_path: Path) -> bytes:
    assert FFMPEG is not None
    path = tmp_path / "clip.flv"
    import subprocess

    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
         "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=44100", "-t", "2", "-c:v", "libx264",
         "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-c:a", "aac",
         "-f", "flv", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path.read_bytes()


@needs_ffmpeg
def test_flv_avc_becomes_decodable_annex_b(tmp_path: Path) -> None:
    """Every FLV AVC frame becomes one Annex-B access unit, SPS/PPS before each IDR, with
    90 kHz timestamps; a decoder given only those units decodes every frame at 320x240."""
    import av

    tags = parse_flv(_flv(tmp_path))
    convert = AvcToAnnexB()
    units = [u for t in tags if (u := convert.push(t)) is not None]
    assert len(units) == 60
    assert [i for i, u in enumerate(units) if u.keyframe] == [0, 30]
    assert all(u.data.startswith(b"\0\0\0\1\x67") for u in units if u.keyframe)
    assert all(abs(b.pts - a.pts - 3000) <= 90 for a, b in itertools.pairwise(units))
    decoder: Any = av.CodecContext.create("h264", "r")
    sizes = {(f.width, f.height) for u in units for f in decoder.decode(av.Packet(u.data))}
    sizes |= {(f.width, f.height) for f in decoder.decode(None)}
    assert sizes == {(320, 240)}


@needs_ffmpeg
def test_flv_aac_becomes_opus_once(tmp_path: Path) -> None:
    """The AAC of an FLV becomes 20 ms Opus packets with rising 48 kHz timestamps that decode
    to about as much sound as went in."""
    import av

    converter: AacToOpus | None = None
    packets: list[tuple[bytes, int]] = []
    for tag in parse_flv(_flv(tmp_path)):
        if (config := aac_config(tag)) is not None:
            converter = AacToOpus(config)
        elif (frame := aac_frame(tag)) is not None:
            assert converter is not None
            packets += converter.convert(frame, tag.timestamp)
    stamps = [pts for _, pts in packets]
    assert all(b - a == 960 for a, b in itertools.pairwise(stamps))
    decoder: Any = av.CodecContext.create("opus", "r")
    samples = sum(f.samples for data, _ in packets for f in decoder.decode(av.Packet(data)))
    assert 1.8 * 48_000 < samples <= 2.1 * 48_000


# --- end to end -------------------------------------------------------------------------------


async def live_session(st: Stage, title: str) -> tuple[str, str]:
    """A session and its stream key."""
    return await new_session(st, title)


@needs_ffmpeg
async def test_viewers_receive_decodable_frames_and_leave_cleanly(tmp_path: Path) -> None:
    """Three aiortc viewers of an RTMP publish decode 640x360 video and Opus audio; DELETE and
    a closed peer both free the server's peers, and no closing task is left."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel")
        whep = st.app.web_app[WHEP]
        async with publisher(st.rtmp(key), size="640x360"):
            await relay_live(st, session_id)
            async with viewer(st, session_id) as one, viewer(st, session_id) as two:
                async with viewer(st, session_id) as three:
                    assert whep.viewers(session_id) == 3
                    assert len(whep.viewer_ids(session_id)) == 3
                    server_pcs = [v.pc for v in whep._viewers.values()]

                    async def all_playing() -> bool:
                        return all(
                            len(v.sizes) >= 20 and v.audio_frames >= 20 for v in (one, two, three)
                        )

                    await until(all_playing, timeout=40, what="every viewer to decode frames")
                    for v in (one, two, three):
                        assert set(v.sizes) == {(640, 360)}
                    answer = await st.app.client.delete(three.location)
                    assert answer.status == 204
                    assert whep.viewers(session_id) == 2
                    again = await st.app.client.delete(three.location)
                    assert await error_of(again) == (
                        404,
                        "not_found",
                        "no such WebRTC playback resource",
                    )
                    patch = await st.app.client.patch(one.location, data="a=end-of-candidates")
                    assert patch.status == 405
                await one.pc.close()  # leaves without DELETE

                async def one_gone() -> bool:
                    return whep.viewers(session_id) == 1

                await until(one_gone, timeout=30, what="the closed peer to be freed")
            await until(lambda: _zero(whep, session_id), timeout=30, what="every peer to be freed")
            assert all(pc.connectionState == "closed" for pc in server_pcs)
            assert whep._tasks == set()
            assert whep.hub.get(session_id) is not None
            assert whep.hub.get(session_id).viewers == 0  # type: ignore[union-attr]


async def _zero(whep: Any, session_id: str) -> bool:
    return bool(whep.viewers(session_id) == 0 and not whep._tasks)


@needs_ffmpeg
async def test_refusals_are_clear(tmp_path: Path) -> None:
    """Malformed SDP, an unknown session, a session with no ingest, a wrong Content-Type and a
    full session are refused with JSON errors that say what to do."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel")
        client = st.app.client
        assert await error_of(await post_offer(st, session_id, "hello")) == (
            400,
            "bad_offer",
            "the body is not an SDP offer (it must start with v=0)",
        )
        assert await error_of(await post_offer(st, "ses_nope", "v=0\r\n")) == (
            400,
            "bad_offer",
            "the SDP offer has no audio or video section",
        )
        _, pc = peer()
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        await pc.close()
        assert await error_of(await post_offer(st, "ses_nope", offer)) == (
            404,
            "not_found",
            "no such session",
        )
        assert await error_of(await post_offer(st, session_id, offer)) == (
            409,
            "not_live",
            "this session is not being broadcast right now; "
            "low-latency playback starts once its ingest is up",
        )
        wrong = await client.post(f"/whep/{session_id}", json={"sdp": offer})
        assert await error_of(wrong) == (
            415,
            "unsupported_media_type",
            "send the offer as application/sdp, not application/json",
        )
        whep = st.app.web_app[WHEP]
        whep.limits = WhepLimits(max_viewers=10, max_viewers_per_session=1)
        async with publisher(st.rtmp(key), size="320x240"):
            await relay_live(st, session_id)
            vp8_only = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            vp8 = vp8_only.addTransceiver("video", direction="recvonly")
            caps = RTCRtpSender.getCapabilities("video").codecs
            vp8.setCodecPreferences([c for c in caps if c.mimeType == "video/VP8"])
            await vp8_only.setLocalDescription(await vp8_only.createOffer())
            no_h264 = vp8_only.localDescription.sdp
            await vp8_only.close()
            assert "H264" not in no_h264
            assert await error_of(await post_offer(st, session_id, no_h264)) == (
                400,
                "bad_offer",
                "the offer's video has no codec this server sends (H.264, packetization-mode 1)",
            )
            assert whep.total == 0
            async with viewer(st, session_id):
                _, second = peer()
                await second.setLocalDescription(await second.createOffer())
                full = await post_offer(st, session_id, second.localDescription.sdp)
                await second.close()
                assert await error_of(full) == (
                    503,
                    "webrtc_full",
                    "this session already has 1 low-latency (WebRTC) viewers; "
                    f"watch with HLS at /hls/{session_id}/index.m3u8 or try again later",
                )
                assert full.headers["Retry-After"] == "30"
        answer = await client.post(f"/api/v1/sessions/{session_id}/cancel", headers=st.app.admin)
        assert answer.status == 200, await answer.text()
        refused = await post_offer(st, session_id, offer)
        assert await error_of(refused) == (409, "not_live", "this session is cancelled")


@needs_ffmpeg
async def test_session_end_closes_its_viewers(tmp_path: Path) -> None:
    """Ending the session closes its WHEP peers and drops its relay."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel")
        whep = st.app.web_app[WHEP]
        async with publisher(st.rtmp(key), size="320x240"):
            await relay_live(st, session_id)
            async with viewer(st, session_id) as watcher:

                async def playing() -> bool:
                    return len(watcher.sizes) >= 5

                await until(playing, timeout=30, what="the viewer to decode frames")
                admin = st.app.admin
                live = await st.app.client.post(
                    f"/api/v1/sessions/{session_id}/live", headers=admin
                )
                assert live.status == 200, await live.text()
                end = await st.app.client.post(f"/api/v1/sessions/{session_id}/end", headers=admin)
                assert end.status == 200, await end.text()
                await until(
                    lambda: _zero(whep, session_id), timeout=30, what="the session's peers to close"
                )
                assert whep.hub.get(session_id) is None


@needs_ffmpeg
@pytest.mark.timeout(180)
async def test_a_crashed_viewer_is_freed(tmp_path: Path) -> None:
    """A viewer process killed without a word is freed once ICE consent fails (~30 s)."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel")
        whep = st.app.web_app[WHEP]
        async with publisher(st.rtmp(key), size="320x240"):
            await relay_live(st, session_id)
            url = f"http://127.0.0.1:{st.app.client.port}/whep/{session_id}"
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.webrtc.viewers", url, "1",
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                assert process.stdout is not None
                line = await asyncio.wait_for(process.stdout.readline(), 60)
                assert line.startswith(b"ready 1")
                assert whep.viewers(session_id) == 1
            finally:
                process.kill()
                await process.wait()
            await until(
                lambda: _zero(whep, session_id), timeout=90, what="the dead viewer to be freed"
            )


WHEP_JS = """
async (path) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.addTransceiver('audio', {direction: 'recvonly'});
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.appendChild(video);
  const stream = new MediaStream();
  pc.ontrack = (event) => { stream.addTrack(event.track); video.srcObject = stream; };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') done();
    });
  });
  const answer = await fetch(path, {
    method: 'POST',
    headers: {'Content-Type': 'application/sdp'},
    body: pc.localDescription.sdp,
  });
  if (answer.status !== 201) throw new Error('WHEP answered ' + answer.status);
  const location = answer.headers.get('Location');
  await pc.setRemoteDescription({type: 'answer', sdp: await answer.text()});
  window.whep = {pc, video, location};
  return location;
}
"""


@needs_chromium
async def test_chromium_plays_the_whep_stream(tmp_path: Path) -> None:
    """Headless Chromium does WHEP against the server: its video element plays the session at
    the published size and its time advances; DELETE from the page frees the server's peer."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel")
        whep = st.app.web_app[WHEP]
        base = f"http://127.0.0.1:{st.app.client.port}"
        async with publisher(st.rtmp(key), size="640x360"), chromium() as browser:
            await relay_live(st, session_id)
            context = await browser.new_context(base_url=base, bypass_csp=True)
            page = await context.new_page()
            await page.goto("/healthz")
            location = await page.evaluate(WHEP_JS, f"/whep/{session_id}")
            assert location.startswith(f"/whep/{session_id}/")
            assert whep.viewers(session_id) == 1
            await page.wait_for_function(
                "() => window.whep.video.videoWidth > 0 && window.whep.video.currentTime > 0.5",
                timeout=30_000,
            )
            size = await page.evaluate(
                "() => [window.whep.video.videoWidth, window.whep.video.videoHeight]"
            )
            assert size == [640, 360]
            first = await page.evaluate("() => window.whep.video.currentTime")
            await page.wait_for_function(
                f"() => window.whep.video.currentTime > {first} + 1", timeout=15_000
            )
            status = await page.evaluate(
                "async () => (await fetch(window.whep.location, {method: 'DELETE'})).status"
            )
            assert status == 204
            await until(
                lambda: _zero(whep, session_id), timeout=15, what="the browser's peer to be freed"
            )
            await context.close()


@needs_ffmpeg
async def test_a_whip_publisher_reaches_whep_viewers_untouched(tmp_path: Path) -> None:
    """An aiortc WHIP publisher's H.264 is forwarded as it arrives (the RTMP tap stays out) to
    two aiortc WHEP viewers, who decode 640x360 frames and Opus audio."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Remote panel")
        whep = st.app.web_app[WHEP]
        async with whip_publisher(st, session_id, key) as pub:
            assert pub.status == 201, pub.body
            await relay_live(st, session_id)
            relay = whep.hub.get(session_id)
            assert relay is not None
            assert relay.native_source
            async with viewer(st, session_id) as one, viewer(st, session_id) as two:

                async def both_playing() -> bool:
                    return all(len(v.sizes) >= 15 and v.audio_frames >= 15 for v in (one, two))

                await until(both_playing, timeout=60, what="both viewers to decode frames")
                assert set(one.sizes) == set(two.sizes) == {(640, 360)}
        await until(lambda: _zero(whep, session_id), timeout=30, what="every peer to be freed")
