"""The websocket protocol's promises (docs/protocol.md) over real sockets, one node."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import web.websocket as websocket_module
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.realtime_client import WsClient
from tests.support.rooms import Connect, make_session, moderator_token, open_client, staff_token
from web.keys import SETTINGS

FAST = {"TORGET_REALTIME_TICK_MS": "20"}
NO_LIMITS = {**FAST, "TORGET_REALTIME_RATE_LIMIT_PER_SECOND": "100000",
             "TORGET_REALTIME_RATE_LIMIT_BURST": "100000"}  # fmt: skip


async def answers_until_closed(client: WsClient) -> list[dict[str, Any]]:
    """Every frame until the server closes the connection."""
    frames: list[dict[str, Any]] = []
    while True:
        try:
            frames.append(await client.next())
        except ConnectionError:
            return frames


# --- decoding: refs, unknown fields ----------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code", "field", "message"),
    [
        ({"type": "dance"}, "bad_frame", "type", "type: 'dance' is not one of the allowed values"),
        ({"room": "ses_x"}, "bad_frame", "type", "type: is required"),
        ({"type": "chat.send", "room": "ses_x"}, "invalid_input", "text", "text: is required"),
        ({"type": "chat.send", "room": 5, "text": "hi"}, "invalid_input", "room",
         "room: must be a string, not an integer"),
        ({"type": "join", "room": "ses_x", "after": 7}, "invalid_input", "after",
         "after: must be a string, not an integer"),
    ],
)  # fmt: skip
async def test_errors_while_decoding_echo_the_ref(
    connect: Connect, frame: dict[str, Any], code: str, field: str, message: str
) -> None:
    """A frame refused while it is decoded (unknown type, missing or mistyped field) gets its
    error with the frame's ref and the field named."""
    client = await connect()
    error = await client.request("r-17", **frame)
    assert (error["type"], error["code"], error["field"], error["message"]) == (
        "error", code, field, message,
    )  # fmt: skip


async def test_a_ref_that_is_not_a_short_string_is_not_echoed(connect: Connect) -> None:
    """A ref that is not a string of at most 64 characters is answered with ``"ref": ""``."""
    client = await connect()
    await client.ws.send_str(json.dumps({"type": "dance", "ref": 5}))
    assert (await client.until("error"))["ref"] == ""
    await client.ws.send_str(json.dumps({"type": "ping", "ref": "x" * 65}))
    error = await client.until("error")
    assert (error["ref"], error["field"], error["message"]) == (
        "", "ref", "ref: must be at most 64 characters",
    )  # fmt: skip


async def test_an_oversized_frame_echoes_its_ref(connect: Connect) -> None:
    """A frame over 8 KiB is refused with its ref."""
    client = await connect()
    error = await client.request("big", type="chat.send", room="ses_x", text="x" * 9000)
    assert (error["code"], error["message"]) == ("bad_frame", "frames may be at most 8192 bytes")


async def test_unknown_fields_are_ignored(app: RunningApp, connect: Connect) -> None:
    """A newer client's extra fields do not break an older server: they are ignored."""
    room = await make_session(app)
    client = await connect()
    assert (await client.request("p", type="ping", since_v2=True))["type"] == "pong"
    joined = await client.request("j", type="join", room=room, mode="compact")
    assert joined["type"] == "joined"
    ack = await client.request("m", type="chat.send", room=room, text="hej", reply_to="x")
    assert ack["type"] == "ack"


# --- ids and resuming ----------------------------------------------------------------------


async def test_event_ids_sort_as_strings_in_log_order(tmp_path: Path) -> None:
    """Many messages in a burst (several per millisecond) get ids that sort as strings in the
    order the log has them, all of one width."""
    async with running_app(settings_for(sqlite_url(tmp_path), **NO_LIMITS)) as app:
        room = await make_session(app)
        sender, reader = await open_client(app), await open_client(app)
        await sender.request("j", type="join", room=room)
        await reader.request("j", type="join", room=room)
        texts = [f"m{i}" for i in range(60)]
        for text in texts:
            await sender.send(type="chat.send", room=room, text=text)
        received = [await reader.event("chat.message") for _ in texts]
        assert [m["text"] for m in received] == texts
        ids = [m["id"] for m in received]
        assert ids == sorted(ids)
        assert len({len(i) for i in ids}) == 1
        assert re.fullmatch(r"\d{13}-\d{6}", ids[0])
        for client in (sender, reader):
            await client.ws.close()


