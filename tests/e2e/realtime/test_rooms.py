"""Chat, Q&A, polls and counts over real websockets against a running Torget (memory engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.realtime_client import WsClient
from tests.support.rooms import Connect, make_session, moderator_token


async def test_chat_reaches_everyone_in_order(app: RunningApp, connect: Connect) -> None:
    """Messages from two viewers reach both, in one order, with ids and names."""
    room = await make_session(app)
    eva, olli = await connect(), await connect()
    await eva.request("j", type="hello", name="Eva")
    for client in (eva, olli):
        joined = await client.request("j1", type="join", room=room)
        assert joined["type"] == "joined"
    for i in range(3):
        assert (await eva.request(f"e{i}", type="chat.send", room=room, text=f"hej {i}"))[
            "type"
        ] == "ack"
    received = [await olli.event("chat.message") for _ in range(3)]
    assert [m["text"] for m in received] == ["hej 0", "hej 1", "hej 2"]
    assert {m["name"] for m in received} == {"Eva"}
    ids = [m["id"] for m in received]
    assert ids == sorted(ids, key=lambda i: tuple(int(x) for x in i.split("-")))


async def test_resume_gets_exactly_what_was_missed(app: RunningApp, connect: Connect) -> None:
    """A client that reconnects with the last id it saw gets the rest, once each, in order."""
    room = await make_session(app)
    speaker, listener = await connect(), await connect()
    await speaker.request("j", type="join", room=room)
    await listener.request("j", type="join", room=room)
    await speaker.request("a", type="chat.send", room=room, text="one")
    last_seen = (await listener.event("chat.message"))["id"]
    await listener.ws.close()
    for text in ("two", "three", "four"):
        await speaker.request(text, type="chat.send", room=room, text=text)
    again = await connect()
    joined = await again.request("r", type="join", room=room, after=last_seen)
    assert [e["text"] for e in joined["events"]] == ["two", "three", "four"]
    assert joined["reset"] is False
    await speaker.request("five", type="chat.send", room=room, text="five")
    assert (await again.event("chat.message"))["text"] == "five"
    assert again.events == []


async def test_history_survives_a_node_restart(tmp_path: Path) -> None:
    """Acknowledged messages are in the room's history after the node restarts, with the same
    ids: a client resumes after an id it got before the restart, and later ids sort after it."""
    settings = settings_for(sqlite_url(tmp_path))
    async with running_app(settings) as first:
        room = await make_session(first)
        client = WsClient(await first.client.ws_connect("/ws"))
        await client.next()
        await client.request("j", type="join", room=room)
        kept = (await client.request("m", type="chat.send", room=room, text="kept"))["id"]
        await client.ws.close()
    async with running_app(settings) as second:
        client = WsClient(await second.client.ws_connect("/ws"))
        await client.next()
        joined = await client.request("j", type="join", room=room)
        assert [(e["id"], e["text"]) for e in joined["events"]] == [(kept, "kept")]
        later = (await client.request("m", type="chat.send", room=room, text="later"))["id"]
        assert later > kept
        again = WsClient(await second.client.ws_connect("/ws"))
        await again.next()
        resumed = await again.request("r", type="join", room=room, after=kept)
        assert (resumed["reset"], [e["text"] for e in resumed["events"]]) == (False, ["later"])
        for ws in (client, again):
            await ws.ws.close()


async def test_moderator_deletes_mutes_and_sets_slow_mode(
    app: RunningApp, connect: Connect
) -> None:
    """Deletion reaches everyone and leaves history; mute and slow mode refuse with a reason."""
    room = await make_session(app)
    mod, viewer = await connect(await moderator_token(app)), await connect()
    assert (await mod.request("j", type="join", room=room))["moderator"] is True
    assert (await viewer.request("j", type="join", room=room))["moderator"] is False
    sent = await viewer.request("m", type="chat.send", room=room, text="rude words")
    refused = await viewer.request("d", type="chat.delete", room=room, message_id=sent["id"])
    assert refused["code"] == "forbidden"
    assert (await mod.request("d", type="chat.delete", room=room, message_id=sent["id"]))[
        "type"
    ] == "ack"
    assert (await viewer.event("chat.deleted"))["message_id"] == sent["id"]
    fresh = await connect()
    assert (await fresh.request("j", type="join", room=room))["events"][-1][
        "type"
    ] == "chat.deleted"
    assert all(
        e["type"] != "chat.message"
        for e in (await fresh.request("j2", type="join", room=room))["events"]
    )
    await mod.request("s", type="chat.slow_mode", room=room, seconds=30)
    await viewer.request("m1", type="chat.send", room=room, text="first")
    slow = await viewer.request("m2", type="chat.send", room=room, text="second")
    assert slow["code"] == "refused"
    assert slow["message"].startswith("slow mode is on: wait")
    welcome_id = (await mod.request("x", type="ping"))["type"]
    assert welcome_id == "pong"
    await mod.request(
        "mute", type="chat.mute", room=room, viewer_id=viewer.welcome["viewer_id"], minutes=5
    )
    muted = await viewer.request("m3", type="chat.send", room=room, text="third")
    assert muted["message"].startswith("you are muted for")
    audit = await app.client.get(f"/api/v1/sessions/{room}/audit", headers=app.admin)
    assert [a["action"] for a in await audit.json()] == [
        "chat.delete",
        "chat.slow_mode",
        "chat.mute",
    ]


async def test_questions_are_moderated_then_public(app: RunningApp, connect: Connect) -> None:
    """Pending questions reach moderators and the author only; approval and highlight reach all."""
    room = await make_session(app)
    mod, author, other = await connect(await moderator_token(app)), await connect(), await connect()
    for client in (mod, author, other):
        await client.request("j", type="join", room=room)
    await author.request("q", type="qa.ask", room=room, text="Why <b>now</b>?", anonymous=True)
    pending = (await mod.event("qa.question"))["question"]
    assert (pending["status"], pending["author_name"], pending["text"]) == (
        "pending",
        None,
        "Why <b>now</b>?",
    )
    assert (await author.event("qa.question"))["question"]["status"] == "pending"
    early_vote = await other.request("v0", type="qa.vote", room=room, question_id=pending["id"])
    assert early_vote["code"] == "not_found" or early_vote["code"] == "refused"
    await mod.request(
        "a", type="qa.moderate", room=room, question_id=pending["id"], action="approve"
    )
    assert (await other.event("qa.question"))["question"]["status"] == "approved"
    assert (await other.request("v1", type="qa.vote", room=room, question_id=pending["id"]))[
        "type"
    ] == "ack"
    twice = await other.request("v2", type="qa.vote", room=room, question_id=pending["id"])
    assert twice["message"] == "you have voted for this question already"
    await mod.request(
        "h", type="qa.moderate", room=room, question_id=pending["id"], action="answering"
    )
    highlighted = None
    while highlighted is None or highlighted["question"]["status"] != "answering":
        highlighted = await other.event("qa.question")
    assert highlighted["question"]["votes"] == 1
    bad = await mod.request(
        "b", type="qa.moderate", room=room, question_id=pending["id"], action="reject"
    )
    assert bad["code"] == "conflict"
    statuses = [
        e["question"]["status"]
        for f in other.seen
        if f["type"] == "events"
        for e in f["events"]
        if e["type"] == "qa.question"
    ]
    assert "pending" not in statuses


async def test_polls_count_once_per_viewer(app: RunningApp, connect: Connect) -> None:
    """A moderator's poll collects one vote per viewer and shows live results."""
    room = await make_session(app)
    mod, viewer = await connect(await moderator_token(app)), await connect()
    await mod.request("j", type="join", room=room)
    await viewer.request("j", type="join", room=room)
    await mod.request("p", type="poll.open", room=room, question="Fika?", options=["Ja", "Nej"])
    poll = (await viewer.event("poll"))["poll"]
    await viewer.request("v", type="poll.vote", room=room, poll_id=poll["id"], choices=[0])
    again = await viewer.request("v2", type="poll.vote", room=room, poll_id=poll["id"], choices=[1])
    assert again["message"] == "you have voted in this poll already"
    await mod.request("c", type="poll.close", room=room, poll_id=poll["id"])
    final = None
    while final is None or final["poll"]["open"]:
        final = await viewer.event("poll")
    assert final["poll"]["tally"] == [1, 0]


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("not json", "bad_frame", "the frame is not valid JSON"),
        ('{"type": "dance"}', "bad_frame", "type: 'dance' is not one of the allowed values"),
        ('{"type": "chat.send", "room": "x"}', "invalid_input", "text: is required"),
        ("[1, 2]", "bad_frame", "the body must be an object, not a list"),
        ('{"type": "join", "room": "ses_nope"}', "not_found", "session 'ses_nope' does not exist"),
        (
            '{"type": "chat.send", "room": "ses_x", "text": "hi"}',
            "not_joined",
            "join room 'ses_x' first",
        ),
    ],
)
async def test_bad_frames_get_error_frames_and_the_connection_lives(
    connect: Connect, raw: str, code: str, message: str
) -> None:
    """Malformed, unknown and misplaced frames are answered with an error; ping still works."""
    client = await connect()
    await client.ws.send_str(raw)
    error = await client.until("error")
    assert (error["code"], error["message"]) == (code, message)
    assert (await client.request("p", type="ping"))["type"] == "pong"


