"""End to end: aiortc publishers push sessions over WHIP into a running Torget, HLS comes out."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import m3u8  # type: ignore[import-untyped]
import pytest
from aiortc import RTCSessionDescription

from streaming.whip.ingest import WhipIngest
from tests.support.browser import chromium, needs_chromium
from tests.support.media_stage import Stage, error_of, fetch, new_session, playlist, stage, state
from tests.support.media_tools import needs_ffmpeg, probe
from tests.support.waiting import until
from tests.support.whip_publisher import (
    offer_for,
    whip_post,
    whip_publisher,
)
from web.keys import MEDIA

pytestmark = [pytest.mark.slow, needs_ffmpeg]


# --- a WHIP publisher built on aiortc ----------------------------------------------------------


def ingest(st: Stage) -> WhipIngest:
    """The app's WHIP ingest."""
    return st.app.web_app[MEDIA].whip


async def decoded(st: Stage, tmp_path: Path, session_id: str, name: str) -> dict[str, Any]:
    """ffprobe's view of the first complete segment of a media playlist (init + segment)."""
    media: m3u8.M3U8 = await playlist(st, f"/hls/{session_id}/{name}")
    segment = next(s for s in media.segments if s.uri is not None)
    init, _ = await fetch(st, f"/hls/{session_id}/{segment.init_section.uri}")
    data, _ = await fetch(st, f"/hls/{session_id}/{segment.uri}")
    path = tmp_path / f"{name}.mp4"
    path.write_bytes(init + data)
    [stream] = probe(path)["streams"]
    found: dict[str, Any] = stream
    return found


def whip_tasks() -> list[asyncio.Task[Any]]:
    """The WHIP ingest's tasks still running."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("whip ")]


# --- the tests ---------------------------------------------------------------------------------


async def test_a_whip_publish_becomes_hls_and_delete_ends_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An aiortc publisher's H.264 and Opus over WHIP make the session ready, then live, with
    H.264 640x360 video passed through and AAC audio in HLS; the relay gets the same video;
    DELETE ends the publish, frees the peer and ends the playlists; no key is logged."""
    caplog.set_level(logging.INFO)
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Opening", 9)
        plane = st.app.web_app[MEDIA]
        answer = await st.app.client.get(
            f"/api/v1/sessions/{session_id}/ingest", headers=st.app.admin
        )
        assert (await answer.json())["whip"].endswith(f"/whip/{session_id}")
        async with whip_publisher(st, session_id, key) as pub:
            assert pub.status == 201, pub.body
            assert pub.headers["Content-Type"] == "application/sdp"
            assert pub.location is not None
            assert pub.location.startswith(f"/whip/{session_id}/")
            assert pub.headers["ETag"]
            assert "x-google-start-bitrate=" in pub.body
            assert "a=candidate:" in pub.body

            async def ready() -> bool:
                return await state(st, session_id) == "ready"

            await until(ready, timeout=30, what="the session to become ready")
            pipeline = await plane.wait_ready(session_id, 30)
            assert pipeline is not None
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
            )
            assert answer.status == 200
            assert pipeline.plan is not None
            assert pipeline.plan.passthrough
            video = await decoded(st, tmp_path, session_id, "source.m3u8")
            assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 360)
            audio = await decoded(st, tmp_path, session_id, "audio.m3u8")
            assert audio["codec_name"] == "aac"
            relay = plane.relays.relay(session_id)
            assert relay.native_source
            assert relay.frames > 30
            publish = plane.publisher(session_id)
            assert publish is not None
            assert publish.origin == "whip"

            [resource] = ingest(st).resources(session_id)
            answer = await st.app.client.delete(pub.location, headers={"Authorization": "Bearer x"})
            assert (await error_of(answer))[:2] == (401, "unauthenticated")
            answer = await st.app.client.delete(
                pub.location, headers={"Authorization": f"Bearer {key}"}
            )
            assert answer.status == 204
            assert ingest(st).resources() == []
            assert resource.pc.connectionState == "closed"
            assert not plane.publishing(session_id)
            assert not relay.native_source
            answer = await st.app.client.delete(
                pub.location, headers={"Authorization": f"Bearer {key}"}
            )
            status, code, message = await error_of(answer)
            assert (status, code) == (404, "not_found")
            assert message == f"session {session_id} has no WHIP publish {resource.id}"
            # Live without its ingest: the slate goes on; ending the session ends it all.
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/end", headers=st.app.admin
            )
            assert answer.status == 200

            async def ended() -> bool:
                return pipeline.ended

            await until(ended, timeout=20, what="the playlists to end")
            st.remember_pids()
    assert key not in caplog.text


