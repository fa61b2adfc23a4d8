"""Live captions over real HTTP and websockets: a captioner's lines are kept and reach the
room, caption services stream lines on a websocket, bad lines get clear errors, corrections
move and fix cues afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.realtime_client import WsClient

T0_MS = 1_779_260_400_000  # the harness clock's T0
UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@dataclass
class Stage:
    """A running app with a live session in studio A and a captioner token per studio."""

    app: RunningApp
    session: str
    captioner_a: dict[str, str]
    captioner_b: dict[str, str]

    @property
    def captions(self) -> str:
        return f"/api/v1/sessions/{self.session}/captions"


async def _post(app: RunningApp, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = await app.client.post(path, json=body, headers=headers)
    assert answer.status in (200, 201), await answer.text()
    return await answer.json()


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[Stage]:
    """Studios A and B, a live session in A, captioner tokens scoped to A and to B."""
    async with running_app(settings_for(sqlite_url(tmp_path))) as app:
        studios = [
            (await _post(app, "/api/v1/studios", {"name": n}, app.admin))["id"] for n in "AB"
        ]
        session = await _post(
            app,
            "/api/v1/sessions",
            {"studio_id": studios[0], "title": "Öppning", "starts_at": "2026-05-20T09:00:00+02:00",
             "ends_at": "2026-05-20T09:45:00+02:00"},
            app.admin,
        )  # fmt: skip
        await _post(app, f"/api/v1/sessions/{session['id']}/live", None, app.admin)
        tokens = [
            await _post(
                app,
                "/api/v1/tokens",
                {"role": "captioner", "name": f"Captioner {i}", "studio_ids": [studio]},
                app.admin,
            )
            for i, studio in enumerate(studios)
        ]
        yield Stage(app, session["id"], app.auth(tokens[0]["token"]), app.auth(tokens[1]["token"]))


async def test_a_captioners_line_is_kept_timed_now_and_reaches_the_room(stage: Stage) -> None:
    """The line is answered 201 with its times (now, long enough to read), listed for viewers,
    and sent to everyone in the session's room as a ``caption.cue`` event."""
    viewer = WsClient(await stage.app.client.ws_connect("/ws"))
    await viewer.next()
    await viewer.request("j", type="join", room=stage.session)
    answer = await stage.app.client.post(
        stage.captions, json={"text": " Välkomna till mässan ", "language": "sv"},
        headers=stage.captioner_a,
    )  # fmt: skip
    assert answer.status == 201, await answer.text()
    cue = await answer.json()
    assert cue == {
        "id": cue["id"], "language": "sv", "text": "Välkomna till mässan",
        "start": "2026-05-20T07:00:00Z", "end": "2026-05-20T07:00:01.500000Z",
        "start_ms": T0_MS, "end_ms": T0_MS + 1500,
    }  # fmt: skip
    event = await viewer.event("caption.cue")
    assert {k: event[k] for k in ("cue_id", "language", "text", "start_ms", "end_ms")} == {
        "cue_id": cue["id"], "language": "sv", "text": "Välkomna till mässan",
        "start_ms": T0_MS, "end_ms": T0_MS + 1500,
    }  # fmt: skip
    listed = await (await stage.app.client.get(stage.captions + "?language=sv")).json()
    assert listed == [cue]
    assert await (await stage.app.client.get(stage.captions + "?language=en")).json() == []
    await viewer.ws.close()


