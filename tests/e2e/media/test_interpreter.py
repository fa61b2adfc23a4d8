"""Interpreters over real HTTP and WebRTC: an aiortc peer's voice reaches the interpretation
desk the session pipeline reads, viewers are told when it goes live and drops, and wrong
offers, roles, languages and sessions get clear errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from streaming.interpretation import InterpretationDesk
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.realtime_client import WsClient
from tests.support.waiting import until
from tests.support.whip_publisher import offer_for, voice_offer
from web.keys import MEDIA

SDP = {"Content-Type": "application/sdp"}


@dataclass
class Booth:
    """A running app interpreting into English and Finnish, a live and a planned session in
    studio A, and tokens: interpreters of A and of B, a captioner of A."""

    app: RunningApp
    live: str
    planned: str
    interpreter_a: dict[str, str]
    interpreter_b: dict[str, str]
    captioner_a: dict[str, str]

    @property
    def desk(self) -> InterpretationDesk:
        return self.app.web_app[MEDIA].interpretation

    async def offer(
        self,
        pc: RTCPeerConnection,
        headers: dict[str, str],
        language: str = "en",
        session: str | None = None,
    ) -> tuple[int, Any, str]:
        """POST ``pc``'s offer as an interpreter of ``language``; status, headers and body."""
        answer = await self.app.client.post(
            f"/whip/{session or self.live}/interpret/{language}",
            data=pc.localDescription.sdp.encode(), headers={**headers, **SDP},
        )  # fmt: skip
        return answer.status, answer.headers, await answer.text()


