"""Playback viewers without sockets (pure tracker): identities, expiry, caps, WebRTC holds."""

from __future__ import annotations

from studio.interaction.playback import (
    PlaybackTracker,
    Sighting,
    client_address,
    valid_viewer_query,
    viewer_identity,
)


def seen(viewer: str, address: str = "a1", *, verified: bool = False) -> Sighting:
    """A request claiming ``viewer`` from ``address`` (whose own identity is ``fb-<address>``)."""
    return Sighting(viewer, f"fb-{address}", address, verified=verified)


def test_identity_prefers_the_pass_then_a_valid_v_then_the_address() -> None:
    """The pass's viewer wins, a well-formed ``v`` comes next, anything else is the fallback."""
    assert viewer_identity("vwr_pass", "vwr_query", "fb", "a").viewer_id == "vwr_pass"
    assert viewer_identity("vwr_pass", None, "fb", "a").verified
    assert viewer_identity(None, "vwr_query", "fb", "a").viewer_id == "vwr_query"
    assert not viewer_identity(None, "vwr_query", "fb", "a").verified
    for bad in ("", "x", "<script>", "a b c d", "é" * 5, "x" * 65, None):
        assert viewer_identity(None, bad, "fb", "a").viewer_id == "fb"
    assert valid_viewer_query("vwr_ab12-cd") == "vwr_ab12-cd"


def test_client_address_trusts_forwarded_for_only_from_a_private_proxy() -> None:
    """Behind nginx on a private address the last X-Forwarded-For entry is the viewer;
    a public peer's header is ignored (a client can only prepend entries)."""
    assert client_address("172.18.0.5", "10.9.9.9, 203.0.113.7") == "203.0.113.7"
    assert client_address("127.0.0.1", "203.0.113.7") == "203.0.113.7"
    assert client_address("8.8.8.8", "203.0.113.7") == "8.8.8.8"
    assert client_address("172.18.0.5", None) == "172.18.0.5"
    assert client_address(None, "203.0.113.7") == "unknown"


def test_a_viewer_stays_two_target_durations_after_the_last_request() -> None:
    """Requests keep a viewer present; without one for 2 target durations they are gone."""
    tracker = PlaybackTracker(min_expiry_s=0)
    tracker.saw("s1", seen("v1"), now=0.0, target_duration=2)
    tracker.saw("s1", seen("v1"), now=3.0, target_duration=2)
    assert tracker.present("s1", now=6.9) == {"v1"}
    assert tracker.present("s1", now=7.0) == set()
    assert tracker.watching(now=7.0) == {}


def test_expiry_has_a_floor_for_short_target_durations() -> None:
    """With 1 s segments a viewer still stays at least ``min_expiry_s`` seconds."""
    tracker = PlaybackTracker(min_expiry_s=3.0)
    assert tracker.expiry(1) == 3.0
    assert tracker.expiry(4) == 8.0
    tracker.saw("s1", seen("v1"), now=10.0, target_duration=1)
    assert tracker.present("s1", now=12.5) == {"v1"}
    assert tracker.present("s1", now=13.0) == set()


def test_many_requests_of_one_viewer_count_once_and_sessions_are_apart() -> None:
    """Playlists, parts and segments of one viewer are one identity; sessions do not mix."""
    tracker = PlaybackTracker()
    for i in range(20):
        assert tracker.saw("s1", seen("v1"), now=i * 0.2, target_duration=1) == "v1"
    tracker.saw("s2", seen("v2"), now=2.0, target_duration=1)
    assert tracker.watching(now=4.0) == {"s1": {"v1"}, "s2": {"v2"}}


def test_made_up_v_ids_from_one_address_are_capped() -> None:
    """Past ``max_per_address`` distinct ``v`` ids an address counts as its own identity."""
    tracker = PlaybackTracker(max_per_address=3)
    counted = {
        tracker.saw("s1", seen(f"fake{i}", "a1"), now=0, target_duration=1) for i in range(10)
    }
    assert counted == {"fake0", "fake1", "fake2", "fb-a1"}
    assert tracker.saw("s1", seen("other", "a2"), now=0, target_duration=1) == "other"
    assert tracker.saw("s1", seen("vwr_pass", "a1", verified=True), 0, 1) == "vwr_pass"
    assert len(tracker.present("s1", now=1)) == 6


def test_the_cap_frees_up_when_ids_expire() -> None:
    """An address's expired ``v`` ids no longer count against its cap."""
    tracker = PlaybackTracker(max_per_address=1, min_expiry_s=0)
    assert tracker.saw("s1", seen("one"), now=0, target_duration=1) == "one"
    assert tracker.saw("s1", seen("two"), now=0.5, target_duration=1) == "fb-a1"
    assert tracker.saw("s1", seen("two"), now=3.0, target_duration=1) == "two"


def test_a_session_tracks_at_most_max_per_session_identities() -> None:
    """A flood of identities beyond the session's limit is not counted (memory stays bounded)."""
    tracker = PlaybackTracker(max_per_session=5, min_expiry_s=0)
    results = [tracker.saw("s1", seen(f"v{i}", f"a{i}"), 0, 1) for i in range(8)]
    assert results[:5] == [f"v{i}" for i in range(5)]
    assert results[5:] == [None] * 3
    assert tracker.saw("s1", seen("late", "z"), now=5, target_duration=1) == "late"


def test_webrtc_viewers_are_held_until_they_leave() -> None:
    """A WebRTC viewer is present from joined to the last left, whatever the time; one who
    is also an HLS viewer counts once."""
    tracker = PlaybackTracker()
    tracker.joined("s1", "vwr_a")
    tracker.joined("s1", "vwr_a")
    tracker.saw("s1", seen("vwr_a"), now=0, target_duration=1)
    assert tracker.present("s1", now=1000) == {"vwr_a"}
    tracker.left("s1", "vwr_a")
    assert tracker.present("s1", now=1000) == {"vwr_a"}
    tracker.left("s1", "vwr_a")
    tracker.left("s1", "vwr_a")  # one too many: ignored
    tracker.left("s9", "nobody")
    assert tracker.watching(now=1000) == {}