async def test_resume_takes_ids_in_the_old_format(app: RunningApp, connect: Connect) -> None:
    """An id without zero padding (``<ms>-<seq>`` as earlier versions sent) resumes at the
    same place; an id that is not an event id is refused, naming ``after``."""
    room = await make_session(app)
    speaker = await connect()
    await speaker.request("j", type="join", room=room)
    first = (await speaker.request("1", type="chat.send", room=room, text="one"))["id"]
    await speaker.request("2", type="chat.send", room=room, text="two")
    ms, seq = first.split("-")
    old_format = f"{int(ms)}-{int(seq)}"
    again = await connect()
    joined = await again.request("r", type="join", room=room, after=old_format)
    assert (joined["reset"], [e["text"] for e in joined["events"]]) == (False, ["two"])
    bad = await again.request("b", type="join", room=room, after="yesterday")
    assert (bad["code"], bad["field"], bad["message"]) == (
        "invalid_input", "after", "after: must be an event id like 1732560000123-000004",
    )  # fmt: skip


async def test_an_id_from_the_future_resets(app: RunningApp, connect: Connect) -> None:
    """``after`` newer than anything in the room's log answers ``reset: true`` and the
    history, so a client never waits for events it will not get."""
    room = await make_session(app)
    speaker = await connect()
    await speaker.request("j", type="join", room=room)
    sent = await speaker.request("1", type="chat.send", room=room, text="one")
    ms, seq = sent["id"].split("-")
    future = f"{int(ms) + 60_000:013d}-{int(seq):06d}"
    again = await connect()
    joined = await again.request("r", type="join", room=room, after=future)
    assert joined["reset"] is True
    assert [e["text"] for e in joined["events"]] == ["one"]
    assert joined["last_id"] == sent["id"]
    empty_room = await make_session(app)
    fresh = await again.request("e", type="join", room=empty_room, after=future)
    assert (fresh["reset"], fresh["events"]) == (True, [])


# --- rules -------------------------------------------------------------------------------


async def test_a_moderator_gets_each_settings_change_once(
    app: RunningApp, connect: Connect
) -> None:
    """After a filter or slow-mode change a moderator receives one ``chat.settings`` event per
    id (with ``blocked_words``), live and in history; a viewer one without the words."""
    room = await make_session(app)
    mod, viewer = await connect(await moderator_token(app)), await connect()
    await mod.request("j", type="join", room=room)
    await viewer.request("j", type="join", room=room)
    filtered = await mod.request("f", type="chat.filter", room=room, words=["spam"])
    slowed = await mod.request("s", type="chat.slow_mode", room=room, seconds=5)
    await viewer.request("p", type="ping")
    seen_by_mod = [await mod.event("chat.settings"), await mod.event("chat.settings")]
    await viewer.request("m", type="chat.send", room=room, text="later")
    await mod.event("chat.message")  # a later event: any duplicate would have come before it
    await mod.request("p", type="ping")
    assert [e["id"] for e in seen_by_mod] == [filtered["id"], slowed["id"]]
    assert [e for e in mod.events if e["type"] == "chat.settings"] == []
    assert seen_by_mod[1] == {"type": "chat.settings", "id": slowed["id"],
                              "slow_mode_seconds": 5, "blocked_words": ["spam"]}  # fmt: skip
    public = [await viewer.event("chat.settings"), await viewer.event("chat.settings")]
    assert [sorted(e) for e in public] == [["id", "slow_mode_seconds", "type"]] * 2
    history = (await mod.request("j2", type="join", room=room))["events"]
    ids = [e["id"] for e in history if e["type"] == "chat.settings"]
    assert ids == [filtered["id"], slowed["id"]]