async def _post(app: RunningApp, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = await app.client.post(path, json=body, headers=headers)
    assert answer.status in (200, 201), await answer.text()
    return await answer.json()


async def _token(app: RunningApp, role: str, studio: str) -> dict[str, str]:
    body = {"role": role, "name": f"{role} {studio}", "studio_ids": [studio]}
    return app.auth((await _post(app, "/api/v1/tokens", body, app.admin))["token"])


@pytest.fixture
async def booth(tmp_path: Path) -> AsyncIterator[Booth]:
    """Set up the booth the tests interpret in."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_INTERPRETATION_LANGUAGES="en,fi")
    async with running_app(settings) as app:
        studios = [
            (await _post(app, "/api/v1/studios", {"name": n}, app.admin))["id"] for n in "AB"
        ]
        sessions = [
            (await _post(app, "/api/v1/sessions", {
                "studio_id": studios[0], "title": title,
                "starts_at": f"2026-05-20T{hour}:00:00+02:00",
                "ends_at": f"2026-05-20T{hour}:45:00+02:00",
            }, app.admin))["id"]
            for title, hour in (("Live", "09"), ("Later", "13"))
        ]  # fmt: skip
        await _post(app, f"/api/v1/sessions/{sessions[0]}/live", None, app.admin)
        yield Booth(
            app, sessions[0], sessions[1],
            await _token(app, "interpreter", studios[0]),
            await _token(app, "interpreter", studios[1]),
            await _token(app, "captioner", studios[0]),
        )  # fmt: skip


async def test_an_interpreters_voice_reaches_the_desk_and_viewers_hear_of_it(booth: Booth) -> None:
    """An aiortc peer sending a tone is answered 201 with a Location; the desk reads its
    voice (not silence) for that language only, viewers get ``interpretation`` events live
    and away, the session's interpretation lists it, and DELETE takes it off air."""
    viewer = WsClient(await booth.app.client.ws_connect("/ws"))
    await viewer.next()
    await viewer.request("j", type="join", room=booth.live)
    pc = await voice_offer()
    try:
        status, headers, body = await booth.offer(pc, booth.interpreter_a)
        assert status == 201, body
        location = headers["Location"]
        assert location.startswith(f"/whip/{booth.live}/interpret/en/wi_")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        assert (await viewer.event("interpretation"))["live"] is True
        assert booth.desk.is_live(booth.live, "en")
        state = await (await booth.app.client.get(
            f"/api/v1/sessions/{booth.live}/interpretation")).json()  # fmt: skip
        assert state == {"languages": ["en", "fi"], "live": ["en"]}

        def voice() -> bool:
            return any(booth.desk.take(booth.live, "en", 3840))

        await until(voice, timeout=15, what="the interpreter's voice at the desk")
        assert booth.desk.take(booth.live, "fi", 3840) == bytes(3840)
        answer = await booth.app.client.delete(location, headers=booth.interpreter_a)
        assert answer.status == 204, await answer.text()
        assert not booth.desk.is_live(booth.live, "en")
        event = await viewer.event("interpretation")
        assert (event["language"], event["live"]) == ("en", False)
        assert booth.desk.take(booth.live, "en", 3840) == bytes(3840)
    finally:
        await pc.close()
        await viewer.ws.close()


async def test_a_dropped_connection_takes_the_interpreter_off_air(booth: Booth) -> None:
    """An interpreter whose peer connection closes (no DELETE) drops: the language falls
    back to the original sound."""
    pc = await voice_offer()
    status, _, body = await booth.offer(pc, booth.interpreter_a, "fi")
    assert status == 201, body
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    await until(lambda: any(booth.desk.take(booth.live, "fi", 3840)), timeout=15,
                what="the interpreter's voice")  # fmt: skip
    await pc.close()
    await until(lambda: not booth.desk.is_live(booth.live, "fi"), timeout=40,
                what="the interpreter dropped")  # fmt: skip


async def test_ending_the_session_takes_its_interpreters_off_air(booth: Booth) -> None:
    """When the operator ends the broadcast, its interpreter is dropped (their connection
    closed, the desk no longer live) and a later offer is refused as for a session not live."""
    pc = await voice_offer()
    try:
        status, _, body = await booth.offer(pc, booth.interpreter_a)
        assert status == 201, body
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        answer = await booth.app.client.post(
            f"/api/v1/sessions/{booth.live}/end", headers=booth.app.admin
        )
        assert answer.status == 200, await answer.text()
        await until(lambda: not booth.desk.is_live(booth.live, "en"), timeout=10,
                    what="the interpreter dropped with the session")  # fmt: skip
        assert not booth.app.web_app[MEDIA].interpreters.resources(booth.live)
        again = await voice_offer()
        try:
            status, _, body = await booth.offer(again, booth.interpreter_a)
            assert (status, json.loads(body)["error"]["message"]) == (
                409,
                "the session is ended; an interpreter publishes only while it is live",
            )
        finally:
            await again.close()
    finally:
        await pc.close()


async def test_a_second_interpreter_of_a_language_is_refused(booth: Booth) -> None:
    """While one interpreter speaks English, another gets 409 naming the language."""
    first, second = await voice_offer(), await voice_offer()
    try:
        assert (await booth.offer(first, booth.interpreter_a))[0] == 201
        status, _, body = await booth.offer(second, booth.interpreter_a)
        assert status == 409
        assert body == (
            '{"error":{"code":"conflict","message":"an interpreter already publishes en for '
            'this session; they stop first (or their connection drops)"}}'
        )
    finally:
        await first.close()
        await second.close()


async def _refusal(
    booth: Booth, pc: RTCPeerConnection, headers: dict[str, str], **where: Any
) -> tuple[int, str, str]:
    status, _, body = await booth.offer(pc, headers, **where)
    error = json.loads(body)["error"]
    return status, error["code"], error["message"]


async def test_wrong_offers_roles_languages_and_sessions_are_refused(booth: Booth) -> None:
    """Video, another role, another studio, a language the event does not interpret into
    and a session that is not live are each refused with a clear message."""
    video = await offer_for()
    voice = await voice_offer()
    try:
        assert await _refusal(booth, video, booth.interpreter_a) == (
            400,
            "bad_request",
            "an interpreter publishes sound only: remove the video track from the offer",
        )
        assert await _refusal(booth, voice, booth.captioner_a) == (
            403,
            "forbidden",
            "the captioner role may not do this (it takes admin or interpreter)",
        )
        status, _, message = await _refusal(booth, voice, booth.interpreter_b)
        assert status == 403
        assert message.startswith("this interpreter may not interpret sessions in studio 'std_")
        assert await _refusal(booth, voice, booth.interpreter_a, language="de") == (
            422,
            "invalid_input",
            "language: 'de' is not an interpretation language of this event (choose en, fi)",
        )
        assert await _refusal(booth, voice, booth.interpreter_a, session=booth.planned) == (
            409,
            "conflict",
            "the session is scheduled; an interpreter publishes only while it is live",
        )
        assert await _refusal(booth, voice, {}) == (
            401,
            "unauthenticated",
            "sign in as admin or interpreter to do this",
        )
        assert not booth.desk.live_languages(booth.live)
    finally:
        await video.close()
        await voice.close()