async def test_whip_refusals_have_exact_answers(tmp_path: Path) -> None:
    """Unknown session 404, missing or wrong key 401, wrong type 415, oversized 413, bad SDP
    400 with the reason, a second publisher 409 unless it takes over, an ended session 409."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel", 9)
        other_id, other_key = await new_session(st, "Other", 10)
        plane = st.app.web_app[MEDIA]
        pc = await offer_for()
        sdp = pc.localDescription.sdp
        await pc.close()
        client = st.app.client
        sdp_headers = {"Content-Type": "application/sdp"}

        answer = await client.post(
            "/whip/ses_nope", data=sdp, headers={**sdp_headers, "Authorization": f"Bearer {key}"}
        )
        assert await error_of(answer) == (404, "not_found", "session 'ses_nope' does not exist")
        answer = await client.post(f"/whip/{session_id}", data=sdp, headers=sdp_headers)
        assert await error_of(answer) == (
            401,
            "unauthenticated",
            "send the session's stream key as Authorization: Bearer <stream key>",
        )
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="torget"'
        for wrong in ("sk_" + "x" * 43, other_key, st.app.admin_token):
            status, _, _ = await whip_post(st, session_id, wrong, sdp)
            assert status == 401
        answer = await client.post(
            f"/whip/{session_id}",
            data=sdp,
            headers={"Content-Type": "text/plain", "Authorization": f"Bearer {key}"},
        )
        assert await error_of(answer) == (
            415,
            "unsupported_media_type",
            "send the offer as application/sdp, not text/plain",
        )
        status, _, body = await whip_post(st, session_id, key, "v=0\r\n" + "a=x\r\n" * 20000)
        assert status == 413
        assert '"the SDP offer is larger than 65536 bytes"' in body
        for bad, message in (
            ("hello", "the body is not an SDP offer (it must start with v=0)"),
            (
                sdp.replace("m=video", "m=text"),
                "the offer has a text section; send one video and one audio only",
            ),
            (
                "\r\n".join(line for line in sdp.splitlines() if "rtpmap" not in line),
                "the offer's video is neither H.264 nor VP8",
            ),
            (
                "\r\n".join(line for line in sdp.splitlines() if "fingerprint" not in line),
                "the offer has no DTLS fingerprint (a=fingerprint)",
            ),
        ):
            status, headers, body = await whip_post(st, session_id, key, bad)
            assert status == 400, body
            assert headers["Content-Type"].startswith("application/json")
            assert f'"message":"{message}"' in body
        # An offer that passes the checks but has no codec aiortc can take: the publish that
        # was opened for it is closed again.
        status, _, body = await whip_post(
            st, session_id, key, sdp.replace("packetization-mode=1", "packetization-mode=0")
        )
        assert status == 400, body
        assert (
            '"message":"the offer cannot be negotiated: '
            'Failed to set remote video description send parameters"'
        ) in body
        assert await state(st, session_id) == "scheduled"
        assert ingest(st).resources() == []
        assert not plane.publishing(session_id)
        assert not whip_tasks()

        async with whip_publisher(st, session_id, key) as first:
            assert first.status == 201
            assert first.location is not None
            answer = await client.patch(
                first.location,
                data="a=ice-ufrag:abcd\r\n",
                headers={
                    "Content-Type": "application/trickle-ice-sdpfrag",
                    "Authorization": f"Bearer {key}",
                },
            )
            assert (await error_of(answer))[:2] == (405, "method_not_allowed")
            assert "DELETE" in answer.headers["Allow"]
            async with whip_publisher(st, session_id, key) as second:
                assert second.status == 409
                assert (
                    f"session {session_id} already has a publisher "
                    "(send X-Torget-Takeover: 1 to replace it)"
                ) in second.body
            [old] = ingest(st).resources(session_id)
            async with whip_publisher(st, session_id, key, **{"X-Torget-Takeover": "1"}) as third:
                assert third.status == 201, third.body
                [new] = ingest(st).resources(session_id)
                assert new is not old
                assert old.closed
                assert third.location is not None
                assert third.location.endswith(new.id)

                async def ready() -> bool:
                    return await state(st, session_id) == "ready"

                await until(ready, timeout=30, what="the taken-over session to be ready")
                answer = await client.post(
                    f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
                )
                assert answer.status == 200
                answer = await client.post(
                    f"/api/v1/sessions/{session_id}/end", headers=st.app.admin
                )
                assert answer.status == 200

                async def dropped() -> bool:
                    return not ingest(st).resources(session_id)

                await until(dropped, timeout=20, what="the session's end to close the publish")
                assert new.pc.connectionState == "closed"
                status, _, body = await whip_post(st, session_id, key, sdp)
                assert status == 409
                assert f"session {session_id} is ended" in body
        assert await state(st, other_id) == "scheduled"
        st.remember_pids()


async def test_vp8_is_transcoded_once_to_h264(tmp_path: Path) -> None:
    """A publisher that only sends VP8 is decoded and encoded to H.264 once: HLS has H.264 at
    the source size and the relay gets H.264 keyframes."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "VP8", 9)
        plane = st.app.web_app[MEDIA]
        async with whip_publisher(st, session_id, key, video_codec="video/VP8") as pub:
            assert pub.status == 201, pub.body
            assert "VP8/90000" in pub.body
            assert "H264" not in pub.body
            pipeline = await plane.wait_ready(session_id, 40)
            assert pipeline is not None
            video = await decoded(st, tmp_path, session_id, "source.m3u8")
            assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 360)
            assert plane.relays.relay(session_id).has_picture
            st.remember_pids()