async def test_poll_errors_name_the_poll_field(app: RunningApp, connect: Connect) -> None:
    """A blank poll question or option is refused naming ``question`` or ``options``."""
    room = await make_session(app)
    mod = await connect(await moderator_token(app))
    await mod.request("j", type="join", room=room)
    blank_question = await mod.request(
        "q", type="poll.open", room=room, question="  ", options=["Ja", "Nej"]
    )
    assert (blank_question["field"], blank_question["message"]) == (
        "question", "question: must not be blank",
    )  # fmt: skip
    blank_option = await mod.request(
        "o", type="poll.open", room=room, question="Fika?", options=["Ja", " "]
    )
    assert (blank_option["field"], blank_option["message"]) == (
        "options", "options: must not be blank",
    )  # fmt: skip


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda c, i: c.send(type="ping", ref=str(i)), id="pings"),
        pytest.param(lambda c, i: c.ws.send_str("not json"), id="invalid frames"),
        pytest.param(lambda c, i: c.ws.send_bytes(b"\x00"), id="binary frames"),
        pytest.param(lambda c, i: c.send(type="leave", room="ses_x"), id="leaves"),
    ],
)
async def test_every_frame_kind_counts_toward_the_flood_limit(
    connect: Connect, send: Callable[[WsClient, int], Awaitable[None]]
) -> None:
    """400 frames of any kind in a burst: the first are answered, then ``rate_limited``, then
    the connection is closed with 1008; a bystander is unaffected."""
    flooder, bystander = await connect(), await connect()
    for i in range(400):
        await send(flooder, i)
    frames = await answers_until_closed(flooder)
    assert flooder.closed_code == 1008
    codes = [f.get("code") for f in frames]
    assert "rate_limited" in codes
    assert codes[-1] == "rate_limited"
    assert frames[-1]["message"] == "too many frames; disconnecting"
    assert len(frames) < 400
    assert (await bystander.request("p", type="ping"))["type"] == "pong"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Eva\u0000", "name: must not contain control characters"),
        ("Ev\na", "name: must not contain control characters"),
        ("   ", "name: must not be blank"),
    ],
)
async def test_hello_refuses_control_characters_and_blank_names(
    connect: Connect, name: str, message: str
) -> None:
    """A display name with control characters or only spaces is refused, naming ``name``."""
    client = await connect()
    refused = await client.request("h", type="hello", name=name)
    assert (refused["code"], refused["field"], refused["message"]) == (
        "invalid_input", "name", message,
    )  # fmt: skip
    assert (await client.request("ok", type="hello", name="  Eva "))["name"] == "Eva"


async def test_the_viewer_pass_name_is_the_websocket_name(
    app: RunningApp, connect: Connect
) -> None:
    """The display name a viewer pass was issued with names its holder on the websocket, from
    the cookie and from ``hello``; a name in the same ``hello`` wins."""
    answer = await app.client.post("/api/v1/auth/viewer", json={"display_name": "Eva Ek"})
    viewer = await answer.json()
    with_cookie = await connect(Cookie=f"torget_viewer={viewer['viewer_pass']}")
    assert (with_cookie.welcome["viewer_id"], with_cookie.welcome["name"]) == (
        viewer["viewer_id"], "Eva Ek",
    )  # fmt: skip
    in_hello = await connect()
    ack = await in_hello.request("h", type="hello", viewer_pass=viewer["viewer_pass"])
    assert (ack["viewer_id"], ack["name"]) == (viewer["viewer_id"], "Eva Ek")
    renamed = await connect()
    ack = await renamed.request("h", type="hello", viewer_pass=viewer["viewer_pass"], name="Eva")
    assert ack["name"] == "Eva"


async def test_muted_and_banned_viewers_cannot_ask_or_vote(
    app: RunningApp, connect: Connect
) -> None:
    """A muted viewer cannot ask, vote for questions or vote in polls until the mute ends; a
    banned viewer not at all."""
    room = await make_session(app, qa_auto_approve=True)
    mod, muted, banned = await connect(await moderator_token(app)), await connect(), await connect()
    for client in (mod, muted, banned):
        await client.request("j", type="join", room=room)
    question = await mod.request("q", type="qa.ask", room=room, text="Vem?")
    poll_ack = await mod.request("p", type="poll.open", room=room, question="Fika?",
                                 options=["Ja", "Nej"])  # fmt: skip
    assert poll_ack["type"] == "ack"
    poll = (await muted.event("poll"))["poll"]
    question_id = (await muted.event("qa.question"))["question"]["id"]
    assert question["type"] == "ack"
    await mod.request("m", type="chat.mute", room=room, viewer_id=muted.welcome["viewer_id"],
                      minutes=5)  # fmt: skip
    await mod.request("b", type="chat.ban", room=room, viewer_id=banned.welcome["viewer_id"])
    for client, reason in ((muted, "you are muted for 300 more seconds"),
                           (banned, "you cannot take part in this room")):  # fmt: skip
        tries = [
            await client.request("a", type="qa.ask", room=room, text="Varför?"),
            await client.request("v", type="qa.vote", room=room, question_id=question_id),
            await client.request(
                "pv", type="poll.vote", room=room, poll_id=poll["id"], choices=[0]
            ),
        ]
        assert [(t["code"], t["message"]) for t in tries] == [("refused", reason)] * 3
    await mod.request("u", type="chat.mute", room=room, viewer_id=muted.welcome["viewer_id"],
                      minutes=0)  # fmt: skip
    vote = await muted.request("v2", type="poll.vote", room=room, poll_id=poll["id"], choices=[1])
    assert vote["type"] == "ack"


