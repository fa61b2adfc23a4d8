"""The fan-out's decisions (realtime/feed.py), without sockets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from realtime.feed import RoomFeed
from studio.interaction.room import Audience, Emit


@dataclass(eq=False)
class Viewer:
    viewer_id: str
    staff: bool = False
    got: list[str] = field(default_factory=list)

    def is_staff(self, room: str) -> bool:
        return self.staff


def encode(payload: object) -> bytes:
    return json.dumps(payload).encode() + b"\n"


def chat(text: str, audience: Audience = Audience.PUBLIC, viewer: str | None = None) -> Emit:
    return Emit({"type": "chat", "text": text}, audience, viewer)


def texts(data: bytes) -> list[str]:
    frames = [json.loads(line) for line in data.splitlines()]
    return [e["text"] for f in frames if f["type"] == "events" for e in f["events"]]


def test_a_joiner_gets_only_what_comes_after_its_history() -> None:
    """A member joining after events were queued is sent none of them, then everything later."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    early, late = Viewer("a"), Viewer("b")
    feed.join(early)
    feed.add([chat("1")])
    feed.join(late)
    feed.add([chat("2")])
    assert texts(feed.out(early)) == ["1", "2"]
    assert texts(feed.out(late)) == ["2"]
    assert feed.out(early) == b""
    assert feed.out(late) == b""


def test_events_arriving_mid_sweep_reach_the_rest_of_that_sweep() -> None:
    """Members not yet written in a sweep get events that arrived during it; the ones already
    written get them in the next sweep, with no gap and no duplicate."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    first, second = Viewer("a"), Viewer("b")
    feed.join(first)
    feed.join(second)
    feed.add([chat("1")])
    order = feed.begin()
    assert order == [first, second]
    assert texts(feed.out(first)) == ["1"]
    feed.add([chat("2")])
    assert texts(feed.out(second)) == ["1", "2"]
    feed.end()
    assert feed.due
    feed.begin()
    assert texts(feed.out(first)) == ["2"]
    assert feed.out(second) == b""
    feed.end()
    assert not feed.due


def test_one_frame_is_encoded_for_members_that_lack_the_same_events() -> None:
    """Members at the same cursor share one encoded frame (the very same bytes object)."""
    calls: list[object] = []

    def counting(payload: object) -> bytes:
        calls.append(payload)
        return encode(payload)

    feed: RoomFeed[Viewer] = RoomFeed("r", counting)
    members = [Viewer(str(i)) for i in range(50)]
    for member in members:
        feed.join(member)
    feed.add([chat("hello")])
    frames = {id(feed.out(m)) for m in members}
    assert len(frames) == 1
    assert len(calls) == 1


def test_staff_events_reach_moderators_and_their_author_only() -> None:
    """A queued question goes to moderators and the viewer who asked, not to other viewers."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    moderator, author, other = Viewer("m", staff=True), Viewer("asker"), Viewer("x")
    for member in (moderator, author, other):
        feed.join(member)
    feed.add([chat("public"), chat("pending", Audience.STAFF, "asker")])
    assert texts(feed.out(moderator)) == ["public", "pending"]
    assert texts(feed.out(author)) == ["public", "pending"]
    assert texts(feed.out(other)) == ["public"]


def test_the_latest_viewer_count_rides_along_once() -> None:
    """Only the newest count is sent, with the events, and not again once a member has it."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    viewer = Viewer("a")
    feed.join(viewer)
    feed.set_count(encode({"type": "viewers", "count": 1}))
    feed.set_count(encode({"type": "viewers", "count": 2}))
    feed.add([chat("hi")])
    lines = [json.loads(line) for line in feed.out(viewer).splitlines()]
    assert lines == [
        {"type": "events", "room": "r", "events": [{"type": "chat", "text": "hi"}]},
        {"type": "viewers", "count": 2},
    ]
    feed.add([chat("again")])
    assert texts(feed.out(viewer)) == ["again"]
    assert b"viewers" not in feed.out(viewer)


def test_a_member_who_left_is_skipped_by_the_sweep_under_way() -> None:
    """Leaving during a sweep means nothing more is produced for that member."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    gone = Viewer("a")
    feed.join(gone)
    feed.add([chat("1")])
    order = feed.begin()
    feed.leave(gone)
    assert [feed.out(m) for m in order] == [b""]
    feed.end()


def test_a_sweep_forgets_events_every_member_has() -> None:
    """Once a sweep ends, events every member was sent are no longer kept."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    viewer = Viewer("a")
    feed.join(viewer)
    feed.add([chat(str(i)) for i in range(100)])
    for member in feed.begin():
        feed.out(member)
    feed.end()
    assert feed.kept == 0


def test_an_event_with_a_staff_form_reaches_each_member_once() -> None:
    """An event with a moderators' form (chat settings with the blocked words) reaches
    moderators in that form and everyone else in the public one, once each."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    moderator, viewer = Viewer("m", staff=True), Viewer("v")
    for member in (moderator, viewer):
        feed.join(member)
    settings = Emit(
        {"type": "chat", "text": "public"}, staff_event={"type": "chat", "text": "staff"}
    )
    feed.add([settings, chat("after")])
    assert texts(feed.out(moderator)) == ["staff", "after"]
    assert texts(feed.out(viewer)) == ["public", "after"]


def test_the_rooms_staff_get_the_count_with_the_staff_count() -> None:
    """With a staff form of the count, the room's moderators get it (alone or after events)
    and viewers keep sharing the public one."""
    feed: RoomFeed[Viewer] = RoomFeed("r", encode)
    viewer, other, moderator = Viewer("a"), Viewer("b"), Viewer("m", staff=True)
    for member in (viewer, other, moderator):
        feed.join(member)
    public = {"type": "viewers", "count": 1}
    feed.set_count(encode(public), encode({**public, "staff": 2}))
    shared = feed.out(viewer)
    assert json.loads(shared) == public
    assert feed.out(other) is shared  # encoded once for every viewer
    assert json.loads(feed.out(moderator)) == {"type": "viewers", "count": 1, "staff": 2}
    feed.add([chat("hi")])
    feed.set_count(encode({**public, "count": 3}), encode({**public, "count": 3, "staff": 1}))
    lines = [json.loads(line) for line in feed.out(moderator).splitlines()]
    assert lines == [
        {"type": "events", "room": "r", "events": [{"type": "chat", "text": "hi"}]},
        {"type": "viewers", "count": 3, "staff": 1},
    ]
    assert [json.loads(x) for x in feed.out(viewer).splitlines()][-1] == {**public, "count": 3}
