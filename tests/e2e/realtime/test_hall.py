"""The studio channel and the hybrid hall over real HTTP and websockets: what the channel has
on air and the switch announced to its viewers, join codes (issued, renewed, unknown, expired),
the QR code, and questions, votes and poll answers counted by hall and online."""

from __future__ import annotations

from typing import Any

from tests.support.harness import RunningApp
from tests.support.rooms import Connect, make_session, moderator_token


async def _json(answer: Any, status: int = 200) -> Any:
    assert answer.status == status, await answer.text()
    return await answer.json()


async def _studio_of(app: RunningApp, session_id: str) -> str:
    return str((await _json(await app.client.get(f"/api/v1/sessions/{session_id}")))["studio_id"])


async def test_the_channel_shows_the_next_session_then_announces_it_on_air_and_off(
    app: RunningApp, connect: Connect
) -> None:
    """Before the session the channel's card is the next one; going live and ending are each
    announced in the event room as a channel switch, and the channel follows."""
    session_id = await make_session(app)
    studio_id = await _studio_of(app, session_id)
    viewer = await connect()
    await viewer.request("e", type="join", room="event")
    channel = await _json(await app.client.get(f"/api/v1/studios/{studio_id}/channel"))
    assert (channel["on_air"], channel["next_up"]["id"]) == (None, session_id)
    assert channel["playout"] is False
    assert channel["urls"]["hls"].endswith(f"/hls/c/{studio_id}/index.m3u8")
    assert channel["urls"]["embed"].endswith(f"/embed/c/{studio_id}")
    await _json(await app.client.post(f"/api/v1/sessions/{session_id}/live", headers=app.admin))
    switched = await viewer.event("channel.on_air")
    assert (switched["studio_id"], switched["session_id"]) == (studio_id, session_id)
    channel = await _json(await app.client.get(f"/api/v1/studios/{studio_id}/channel"))
    assert channel["on_air"]["id"] == session_id
    await _json(await app.client.post(f"/api/v1/sessions/{session_id}/end", headers=app.admin))
    switched = await viewer.event("channel.on_air")
    assert (switched["studio_id"], switched["session_id"]) == (studio_id, None)


async def test_the_channel_address_is_stable_and_says_when_nothing_was_on_air(
    app: RunningApp,
) -> None:
    """The channel's HLS address answers a clear 404 until something airs; pages exist for the
    channel, its embed (framable) and the hall screen; playout is the admin's switch."""
    studio_id = await _studio_of(app, await make_session(app))
    answer = await app.client.get(f"/hls/c/{studio_id}/index.m3u8")
    assert answer.status == 404
    assert (await answer.json())["error"]["message"] == (
        "nothing has been on air on this channel yet; try again when a session is live"
    )
    for path in (f"/c/{studio_id}", f"/screen/{studio_id}", "/j/4821"):
        assert (await app.client.get(path)).status == 200
    embed = await app.client.get(f"/embed/c/{studio_id}")
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    patched = await _json(
        await app.client.patch(
            f"/api/v1/studios/{studio_id}", json={"playout": True}, headers=app.admin
        )
    )
    assert patched["playout"] is True
    channel = await _json(await app.client.get(f"/api/v1/studios/{studio_id}/channel"))
    assert channel["playout"] is True