async def test_slow_mode_does_not_throttle_moderators(app: RunningApp, connect: Connect) -> None:
    """The moderators who set slow mode keep posting; viewers wait."""
    room = await make_session(app)
    mod, viewer = await connect(await moderator_token(app)), await connect()
    await mod.request("j", type="join", room=room)
    await viewer.request("j", type="join", room=room)
    await mod.request("s", type="chat.slow_mode", room=room, seconds=60)
    answers = [await mod.request(f"m{i}", type="chat.send", room=room, text=f"notis {i}")
               for i in range(3)]  # fmt: skip
    assert [a["type"] for a in answers] == ["ack"] * 3
    await viewer.request("v1", type="chat.send", room=room, text="first")
    slowed = await viewer.request("v2", type="chat.send", room=room, text="second")
    assert slowed["code"] == "refused"


async def test_audit_names_each_action_with_real_null_targets(
    app: RunningApp, connect: Connect
) -> None:
    """Mute, unmute, ban, unban, slow mode and filter each have their own audit name; settings
    changes have a null target, moderation the viewer's id."""
    room = await make_session(app)
    mod, viewer = await connect(await moderator_token(app)), await connect()
    await mod.request("j", type="join", room=room)
    target = viewer.welcome["viewer_id"]
    for ref, frame in [
        ("1", {"type": "chat.mute", "viewer_id": target, "minutes": 5}),
        ("2", {"type": "chat.mute", "viewer_id": target, "minutes": 0}),
        ("3", {"type": "chat.ban", "viewer_id": target}),
        ("4", {"type": "chat.ban", "viewer_id": target, "banned": False}),
        ("5", {"type": "chat.slow_mode", "seconds": 10}),
        ("6", {"type": "chat.filter", "words": ["spam"]}),
    ]:
        assert (await mod.request(ref, room=room, **frame))["type"] == "ack"
    audit = await (await app.client.get(f"/api/v1/sessions/{room}/audit", headers=app.admin)).json()
    assert [(a["action"], a["target"]) for a in audit] == [
        ("chat.mute", target), ("chat.unmute", target), ("chat.ban", target),
        ("chat.unban", target), ("chat.slow_mode", None), ("chat.filter", None),
    ]  # fmt: skip
    assert json.loads(audit[0]["detail"])["muted_until"] > 0
    assert json.loads(audit[4]["detail"]) == {"slow_mode_seconds": 10}
    assert json.loads(audit[5]["detail"]) == {"blocked_words": ["spam"]}


# --- the access-code gate --------------------------------------------------------------------