async def test_a_caption_service_gives_its_own_times(stage: Stage) -> None:
    """Start and end sent by a service are the cue's."""
    cue = await _post(
        stage.app, stage.captions,
        {"text": "Hello", "language": "en", "start": "2026-05-20T06:59:58Z",
         "end": "2026-05-20T07:00:00.250Z"},
        stage.captioner_a,
    )  # fmt: skip
    assert (cue["start_ms"], cue["end_ms"]) == (T0_MS - 2000, T0_MS + 250)


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"text": "   ", "language": "sv"}, 422, "invalid_input",
         "text: a caption line needs some text"),
        ({"text": "x" * 201, "language": "sv"}, 422, "invalid_input",
         "text: a caption line may be at most 200 characters (this one has 201)"),
        ({"text": "two\nlines", "language": "sv"}, 422, "invalid_input",
         "text: a caption line may not hold control characters (line breaks, tabs)"),
        ({"text": "Hallo", "language": "de"}, 422, "invalid_input",
         "language: 'de' is not a caption language of this event (it captions in sv, en)"),
        ({"text": "Hej", "language": "sv", "end": "2026-05-20T06:00:00Z"}, 422,
         "invalid_input", "end: a caption must end after it starts"),
        ({"language": "sv"}, 422, "invalid_input", "text: is required"),
    ],
)  # fmt: skip
async def test_bad_lines_are_refused_with_a_clear_error(
    stage: Stage, body: dict[str, Any], status: int, code: str, message: str
) -> None:
    """Empty, too long, control characters, an unknown language, an end before the start, a
    missing field: 422 with the field and the reason; nothing is kept."""
    answer = await stage.app.client.post(stage.captions, json=body, headers=stage.captioner_a)
    assert answer.status == status
    error = (await answer.json())["error"]
    assert (error["code"], error["message"]) == (code, message)
    assert await (await stage.app.client.get(stage.captions)).json() == []


async def test_only_a_captioner_of_the_studio_captions_a_live_session(stage: Stage) -> None:
    """Another studio's captioner gets 403, anyone without a token 401, a moderator 403; a
    session that is over takes no captions (409)."""
    line = {"text": "Hej", "language": "sv"}
    cases = [
        (stage.captioner_b, 403,
         f"this captioner may not caption sessions in studio {await _studio(stage)!r}"),
        ({}, 401, "sign in as admin or captioner to do this"),
    ]  # fmt: skip
    for headers, status, message in cases:
        answer = await stage.app.client.post(stage.captions, json=line, headers=headers)
        assert (answer.status, (await answer.json())["error"]["message"]) == (status, message)
    await _post(stage.app, f"/api/v1/sessions/{stage.session}/end", None, stage.app.admin)
    answer = await stage.app.client.post(stage.captions, json=line, headers=stage.captioner_a)
    assert (answer.status, (await answer.json())["error"]) == (
        409,
        {"code": "conflict",
         "message": "the session is ended; captions are taken only while it is live"},
    )  # fmt: skip


async def _studio(stage: Stage) -> str:
    session = await (await stage.app.client.get(f"/api/v1/sessions/{stage.session}")).json()
    return str(session["studio_id"])


async def test_a_caption_service_streams_lines_on_the_websocket(stage: Stage) -> None:
    """Each text frame is a line, answered in order with the kept cue or the error (with the
    frame's ref); the lines reach the room like those posted over HTTP."""
    ws = await stage.app.client.ws_connect(stage.captions + "/live", headers=stage.captioner_a)
    await ws.send_json({"ref": "1", "text": "Första raden", "language": "sv"})
    await ws.send_json({"ref": "2", "text": "", "language": "sv"})
    await ws.send_str("not json")
    await ws.send_json({"ref": "4", "text": "Second line", "language": "en"})
    answers = [await ws.receive_json(timeout=5) for _ in range(4)]
    assert [(a["type"], a["ref"]) for a in answers] == [
        ("cue", "1"), ("error", "2"), ("error", ""), ("cue", "4"),
    ]  # fmt: skip
    assert answers[0]["cue"]["text"] == "Första raden"
    assert answers[1]["status"] == 422
    assert answers[1]["error"] == {
        "code": "invalid_input", "message": "text: a caption line needs some text",
        "field": "text",
    }  # fmt: skip
    assert (answers[2]["status"], answers[2]["error"]["message"]) == (
        400,
        "the body is not valid JSON",
    )
    await ws.close()
    listed = await (await stage.app.client.get(stage.captions)).json()
    # Same start (the test's clock stands still): the order between them is not defined.
    assert sorted(c["text"] for c in listed) == ["Första raden", "Second line"]


