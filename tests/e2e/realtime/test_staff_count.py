"""Viewer counts count viewers only: staff connections are counted apart, shown to moderators."""

from __future__ import annotations

from tests.support.harness import RunningApp
from tests.support.rooms import Connect, make_session, staff_token
from web.keys import HUB


async def test_staff_consoles_are_not_viewers_live_or_in_the_report(
    app: RunningApp, connect: Connect
) -> None:
    """One viewer page and three consoles (operator, moderator, admin) in a room: everyone is
    told one viewer; the moderator is also told the three staff connections (viewers and the
    operator are not); the report's peak and unique viewers are one."""
    room = await make_session(app)
    viewer = await connect()
    consoles = {role: await connect((await staff_token(app, role))[1])
                for role in ("operator", "moderator")}  # fmt: skip
    consoles["admin"] = await connect(app.admin_token)
    for client in (viewer, *consoles.values()):
        joined = await client.request("j", type="join", room=room)
        assert joined["type"] == "joined", joined
    await app.web_app[HUB].update_presence(record=True)
    seen = await viewer.until("viewers", room=room)
    assert seen == {"type": "viewers", "room": room, "count": 1}
    moderated = await consoles["moderator"].until("viewers", room=room)
    assert moderated == {"type": "viewers", "room": room, "count": 1, "staff": 3}
    operator = await consoles["operator"].until("viewers", room=room)
    assert operator == {"type": "viewers", "room": room, "count": 1}
    report = await (
        await app.client.get(f"/api/v1/sessions/{room}/report", headers=app.admin)
    ).json()
    assert (report["peak_viewers"], report["unique_viewers"]) == (1, 1)
    assert [p["viewers"] for p in report["timeline"]] == [1]