async def test_oversized_frame_is_refused_with_an_error(connect: Connect) -> None:
    """A frame over 8 KiB gets an error frame, not a dropped connection."""
    client = await connect()
    await client.send(type="ping", ref="x" * 9000)
    error = await client.until("error")
    assert error["message"] == "frames may be at most 8192 bytes"
    assert (await client.request("p", type="ping"))["type"] == "pong"


async def test_flooding_gets_errors_then_a_disconnect(app: RunningApp, connect: Connect) -> None:
    """Past the burst, frames are refused; repeated flooding closes the connection (1008)."""
    room = await make_session(app)
    flooder, bystander = await connect(), await connect()
    await flooder.request("j", type="join", room=room)
    await bystander.request("j", type="join", room=room)
    for i in range(40):
        await flooder.send(type="chat.send", room=room, text=f"spam {i}", ref=str(i))
    codes = await error_codes_until_closed(flooder)
    assert flooder.closed_code == 1008
    assert "rate_limited" in codes
    assert (await bystander.request("p", type="ping"))["type"] == "pong"


async def error_codes_until_closed(client: WsClient) -> list[str]:
    """Read until the server closes the connection; return the error codes seen."""
    codes: list[str] = []
    while True:
        try:
            frame = await client.next()
        except ConnectionError:
            return codes
        if frame["type"] == "error":
            codes.append(frame["code"])