async def test_a_vanished_peer_and_shutdown_leave_nothing_behind(tmp_path: Path) -> None:
    """A publisher whose peer closes without DELETE is cleaned up (publish, relay, tasks); one
    still publishing at shutdown is closed with the app, leaving no WHIP task running."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Vanish", 9)
        plane = st.app.web_app[MEDIA]
        async with whip_publisher(st, session_id, key) as pub:
            assert pub.status == 201

            async def publishing() -> bool:
                return plane.publishing(session_id) and plane.relays.relay(session_id).frames > 0

            await until(publishing, timeout=30, what="media to arrive")
            [resource] = ingest(st).resources(session_id)
        # The peer closed (RTCP BYE, then consent checks fail): the server cleans up.

        async def cleaned() -> bool:
            return not ingest(st).resources() and not whip_tasks()

        await until(cleaned, timeout=60, what="the vanished publisher to be cleaned up")
        assert resource.closed
        assert resource.pc.connectionState == "closed"
        assert not plane.publishing(session_id)
        assert not plane.relays.relay(session_id).native_source

        second_id, second_key = await new_session(st, "Shutdown", 10)
        pc = await offer_for()
        status, _, body = await whip_post(st, second_id, second_key, pc.localDescription.sdp)
        assert status == 201
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        [open_one] = ingest(st).resources(second_id)
        whip = ingest(st)
    try:
        assert open_one.closed
        assert whip.resources() == []
        assert not whip_tasks()
    finally:
        await pc.close()


WHIP_JS = """
async ([url, key]) => {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: {width: {ideal: 640}, height: {ideal: 360}, frameRate: {ideal: 30}}, audio: true});
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: 'sendonly'});
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
  });
  const answer = await fetch(url, {method: 'POST', body: pc.localDescription.sdp,
    headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + key}});
  const sdp = await answer.text();
  await pc.setRemoteDescription({type: 'answer', sdp});
  const settings = stream.getVideoTracks()[0].getSettings();
  window.whip = {pc, location: answer.headers.get('Location'), key};
  return [answer.status, window.whip.location, settings.width, settings.height];
}
"""


@needs_chromium
async def test_chromium_publishes_over_whip(tmp_path: Path) -> None:
    """Headless Chromium (fake camera and microphone) publishes with WHIP: H.264 is preferred
    over the VP8 Chrome lists first, HLS gets H.264 at the camera's size and AAC, and the
    page's DELETE ends the publish."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "From the browser", 9)
        plane = st.app.web_app[MEDIA]
        base = f"http://127.0.0.1:{st.app.client.port}"
        async with chromium() as browser:
            context = await browser.new_context(base_url=base, bypass_csp=True)
            page = await context.new_page()
            await page.goto("/healthz")
            status, location, width, height = await page.evaluate(
                WHIP_JS, [f"/whip/{session_id}", key]
            )
            assert status == 201
            assert location.startswith(f"/whip/{session_id}/")
            pipeline = await plane.wait_ready(session_id, 40)
            assert pipeline is not None
            assert pipeline.plan is not None
            assert pipeline.plan.passthrough
            video = await decoded(st, tmp_path, session_id, "source.m3u8")
            assert (video["codec_name"], video["width"], video["height"]) == (
                "h264",
                width,
                height,
            )
            audio = await decoded(st, tmp_path, session_id, "audio.m3u8")
            assert audio["codec_name"] == "aac"
            status = await page.evaluate(
                "async () => (await fetch(window.whip.location, {method: 'DELETE', "
                "headers: {'Authorization': 'Bearer ' + window.whip.key}})).status"
            )
            assert status == 204
            assert not plane.publishing(session_id)
            assert ingest(st).resources() == []
            await context.close()
        st.remember_pids()