@pytest.fixture
async def gated(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget whose event asks for an access code."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_EVENT_ACCESS_CODE="kod", **FAST)
    async with running_app(settings) as running:
        yield running


async def test_with_an_access_code_a_pass_in_the_first_hello_lets_in(gated: RunningApp) -> None:
    """Without a pass cookie, a pass presented in the first frame (``hello``) opens the
    connection: the welcome then the ack, with the pass's identity."""
    viewer = await (
        await gated.client.post("/api/v1/auth/viewer", json={"display_name": "Eva",
                                                              "access_code": "kod"})
    ).json()  # fmt: skip
    client = WsClient(await gated.client.ws_connect("/ws"))
    await client.send(type="hello", viewer_pass=viewer["viewer_pass"], ref="h")
    welcome = await client.next()
    assert (welcome["type"], welcome["viewer_id"], welcome["name"]) == (
        "welcome", viewer["viewer_id"], "Eva",
    )  # fmt: skip
    ack = await client.next()
    assert (ack["type"], ack["ref"], ack["viewer_id"]) == ("ack", "h", viewer["viewer_id"])
    assert (await client.request("p", type="ping"))["type"] == "pong"
    await client.ws.close()


@pytest.mark.parametrize(
    ("first", "message"),
    [
        ({"type": "ping", "ref": "p"}, "this event asks for an access code: send hello with a "
         "viewer_pass first"),
        ({"type": "hello", "viewer_pass": "vwr_x.1.forged", "ref": "p"},
         "viewer_pass: is not valid"),
    ],
)  # fmt: skip
async def test_with_an_access_code_another_first_frame_is_refused(
    gated: RunningApp, first: dict[str, Any], message: str
) -> None:
    """A first frame that is not a hello with a valid pass gets an error with its ref, then
    the connection is closed with 1008."""
    client = WsClient(await gated.client.ws_connect("/ws"))
    await client.send(**first)
    frames = await answers_until_closed(client)
    assert [(f["type"], f["code"], f["ref"], f["message"]) for f in frames] == [
        ("error", "forbidden", "p", message)
    ]
    assert client.closed_code == 1008


async def test_with_an_access_code_silence_is_closed_at_the_deadline(
    gated: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection that presents nothing within the deadline is closed with 1008."""
    monkeypatch.setattr(websocket_module, "PASS_DEADLINE_S", 0.3)
    client = WsClient(await gated.client.ws_connect("/ws"))
    frames = await answers_until_closed(client)
    assert [(f["type"], f["code"]) for f in frames] == [("error", "forbidden")]
    assert client.closed_code == 1008


# --- sign-ins that end -----------------------------------------------------------------------


async def browser_sign_in(app: RunningApp, secret: str) -> tuple[str, str]:
    """Sign a browser in with a token: (its session cookie, its CSRF token)."""
    answer = await app.client.post("/api/v1/auth/login", json={"token": secret})
    cookie = answer.cookies["torget_session"].value
    app.client.session.cookie_jar.clear()  # other clients of this test stay anonymous
    return cookie, (await answer.json())["csrf_token"]


async def test_revoking_a_token_closes_its_sockets(app: RunningApp, connect: Connect) -> None:
    """A revoked token's open websockets are closed with 4401 at once; a moderator action
    sent after the revocation is never carried out; viewers stay."""
    room = await make_session(app)
    token_id, secret = await staff_token(app)
    mod, viewer = await connect(secret), await connect()
    await mod.request("j", type="join", room=room)
    await viewer.request("j", type="join", room=room)
    revoked = await app.client.delete(f"/api/v1/tokens/{token_id}", headers=app.admin)
    assert revoked.status == 204
    await mod.send(type="chat.slow_mode", room=room, seconds=60, ref="late")
    await answers_until_closed(mod)
    assert mod.closed_code == 4401
    assert (await viewer.request("m", type="chat.send", room=room, text="hej"))["type"] == "ack"
    await viewer.request("m2", type="chat.send", room=room, text="igen")  # no slow mode
    assert viewer.seen[-1]["type"] == "ack"


async def test_signing_out_closes_that_browsers_sockets(app: RunningApp, connect: Connect) -> None:
    """Signing a browser out closes the websockets it opened with that sign-in (4401); the
    same token's other sign-ins keep theirs."""
    _, secret = await staff_token(app)
    cookie, csrf = await browser_sign_in(app, secret)
    in_browser = await connect(Cookie=f"torget_session={cookie}")
    assert in_browser.welcome["role"] == "moderator"
    with_bearer = await connect(secret)
    signed_in = {"Cookie": f"torget_session={cookie}", "X-CSRF-Token": csrf}
    out = await app.client.post("/api/v1/auth/logout", headers=signed_in)
    assert out.status == 204
    await answers_until_closed(in_browser)
    assert in_browser.closed_code == 4401
    assert (await with_bearer.request("p", type="ping"))["type"] == "pong"


async def test_an_expired_sign_in_is_closed(app: RunningApp, connect: Connect) -> None:
    """When a browser sign-in expires, its websockets are closed with 4401 within a second."""
    _, secret = await staff_token(app)
    cookie, _ = await browser_sign_in(app, secret)
    in_browser = await connect(Cookie=f"torget_session={cookie}")
    assert (await in_browser.request("p", type="ping"))["type"] == "pong"
    app.clock.advance(hours=app.web_app[SETTINGS].auth.web_session_hours, minutes=1)
    async with asyncio.timeout(3):
        await answers_until_closed(in_browser)
    assert in_browser.closed_code == 4401