async def test_user_text_is_delivered_as_inert_text(app: RunningApp, connect: Connect) -> None:
    """Markup in chat arrives exactly as typed, as a JSON string (pages insert it as text)."""
    room = await make_session(app)
    client = await connect()
    await client.request("j", type="join", room=room)
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await client.request("x", type="chat.send", room=room, text=payload)
    assert (await client.event("chat.message"))["text"] == payload


async def test_viewer_count_is_pushed(app: RunningApp, connect: Connect) -> None:
    """Every member gets the room's live viewer count about once a second."""
    room = await make_session(app)
    first, second = await connect(), await connect()
    await first.request("j", type="join", room=room)
    await second.request("j", type="join", room=room)
    count = await first.until("viewers", timeout=5, room=room, count=2)
    assert count["count"] == 2


async def test_programme_changes_reach_the_event_room(app: RunningApp, connect: Connect) -> None:
    """Going live is announced in the event room."""
    room = await make_session(app)
    client = await connect()
    await client.request("j", type="join", room="event")
    await app.client.post(f"/api/v1/sessions/{room}/live", headers=app.admin)
    change = await client.event("program.session")
    assert (change["session_id"], change["state"]) == (room, "live")
    refused = await client.request("c", type="chat.send", room="event", text="hi")
    assert refused["code"] == "forbidden"


