"""A studio channel's stitched playlists: replays then the live session on one address, with
discontinuities where the source changes, a sliding window, parts at the live edge, and
playout paced by the wall clock."""

from __future__ import annotations

import m3u8  # type: ignore[import-untyped]

from streaming.channel import (
    ChannelEdge,
    ChannelPart,
    ChannelSegment,
    ChannelTrack,
    PlayoutQueue,
    playout_due,
    playout_start,
    replay_segments,
)
from streaming.vocab import MediaKind, ReloadDecision
from streaming.vod import Trim, VodRendition, VodRun, VodSegment


def track(window: float = 30.0) -> ChannelTrack:
    """A video track with 1 s segments and 0.2 s parts."""
    return ChannelTrack(
        target_duration=1, part_target=0.2, part_hold_back=0.6, window_seconds=window
    )


def segment(source: str, number: int, run: int = 1, duration: float = 1.0) -> ChannelSegment:
    """Segment ``number`` of ``source``'s run ``run``."""
    return ChannelSegment(
        uri=f"/hls/{source}/r{run:04d}_0_{number:06d}.m4s",
        map_uri=f"/hls/{source}/r{run:04d}_0_init.mp4",
        duration=duration,
        source=source,
        run=run,
    )


def test_a_switch_of_source_or_run_is_a_discontinuity_with_its_own_init_segment() -> None:
    """Replay segments, then the live session's: one discontinuity and a new map at the switch
    (and at a new run of the same session), none between segments of one run."""
    channel = track()
    for number in (1, 2):
        channel.append(segment("ses_replay", number))
    channel.append(segment("ses_live", 1))
    channel.append(segment("ses_live", 1, run=2))
    parsed = m3u8.loads(channel.render())
    assert [s.uri for s in parsed.segments] == [
        "/hls/ses_replay/r0001_0_000001.m4s",
        "/hls/ses_replay/r0001_0_000002.m4s",
        "/hls/ses_live/r0001_0_000001.m4s",
        "/hls/ses_live/r0002_0_000001.m4s",
    ]
    assert [s.discontinuity for s in parsed.segments] == [False, False, True, True]
    assert [s.init_section.uri for s in parsed.segments][1:3] == [
        "/hls/ses_replay/r0001_0_init.mp4",
        "/hls/ses_live/r0001_0_init.mp4",
    ]
    assert parsed.is_endlist is False


def test_the_window_slides_and_counts_the_discontinuities_it_drops() -> None:
    """Past the window, old segments leave; the media and discontinuity sequences count them,
    so every segment keeps its number and discontinuity sequence."""
    channel = track(window=3.0)
    for number in (1, 2):
        channel.append(segment("ses_a", number))
    for number in (1, 2, 3, 4):
        channel.append(segment("ses_b", number))
    text = channel.render()
    assert "#EXT-X-MEDIA-SEQUENCE:3" in text
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1" in text
    assert "#EXT-X-DISCONTINUITY\n" not in text
    assert [s.source for s in channel.segments] == ["ses_b"] * 3
    assert channel.next_msn == 6


def test_the_live_edge_lists_the_open_segments_parts_and_its_preload_hint() -> None:
    """Live: the open segment's parts follow the last segment, then the next part's hint;
    a blocking reload waits for a part not there yet and refuses one too far ahead."""
    channel = track()
    channel.append(segment("ses_live", 1))
    part = ChannelPart("/hls/ses_live/r0001_0_000002.0.m4s", 0.2, True)
    channel.set_edge(
        ChannelEdge("ses_live", 1, "/hls/ses_live/r0001_0_init.mp4", (part,),
                    "/hls/ses_live/r0001_0_000002.1.m4s")
    )  # fmt: skip
    text = channel.render()
    assert text.endswith(
        '#EXT-X-PART:DURATION=0.2,URI="/hls/ses_live/r0001_0_000002.0.m4s",INDEPENDENT=YES\n'
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/hls/ses_live/r0001_0_000002.1.m4s"\n'
    )
    assert channel.decide(1, 0) is ReloadDecision.READY
    assert channel.decide(1, 1) is ReloadDecision.WAIT
    assert channel.decide(2, None) is ReloadDecision.WAIT
    assert channel.decide(3, None) is ReloadDecision.BAD_REQUEST


def test_a_replay_is_listed_as_the_sessions_own_segments_inside_its_trim() -> None:
    """Replay segments keep the session's URIs (served by its HLS handler), runs and trim."""
    rendition = VodRendition(
        name="source",
        kind=MediaKind.VIDEO,
        codec="avc1.64001f",
        runs=(
            VodRun(1, "r0001_0_init.mp4", (VodSegment("r0001_0_000001.m4s", 1.0, 10),
                                           VodSegment("r0001_0_000002.m4s", 1.0, 10))),
            VodRun(2, "r0002_0_init.mp4", (VodSegment("r0002_0_000001.m4s", 1.0, 10),)),
        ),
    )  # fmt: skip
    listed = replay_segments("ses_r", rendition, Trim(start=1.5))
    assert [(s.uri, s.map_uri, s.run) for s in listed] == [
        ("/hls/ses_r/r0001_0_000002.m4s", "/hls/ses_r/r0001_0_init.mp4", 1),
        ("/hls/ses_r/r0002_0_000001.m4s", "/hls/ses_r/r0002_0_init.mp4", 2),
    ]


def test_playout_lists_what_would_have_aired_by_now_and_one_segment_ahead() -> None:
    """Starting, playout lists three target durations at once; then one segment per second of
    wall clock, never more than the lead ahead of real time."""
    channel = track()
    playout_start(channel, now=1000.0)
    appended = 0
    while playout_due(channel, 1000.0, lead=1.0):
        channel.append(segment("ses_r", appended + 1))
        appended += 1
    assert appended == 4  # from 997 s to 1001 s
    assert channel.ends_at == 1001.0
    assert not playout_due(channel, 1000.0, lead=1.0)
    assert playout_due(channel, 1000.01, lead=1.0)


def test_playout_plays_the_replays_in_order_and_starts_again_after_the_last() -> None:
    """After the replay it plays comes the next one, after the last the first; a replay that
    is no longer offered is left for the first one."""
    queue = PlayoutQueue()
    order = ["ses_1", "ses_2"]
    assert queue.next_replay(order) == "ses_1"
    queue.load("ses_1", [segment("ses_1", 1)])
    assert queue.next_replay(order) == "ses_2"
    queue.load("ses_2", [])
    assert queue.next_replay(order) == "ses_1"
    assert queue.next_replay(["ses_3"]) == "ses_3"
    assert queue.next_replay([]) is None