async def test_the_caption_websocket_refuses_before_the_upgrade(stage: Stage) -> None:
    """Without a token, or as another studio's captioner, the upgrade is answered with the
    JSON error; a plain GET is told the address takes websockets only."""
    for headers, status in (({}, 401), (stage.captioner_b, 403)):
        answer = await stage.app.client.get(
            stage.captions + "/live",
            headers={**headers, **UPGRADE},
        )
        assert answer.status == status
    plain = await stage.app.client.get(stage.captions + "/live", headers=stage.captioner_a)
    assert (plain.status, (await plain.json())["error"]["message"]) == (
        400,
        "this address takes websocket connections only (Upgrade: websocket)",
    )


async def test_cues_are_corrected_and_shifted_afterwards(stage: Stage) -> None:
    """After the broadcast a captioner fixes a line's text and moves all lines of a language
    earlier; viewers' listings follow."""
    first = await _post(stage.app, stage.captions, {"text": "Välkomen", "language": "sv"},
                        stage.captioner_a)  # fmt: skip
    await _post(stage.app, stage.captions, {"text": "Hello", "language": "en"}, stage.captioner_a)
    await _post(stage.app, f"/api/v1/sessions/{stage.session}/end", None, stage.app.admin)
    fixed = await stage.app.client.patch(
        f"{stage.captions}/{first['id']}", json={"text": "Välkommen"}, headers=stage.captioner_a
    )
    assert fixed.status == 200, await fixed.text()
    shifted = await _post(
        stage.app, stage.captions + "/shift", {"language": "sv", "shift_ms": -700},
        stage.captioner_a,
    )  # fmt: skip
    assert shifted == {"language": "sv", "shift_ms": -700, "moved": 1}
    listed = await (await stage.app.client.get(stage.captions)).json()
    assert [(c["language"], c["text"], c["start_ms"] - T0_MS) for c in listed] == [
        ("sv", "Välkommen", -700), ("en", "Hello", 0),
    ]  # fmt: skip
    other = await stage.app.client.patch(
        f"{stage.captions}/{first['id']}", json={"shift_ms": 5}, headers=stage.captioner_b
    )
    assert other.status == 403


async def test_captions_download_as_webvtt_and_subrip_that_parse(stage: Stage) -> None:
    """Each language downloads as .vtt and .srt, timed from when the session went live, as
    attachments; both files parse back into the lines."""
    await _post(stage.app, stage.captions, {"text": "Välkomna <alla>", "language": "sv"},
                stage.captioner_a)  # fmt: skip
    stage.app.clock.advance(seconds=75)
    await _post(stage.app, stage.captions, {"text": "Andra raden", "language": "sv"},
                stage.captioner_a)  # fmt: skip
    await _post(stage.app, stage.captions, {"text": "Hello", "language": "en"}, stage.captioner_a)
    vtt = await stage.app.client.get(stage.captions + ".vtt?language=sv")
    assert vtt.status == 200
    assert vtt.headers["Content-Type"].startswith("text/vtt")
    assert vtt.headers["Content-Disposition"] == (f'attachment; filename="{stage.session}.sv.vtt"')
    assert await vtt.text() == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:01.500\nVälkomna &lt;alla&gt;\n\n"
        "2\n00:01:15.000 --> 00:01:16.500\nAndra raden\n\n"
    )
    srt = await stage.app.client.get(stage.captions + ".srt?language=en")
    assert srt.headers["Content-Type"].startswith("application/x-subrip")
    assert await srt.text() == "1\n00:01:15,000 --> 00:01:16,500\nHello\n\n"
    unknown = await stage.app.client.get(stage.captions + ".srt?language=de")
    assert unknown.status == 422