async def test_report_counts_viewers_questions_and_chat(app: RunningApp, connect: Connect) -> None:
    """Peak and unique viewers, the viewers timeline, chat volume and questions are kept."""
    from web.keys import HUB

    room = await make_session(app)
    first, second = await connect(), await connect()
    for client in (first, second):
        await client.request("j", type="join", room=room)
    for i in range(3):
        await first.request(f"m{i}", type="chat.send", room=room, text=f"m{i}")
    await second.request("q", type="qa.ask", room=room, text="Hur?")
    await app.web_app[HUB].update_presence(record=True)
    report = await (
        await app.client.get(f"/api/v1/sessions/{room}/report", headers=app.admin)
    ).json()
    assert (report["peak_viewers"], report["unique_viewers"]) == (2, 2)
    assert (report["chat_messages"], report["questions"]) == (3, 1)
    assert [p["viewers"] for p in report["timeline"]] == [2]


async def test_viewer_pass_keeps_identity_across_connections(
    app: RunningApp, connect: Connect
) -> None:
    """A viewer pass presented in hello gives the same viewer id on every connection; a forged
    pass is refused."""
    answer = await app.client.post("/api/v1/auth/viewer", json={"display_name": "Eva"})
    viewer = await answer.json()
    first, second = await connect(), await connect()
    for client in (first, second):
        ack = await client.request("h", type="hello", name="Eva", viewer_pass=viewer["viewer_pass"])
        assert ack["viewer_id"] == viewer["viewer_id"]
    forged = await first.request("f", type="hello", viewer_pass=viewer["viewer_pass"] + "x")
    assert (forged["code"], forged["message"]) == ("invalid_input", "viewer_pass: is not valid")


async def test_ban_and_word_filter(app: RunningApp, connect: Connect) -> None:
    """A banned viewer cannot post; a filtered word is refused for everyone."""
    room = await make_session(app)
    mod, viewer, other = await connect(await moderator_token(app)), await connect(), await connect()
    for client in (mod, viewer, other):
        await client.request("j", type="join", room=room)
    ban = await mod.request("b", type="chat.ban", room=room, viewer_id=viewer.welcome["viewer_id"])
    assert ban["type"] == "ack"
    refused = await viewer.request("m", type="chat.send", room=room, text="hello")
    assert refused["message"] == "you cannot post in this chat"
    await mod.request("f", type="chat.filter", room=room, words=["Spam"])
    blocked = await other.request("m", type="chat.send", room=room, text="buy spam")
    assert blocked["message"] == "your message holds a word this chat does not allow"
    assert (await other.request("m2", type="chat.send", room=room, text="fine"))["type"] == "ack"


async def test_a_log_entry_of_a_newer_version_is_skipped(app: RunningApp, connect: Connect) -> None:
    """An entry this version cannot read (a newer node's fact in a rolling upgrade) is skipped,
    live and when the room is folded again; the room goes on."""
    from web.keys import HUB

    room = await make_session(app)
    listener = await connect()
    await listener.request("j", type="join", room=room)
    engine = app.web_app[HUB].engine
    await engine.append(room, b'{"k":"chat.reaction","emoji":"+1"}')
    await engine.append("event", b'{"k":"sign_in.renamed"}')
    assert (await listener.request("m", type="chat.send", room=room, text="hej"))["type"] == "ack"
    assert (await listener.event("chat.message"))["text"] == "hej"
    await listener.request("l", type="leave", room=room)
    joined = await listener.request("j2", type="join", room=room)
    assert [e["type"] for e in joined["events"]] == ["chat.message"]