async def test_join_codes_are_issued_once_renewed_by_operators_and_refused_clearly(
    app: RunningApp,
) -> None:
    """The screen's code is issued on first use and stays; a renewal ends the old one at once
    (410); unknown and malformed codes are 404 and 422 with a sentence; the QR code is SVG."""
    studio_id = await _studio_of(app, await make_session(app))
    first = await _json(await app.client.get(f"/api/v1/studios/{studio_id}/join-code"))
    assert len(first["code"]) == 4
    assert first["code"].isdigit()
    assert first["url"].endswith(f"/j/{first['code']}")
    again = await _json(await app.client.get(f"/api/v1/studios/{studio_id}/join-code"))
    assert again["code"] == first["code"]
    opened = await _json(await app.client.get(f"/api/v1/join/{first['code']}"))
    assert (opened["studio_id"], opened["channel"]["studio_id"]) == (studio_id, studio_id)
    refused = await app.client.post(f"/api/v1/studios/{studio_id}/join-code")
    assert refused.status == 401
    renewed = await _json(
        await app.client.post(f"/api/v1/studios/{studio_id}/join-code", headers=app.admin)
    )
    assert renewed["code"] != first["code"]
    expired = await _json(await app.client.get(f"/api/v1/join/{first['code']}"), 410)
    assert expired["error"] == {
        "code": "expired",
        "message": f"join code {first['code']} has expired: scan the QR code on the hall "
        "screen for the current one",
    }
    unknown = await _json(await app.client.get("/api/v1/join/000000"), 404)
    assert unknown["error"]["message"] == "join code '000000' does not exist"
    bad = await _json(await app.client.get("/api/v1/join/12ab"), 422)
    assert bad["error"]["message"] == (
        "code: a join code is 4 to 6 digits, as shown on the hall screen"
    )
    qr = await app.client.get(f"/api/v1/studios/{studio_id}/join-code.svg")
    assert qr.content_type == "image/svg+xml"
    svg = await qr.text()
    assert svg.startswith("<svg")
    assert "viewBox" in svg
    assert "<script" not in svg


async def test_the_hall_and_online_are_told_apart_for_moderators_and_in_the_report(
    app: RunningApp, connect: Connect
) -> None:
    """A phone that joined with the hall's code asks, votes and answers as the hall; a viewer
    online as online; moderators see each question's origin; the report splits the counts.
    A wrong code or another studio's code is refused when joining."""
    session_id = await make_session(app, qa_auto_approve=True)
    studio_id = await _studio_of(app, session_id)
    other_studio = await _studio_of(app, await make_session(app))
    other_code = (await _json(await app.client.get(f"/api/v1/studios/{other_studio}/join-code")))[
        "code"
    ]
    code = (await _json(await app.client.get(f"/api/v1/studios/{studio_id}/join-code")))["code"]
    await _json(await app.client.post(f"/api/v1/sessions/{session_id}/live", headers=app.admin))
    phone, home = await connect(), await connect()
    moderator = await connect(await moderator_token(app))
    wrong = await phone.request("w", type="join", room=session_id, code="999999")
    assert (wrong["type"], wrong["field"]) == ("error", "code")
    assert wrong["message"] == "join code '999999' does not exist"
    foreign = await phone.request("f", type="join", room=session_id, code=other_code)
    assert foreign["message"] == "this join code belongs to another studio"
    assert (await phone.request("j", type="join", room=session_id, code=code))["type"] == "joined"
    assert (await home.request("j", type="join", room=session_id))["type"] == "joined"
    assert (await moderator.request("j", type="join", room=session_id))["moderator"] is True
    asked = await phone.request("a", type="qa.ask", room=session_id, text="From row three")
    assert asked["type"] == "ack"
    await home.request("b", type="qa.ask", room=session_id, text="From the kitchen")
    origins: dict[str, str] = {}
    while len(origins) < 2:
        question = (await moderator.event("qa.question"))["question"]
        origins[question["text"]] = question["origin"]
    assert origins == {"From row three": "hall", "From the kitchen": "online"}
    poll = await moderator.request(
        "p", type="poll.open", room=session_id, question="Coffee?", options=["Yes", "No"]
    )
    poll_id = (await phone.event("poll"))["poll"]["id"]
    assert poll["type"] == "ack"
    for client, choice in ((phone, 0), (home, 1)):
        voted = await client.request("v", type="poll.vote", room=session_id, poll_id=poll_id,
                                     choices=[choice])  # fmt: skip
        assert voted["type"] == "ack"
    kitchen = next(q["id"] for q in (await phone.request("r", type="join", room=session_id))[
        "state"]["questions"] if q["text"] == "From the kitchen")  # fmt: skip
    assert (await phone.request("u", type="qa.vote", room=session_id,
                                question_id=kitchen))["type"] == "ack"  # fmt: skip
    await _json(await app.client.post(f"/api/v1/sessions/{session_id}/end", headers=app.admin))
    report = await _json(
        await app.client.get(f"/api/v1/sessions/{session_id}/report", headers=app.admin)
    )
    assert report["questions_by_origin"] == {"hall": 1, "online": 1}
    assert report["poll_answers_by_origin"] == {"hall": 1, "online": 1}
    assert report["question_votes_by_origin"] == {"hall": 1, "online": 0}
