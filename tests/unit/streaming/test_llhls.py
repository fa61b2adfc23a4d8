"""The LL-HLS playlist model: rendering against the spec, blocking reload, windows, names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import m3u8  # type: ignore[import-untyped]
import pytest

from streaming import names
from streaming.errors import (
    BadDirective,
    InvalidArgument,
    InvalidMedia,
    InvalidName,
    PlaylistConflict,
)
from streaming.fmp4 import Fragment, TrackInfo
from streaming.ladder import LadderSettings, SourceInfo, plan_ladder
from streaming.llhls import (
    AudioMedia,
    Directive,
    MediaPlaylist,
    PartLocation,
    RenditionReport,
    VariantStream,
    WrittenSegment,
    apply_written,
    cache_control,
    interpretations_for,
    multivariant_for,
    parse_directives,
    render_multivariant,
    vod_playlist,
)
from streaming.vocab import MediaKind, ReloadDecision, ResourceKind, VideoCodec
from tests.support.hls_checks import check_media_playlist

R, W, B = ReloadDecision.READY, ReloadDecision.WAIT, ReloadDecision.BAD_REQUEST


def make(**overrides: float) -> MediaPlaylist:
    """A rendition-0 playlist: 2 s target, 0.2 s parts, 0.6 s hold back, 6 s window."""
    options: dict[str, float] = {
        "target_duration": 2,
        "part_target": 0.2,
        "part_hold_back": 0.6,
        "window_seconds": 6.0,
    }
    options.update(overrides)
    return MediaPlaylist(
        rendition=0,
        target_duration=int(options["target_duration"]),
        part_target=options["part_target"],
        part_hold_back=options["part_hold_back"],
        window_seconds=options["window_seconds"],
    )


def seg(run: int, number: int) -> str:
    """The segment file name of rendition 0."""
    return f"r{run:04d}_0_{number:06d}.m4s"


def feed(
    playlist: MediaPlaylist,
    run: int,
    number: int,
    parts: int = 5,
    *,
    first: int = 0,
    close: bool = True,
) -> None:
    """Add ``parts`` 0.2 s parts of 100 bytes from index ``first`` (part 0 independent), then
    close the segment."""
    for index in range(first, first + parts):
        playlist.add_part(
            seg(run, number),
            duration=0.2,
            independent=index == 0,
            offset=index * 100,
            length=100,
        )
    if close:
        playlist.complete_segment(seg(run, number))


def part_lines(run: int, number: int, count: int) -> list[str]:
    """The EXT-X-PART lines of a segment fed by ``feed``."""
    return [
        f'#EXT-X-PART:DURATION=0.2,URI="r{run:04d}_0_{number:06d}.{i}.m4s"'
        + (",INDEPENDENT=YES" if i == 0 else "")
        for i in range(count)
    ]


HEADER = [
    "#EXTM3U",
    "#EXT-X-VERSION:6",
    "#EXT-X-TARGETDURATION:2",
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6",
    "#EXT-X-PART-INF:PART-TARGET=0.2",
]


@pytest.fixture
def live() -> MediaPlaylist:
    """Two complete one-second segments and a third with two parts so far."""
    playlist = make()
    feed(playlist, 1, 1)
    feed(playlist, 1, 2)
    feed(playlist, 1, 3, 2, close=False)
    return playlist


def test_live_playlist_renders_parts_and_a_preload_hint(live: MediaPlaylist) -> None:
    """Segments with their parts, the open segment's parts, then the hint for the next part."""
    assert live.render().splitlines() == [
        *HEADER,
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        '#EXT-X-MAP:URI="r0001_0_init.mp4"',
        *part_lines(1, 1, 5),
        "#EXTINF:1.0,",
        "r0001_0_000001.m4s",
        *part_lines(1, 2, 5),
        "#EXTINF:1.0,",
        "r0001_0_000002.m4s",
        *part_lines(1, 3, 2),
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="r0001_0_000003.2.m4s"',
    ]
    check_media_playlist(live.render())


def test_rendered_playlist_parses_with_m3u8(live: MediaPlaylist) -> None:
    """An independent parser reads the same segments, parts, hint and server control."""
    parsed = m3u8.loads(live.render())
    assert parsed.target_duration == 2
    assert parsed.media_sequence == 0
    assert parsed.server_control.can_block_reload == "YES"
    assert parsed.server_control.part_hold_back == 0.6
    assert parsed.part_inf.part_target == 0.2
    assert [s.uri for s in parsed.segments] == ["r0001_0_000001.m4s", "r0001_0_000002.m4s", None]
    assert [len(s.parts) for s in parsed.segments] == [5, 5, 2]
    assert parsed.segments[0].parts[0].independent == "YES"
    assert parsed.segments[0].init_section.uri == "r0001_0_init.mp4"
    assert parsed.preload_hint.uri == "r0001_0_000003.2.m4s"
    assert not parsed.is_endlist


@pytest.mark.parametrize(
    ("msn", "part", "decision"),
    [
        (0, None, R),
        (1, None, R),
        (2, None, W),
        (3, None, W),
        (4, None, B),
        (2, 0, R),
        (2, 1, R),
        (2, 2, W),
        (1, 4, R),
        (1, 5, R),
        (0, 7, R),
        (2, 16, W),
        (2, 17, B),
        (3, 0, W),
        (3, 14, W),
        (3, 15, B),
        (4, 0, B),
    ],
)
def test_blocking_reload_decisions(
    live: MediaPlaylist, msn: int, part: int | None, decision: ReloadDecision
) -> None:
    """Ready when present (a part past a segment's last means part 0 of the next), wait when
    at most two segments ahead and within the Advance Part Limit (3 / 0.2 = 15 parts), else 400.
    """
    assert live.decide(msn, part) is decision


def test_a_landing_part_turns_wait_into_ready(live: MediaPlaylist) -> None:
    """The request the hint invites is answered once that part lands."""
    assert live.decide(2, 2) is W
    feed(live, 1, 3, 3, first=2, close=False)
    assert live.decide(2, 2) is R
    assert live.decide(2, None) is W
    live.complete_segment(seg(1, 3))
    assert live.decide(2, None) is R
    assert live.decide(2, 5) is W
    assert live.blocking_timeout == 6.0


def test_an_ended_playlist_answers_every_directive_now(live: MediaPlaylist) -> None:
    """With EXT-X-ENDLIST the directives are ignored (§6.2.5.2)."""
    live.end()
    assert live.decide(99, 0) is R
    assert live.decide(0, None) is R


def test_empty_playlist_waits_for_the_first_segment() -> None:
    """Before any media a request for segment 0 or 1 waits, further ahead is a 400."""
    playlist = make()
    assert playlist.decide(0, 0) is W
    assert playlist.decide(1, None) is W
    assert playlist.decide(2, None) is B
    assert playlist.preload_hint is None
    assert playlist.render().splitlines() == [
        *HEADER,
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
    ]


def test_new_run_is_a_discontinuity_with_its_own_init(live: MediaPlaylist) -> None:
    """An ingest coming back (a new ffmpeg run) closes the open segment with the parts it has,
    then marks a discontinuity and a new map before the new segment's first part."""
    feed(live, 2, 1, 3, close=False)
    lines = live.render().splitlines()
    tail = lines[lines.index("r0001_0_000002.m4s") + 1 :]
    assert tail == [
        *part_lines(1, 3, 2),
        "#EXTINF:0.4,",
        "r0001_0_000003.m4s",
        "#EXT-X-DISCONTINUITY",
        '#EXT-X-MAP:URI="r0002_0_init.mp4"',
        *part_lines(2, 1, 3),
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="r0002_0_000001.3.m4s"',
    ]
    check_media_playlist(live.render())
    live.complete_segment(seg(2, 1))
    parsed = m3u8.loads(live.render())
    assert [s.discontinuity for s in parsed.segments] == [False, False, False, True]


def test_a_run_carrying_the_rendition_on_another_stream_maps_its_own_files() -> None:
    """A run with a rung dropped writes rendition 2 as output stream 1: the playlist takes
    that run's stream-1 files, with that run's stream-1 init, and no other stream's."""
    playlist = MediaPlaylist(
        rendition=2, target_duration=1, part_target=0.2, part_hold_back=0.6, window_seconds=6
    )
    playlist.add_part("r0001_2_000001.m4s", duration=0.2, independent=True, offset=0, length=9)
    playlist.complete_segment("r0001_2_000001.m4s")
    playlist.streams[2] = 1
    with pytest.raises(PlaylistConflict):
        playlist.add_part("r0002_2_000001.m4s", duration=0.2, independent=True, offset=0, length=9)
    playlist.add_part("r0002_1_000001.m4s", duration=0.2, independent=True, offset=0, length=9)
    lines = playlist.render().splitlines()
    assert '#EXT-X-MAP:URI="r0001_2_init.mp4"' in lines
    assert '#EXT-X-MAP:URI="r0002_1_init.mp4"' in lines
    assert lines.index('#EXT-X-MAP:URI="r0002_1_init.mp4"') > lines.index("#EXT-X-DISCONTINUITY")


def test_window_slides_and_counts_dropped_discontinuities() -> None:
    """Old segments leave in order; the media and discontinuity sequences count what left."""
    playlist = make(window_seconds=6.0)
    feed(playlist, 1, 1)
    for number in range(1, 9):
        feed(playlist, 2, number)
    assert playlist.media_sequence == 3
    assert playlist.discontinuity_sequence == 1
    lines = playlist.render().splitlines()
    assert lines[5:8] == [
        "#EXT-X-MEDIA-SEQUENCE:3",
        "#EXT-X-DISCONTINUITY-SEQUENCE:1",
        '#EXT-X-MAP:URI="r0002_0_init.mp4"',
    ]
    assert "#EXT-X-DISCONTINUITY" not in lines
    assert len([x for x in lines if x.startswith("#EXTINF")]) == 6
    check_media_playlist(playlist.render())
    assert len(playlist.segments) == 9


def test_window_keeps_a_discontinuity_at_its_start() -> None:
    """A discontinuity on the first listed segment is still marked, not yet counted."""
    playlist = make(window_seconds=6.0)
    for number in range(1, 4):
        feed(playlist, 1, number)
    for number in range(1, 7):
        feed(playlist, 2, number)
    lines = playlist.render().splitlines()
    assert lines[5:9] == [
        "#EXT-X-MEDIA-SEQUENCE:3",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY",
        '#EXT-X-MAP:URI="r0002_0_init.mp4"',
    ]
    assert m3u8.loads(playlist.render()).discontinuity_sequence == 0


def test_parts_are_listed_only_near_the_live_edge() -> None:
    """EXT-X-PART tags leave once their segment starts more than 3 target durations from the end."""
    playlist = make(window_seconds=10.0)
    for number in range(1, 13):
        feed(playlist, 1, number)
    parsed = m3u8.loads(playlist.render())
    assert parsed.media_sequence == 2
    assert [len(s.parts) for s in parsed.segments] == [0, 0, 0, 0, 5, 5, 5, 5, 5, 5]
    check_media_playlist(playlist.render())
    assert playlist.locate("r0001_0_000001.3.m4s") == PartLocation("r0001_0_000001.m4s", 300, 100)
    assert playlist.locate("r0001_0_000001.5.m4s") is None


def test_ended_playlist_has_endlist_and_no_hint(live: MediaPlaylist) -> None:
    """Ending closes the open segment with its parts, adds EXT-X-ENDLIST, drops the hint."""
    live.end()
    text = live.render()
    assert text.splitlines()[-3:] == ["#EXTINF:0.4,", "r0001_0_000003.m4s", "#EXT-X-ENDLIST"]
    assert "PRELOAD-HINT" not in text
    check_media_playlist(text)
    assert m3u8.loads(text).is_endlist


def test_vod_playlist_lists_the_whole_history_or_a_trimmed_range() -> None:
    """The replay lists every segment (or those overlapping [start, end)) without parts."""
    playlist = make(window_seconds=6.0)
    for number in range(1, 4):
        feed(playlist, 1, number)
    feed(playlist, 2, 1)
    for number in range(2, 9):
        feed(playlist, 2, number)
    playlist.end()
    vod = playlist.render_vod()
    assert vod.splitlines()[:9] == [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        '#EXT-X-MAP:URI="r0001_0_init.mp4"',
        "#EXTINF:1.0,",
        "r0001_0_000001.m4s",
    ]
    assert len(m3u8.loads(vod).segments) == 11
    check_media_playlist(vod)
    trimmed = playlist.render_vod(start=2.5, end=4.0).splitlines()
    assert trimmed[4:] == [
        "#EXT-X-MEDIA-SEQUENCE:2",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        '#EXT-X-MAP:URI="r0001_0_init.mp4"',
        "#EXTINF:1.0,",
        "r0001_0_000003.m4s",
        "#EXT-X-DISCONTINUITY",
        '#EXT-X-MAP:URI="r0002_0_init.mp4"',
        "#EXTINF:1.0,",
        "r0002_0_000001.m4s",
        "#EXT-X-ENDLIST",
    ]
    starts_at_gap = playlist.render_vod(start=3.0).splitlines()
    assert starts_at_gap[4:8] == [
        "#EXT-X-MEDIA-SEQUENCE:3",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY",
        '#EXT-X-MAP:URI="r0002_0_init.mp4"',
    ]
    with pytest.raises(PlaylistConflict) as caught:
        playlist.render_vod(start=100)
    assert str(caught.value) == "no complete segment in the requested range"


def test_vod_playlist_from_file_names_and_durations() -> None:
    """A replay can be rebuilt from what is on disk: names and durations only."""
    playlist = vod_playlist(
        rendition=0,
        target_duration=2,
        segments=[(seg(1, 1), 1.0), (seg(1, 2), 1.5), (seg(2, 1), 0.98)],
    )
    lines = playlist.render_vod().splitlines()
    assert lines[-6:] == [
        "r0001_0_000002.m4s",
        "#EXT-X-DISCONTINUITY",
        '#EXT-X-MAP:URI="r0002_0_init.mp4"',
        "#EXTINF:0.98,",
        "r0002_0_000001.m4s",
        "#EXT-X-ENDLIST",
    ]
    assert playlist.ended


def test_program_date_time_is_written_before_the_first_part() -> None:
    """A wall-clock start, in UTC with milliseconds, precedes the segment's parts."""
    playlist = make()
    stockholm = timezone(timedelta(hours=2))
    playlist.add_part(
        seg(1, 1),
        duration=0.2,
        independent=True,
        offset=0,
        length=10,
        program_date_time=datetime(2026, 5, 20, 9, 0, 0, 250_000, tzinfo=stockholm),
    )
    lines = playlist.render().splitlines()
    assert lines[8:10] == [
        "#EXT-X-PROGRAM-DATE-TIME:2026-05-20T07:00:00.250Z",
        '#EXT-X-PART:DURATION=0.2,URI="r0001_0_000001.0.m4s",INDEPENDENT=YES',
    ]
    with pytest.raises(InvalidArgument) as caught:
        playlist.add_part(
            seg(1, 1),
            duration=0.2,
            independent=False,
            offset=10,
            length=10,
            program_date_time=datetime(2026, 5, 20, 9, 0),
        )
    assert str(caught.value) == "program_date_time: must carry a time zone"


def test_rendition_reports_name_the_last_part() -> None:
    """A sibling's report carries its last MSN and part index."""
    audio = make()
    feed(audio, 1, 1)
    feed(audio, 1, 2, 2, close=False)
    report = audio.report("audio.m3u8")
    assert report == RenditionReport("audio.m3u8", 1, 1)
    video = make()
    feed(video, 1, 1)
    assert video.render([report]).splitlines()[-1] == (
        '#EXT-X-RENDITION-REPORT:URI="audio.m3u8",LAST-MSN=1,LAST-PART=1'
    )
    assert make().report("x.m3u8") == RenditionReport("x.m3u8", 0, None)


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (
            lambda p: p.add_part(seg(1, 1), duration=0.0, independent=True, offset=0, length=1),
            InvalidMedia,
            "a part of r0001_0_000001.m4s has no duration",
        ),
        (
            lambda p: p.complete_segment(seg(1, 1), 3.0),
            InvalidMedia,
            "r0001_0_000001.m4s lasts 3.000 s, longer than the target duration 2 s",
        ),
        (
            lambda p: p.complete_segment(seg(1, 1)),
            InvalidMedia,
            "r0001_0_000001.m4s has no parts and no duration",
        ),
        (
            lambda p: p.complete_segment("r0001_1_000001.m4s", 1.0),
            PlaylistConflict,
            "r0001_1_000001.m4s is not a segment of rendition 0",
        ),
        (
            lambda p: p.complete_segment("r0001_0_init.mp4", 1.0),
            PlaylistConflict,
            "r0001_0_init.mp4 is not a segment of rendition 0",
        ),
        (
            lambda p: p.complete_segment("../../etc/passwd", 1.0),
            InvalidName,
            "not a media resource name: '../../etc/passwd'",
        ),
        (
            lambda p: p.add_part(seg(1, 1), duration=0.2, independent=True, offset=5, length=1),
            PlaylistConflict,
            "part 0 of r0001_0_000001.m4s starts at byte 5, expected 0",
        ),
    ],
)
def test_bad_updates_are_refused(action: object, error: type[Exception], message: str) -> None:
    """Parts without duration, segments beyond the target, foreign names: each refused."""
    playlist = make()
    with pytest.raises(error) as caught:
        action(playlist)  # type: ignore[operator]
    assert str(caught.value) == message
    assert playlist.segments == ()


def test_out_of_order_segments_are_refused(live: MediaPlaylist) -> None:
    """Segments must follow one another within a run, and runs only move forward."""
    live.complete_segment(seg(1, 3))
    for name in (seg(1, 5), seg(1, 3), seg(1, 2)):
        with pytest.raises(PlaylistConflict) as caught:
            live.complete_segment(name, 1.0)
        expected = (
            f"{name} is already complete"
            if name != seg(1, 5)
            else f"{name} does not follow r0001_0_000003.m4s"
        )
        assert str(caught.value) == expected
    feed(live, 3, 1)
    with pytest.raises(PlaylistConflict) as caught:
        live.complete_segment(seg(2, 1), 1.0)
    assert str(caught.value) == "r0002_0_000001.m4s does not follow r0003_0_000001.m4s"
    feed(live, 3, 2, 1, close=False)
    with pytest.raises(PlaylistConflict) as caught:
        live.add_part(seg(3, 3), duration=0.2, independent=True, offset=0, length=1)
    assert str(caught.value) == "r0003_0_000003.m4s arrives while r0003_0_000002.m4s is still open"
    live.end()
    with pytest.raises(PlaylistConflict) as caught:
        feed(live, 3, 3)
    assert str(caught.value) == "the playlist has ended"


def test_playlist_settings_are_checked() -> None:
    """The hold back must be at least twice the part target, the target at least a second."""
    with pytest.raises(InvalidArgument) as caught:
        make(part_hold_back=0.3)
    assert str(caught.value) == "part_hold_back: must be at least twice the part target"
    with pytest.raises(InvalidArgument) as caught:
        make(target_duration=0)
    assert str(caught.value) == "target_duration: must be at least 1 second"


def test_apply_written_adds_new_fragments_once() -> None:
    """Feeding the same growing file again adds only the fragments not yet published."""
    playlist = make()
    frags = [Fragment(i * 100, 100, i * 3072, 3072, 6, i == 0) for i in range(5)]
    growing = WrittenSegment(seg(1, 1), frags[:2], 15360, complete=False)
    assert apply_written(playlist, growing) == [(0, 0), (0, 1)]
    assert apply_written(playlist, growing) == []
    done = WrittenSegment(seg(1, 1), frags, 15360, complete=True)
    assert apply_written(playlist, done) == [(0, 2), (0, 3), (0, 4)]
    assert apply_written(playlist, done) == []
    assert playlist.segments[0].duration == pytest.approx(1.0)
    assert playlist.decide(0, None) is R
    shrunk = WrittenSegment(seg(1, 2), frags[:2], 15360, complete=False)
    apply_written(playlist, shrunk)
    with pytest.raises(PlaylistConflict) as caught:
        apply_written(playlist, WrittenSegment(seg(1, 2), frags[:1], 15360, complete=False))
    assert str(caught.value) == (
        "r0001_0_000002.m4s now has 1 fragments, fewer than the 2 already published"
    )


@pytest.mark.parametrize(
    ("query", "directive"),
    [
        ({}, None),
        ({"_HLS_msn": "5"}, Directive(5, None)),
        ({"_HLS_msn": "5", "_HLS_part": "2", "other": "x"}, Directive(5, 2)),
    ],
)
def test_directives_are_parsed(query: dict[str, str], directive: Directive | None) -> None:
    """No _HLS_msn means no blocking; with it, a part index is optional."""
    assert parse_directives(query) == directive


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"_HLS_part": "1"}, "_HLS_part requires _HLS_msn"),
        ({"_HLS_msn": "-1"}, "_HLS_msn must be a non-negative decimal integer"),
        ({"_HLS_msn": "٣"}, "_HLS_msn must be a non-negative decimal integer"),
        ({"_HLS_msn": "1", "_HLS_part": "x"}, "_HLS_part must be a non-negative decimal integer"),
        ({"_HLS_msn": "9" * 13}, "_HLS_msn must be a non-negative decimal integer"),
    ],
)
def test_bad_directives_are_400(query: dict[str, str], message: str) -> None:
    """A part without an msn (§6.2.5.2) or a non-number is a Bad Request."""
    with pytest.raises(BadDirective) as caught:
        parse_directives(query)
    assert str(caught.value) == message


def test_multivariant_playlist_lists_variants_with_shared_audio() -> None:
    """Each variant names its codecs (video plus the audio group's), size and frame rate."""
    text = render_multivariant(
        [
            VariantStream("source.m3u8", 6_728_000, "avc1.64001f", (1280, 720), 30.0, 6_128_000),
            VariantStream("480p.m3u8", 1_668_000, "avc1.4d401e", (854, 480), 29.97),
        ],
        AudioMedia("audio.m3u8", "mp4a.40.2", language="sv"),
    )
    assert text.splitlines() == [
        "#EXTM3U",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",LANGUAGE="sv",DEFAULT=YES,'
        'AUTOSELECT=YES,CHANNELS="2",URI="audio.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=6728000,AVERAGE-BANDWIDTH=6128000,CODECS="avc1.64001f,'
        'mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="audio"',
        "source.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=1668000,CODECS="avc1.4d401e,mp4a.40.2",'
        'RESOLUTION=854x480,FRAME-RATE=29.970,AUDIO="audio"',
        "480p.m3u8",
    ]
    parsed = m3u8.loads(text)
    assert parsed.is_variant
    assert [p.stream_info.resolution for p in parsed.playlists] == [(1280, 720), (854, 480)]
    assert parsed.media[0].group_id == "audio"


def test_multivariant_refuses_injection_and_unknown_uris() -> None:
    """Quoted values cannot break out of their quotes; URIs must be our playlist names."""
    with pytest.raises(InvalidArgument) as caught:
        render_multivariant(
            [VariantStream("source.m3u8", 1, "avc1")], AudioMedia("audio.m3u8", "mp4a", name='x"y')
        )
    assert str(caught.value) == "name: must not contain quotes, line breaks or control characters"
    with pytest.raises(InvalidName):
        render_multivariant([VariantStream("http://evil/x.m3u8", 1, "avc1")], None)
    with pytest.raises(InvalidArgument) as caught:
        render_multivariant([], None)
    assert str(caught.value) == "variants: at least one variant is required"


def test_multivariant_for_a_plan_reads_codecs_from_the_init_segments() -> None:
    """Bandwidth is the rung's rate plus 10 % plus audio; codecs and sizes come from ffmpeg."""
    plan = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264, video_bitrate=4_000_000))
    tracks = {
        0: TrackInfo(MediaKind.VIDEO, 1, 90000, "avc1.42c01f", 1280, 720, 0, 0),
        1: TrackInfo(MediaKind.VIDEO, 1, 15360, "avc1.4d401f", 854, 480, 0, 0),
        2: TrackInfo(MediaKind.VIDEO, 1, 15360, "avc1.4d401e", 640, 360, 0, 0),
        3: TrackInfo(MediaKind.AUDIO, 1, 48000, "mp4a.40.2", 0, 0, 0, 0),
    }
    variants, audio = multivariant_for(plan, tracks)
    assert audio == AudioMedia("audio.m3u8", "mp4a.40.2")
    assert [(v.uri, v.bandwidth, v.codecs, v.resolution) for v in variants] == [
        ("source.m3u8", 4_528_000, "avc1.42c01f", (1280, 720)),
        ("480p.m3u8", 1_668_000, "avc1.4d401f", (854, 480)),
        ("360p.m3u8", 1_008_000, "avc1.4d401e", (640, 360)),
    ]
    del tracks[3]
    with pytest.raises(InvalidMedia) as caught:
        multivariant_for(plan, tracks)
    assert str(caught.value) == "no audio init segment for rendition 3"


@pytest.mark.parametrize(
    ("kind", "blocking", "ended", "header"),
    [
        (ResourceKind.PART, False, False, "public, max-age=31536000, immutable"),
        (ResourceKind.SEGMENT, False, False, "public, max-age=31536000, immutable"),
        (ResourceKind.INIT, False, False, "public, max-age=31536000, immutable"),
        (ResourceKind.PLAYLIST, False, False, "no-cache"),
        (ResourceKind.PLAYLIST, True, False, "public, max-age=30"),
        (ResourceKind.PLAYLIST, False, True, "public, max-age=60"),
    ],
)
def test_cache_control(kind: ResourceKind, blocking: bool, ended: bool, header: str) -> None:
    """Media never changes under its name; live playlists are revalidated, blocked ones keyed
    by their query can be cached briefly."""
    assert cache_control(kind, blocking=blocking, ended=ended) == header


def test_segment_durations_round_to_the_target() -> None:
    """A 2.4 s segment fits a 2 s target (rounded to the nearest integer), 2.5 s does not."""
    playlist = make()
    playlist.complete_segment(seg(1, 1), 2.4)
    with pytest.raises(InvalidMedia):
        playlist.complete_segment(seg(1, 2), 2.5)
    assert len(playlist.segments) == 1


def test_a_fragment_over_the_part_target_leaves_the_rest_of_its_segment_whole() -> None:
    """A late frame made a fragment longer than PART-TARGET: it and the rest of its segment
    are no parts (the parts before it stay), the hint moves to the next segment, a request
    for the next part waits for the next segment, the whole segment is served with every
    byte, and the next segment has parts again; the playlist keeps the spec's rules."""
    playlist = make()
    feed(playlist, 1, 1)
    feed(playlist, 1, 2, 2, close=False)
    assert (
        playlist.add_part(seg(1, 2), duration=0.29, independent=False, offset=200, length=150)
        is None
    )
    assert (
        playlist.add_part(seg(1, 2), duration=0.2, independent=False, offset=350, length=100)
        is None
    )
    assert playlist.unlisted == 1
    assert playlist.preload_hint == "r0001_0_000003.0.m4s"
    assert playlist.locate("r0001_0_000002.2.m4s") is None
    assert playlist.decide(1, 2) is W
    assert playlist.end_time == pytest.approx(1.0 + 0.89)
    check_media_playlist(playlist.render())
    playlist.complete_segment(seg(1, 2))
    assert playlist.segments[1].duration == pytest.approx(0.89)
    assert playlist.segment_length(seg(1, 2)) == 450
    assert playlist.segment_length(seg(1, 1)) == 500
    assert playlist.decide(1, 2) is W  # the part after the last is the next segment's first
    feed(playlist, 1, 3, 2, close=False)
    assert playlist.decide(1, 2) is R
    text = playlist.render()
    check_media_playlist(text)
    lines = text.splitlines()
    at = lines.index("r0001_0_000002.m4s")
    assert lines[at - 3 : at + 1] == [
        '#EXT-X-PART:DURATION=0.2,URI="r0001_0_000002.0.m4s",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.2,URI="r0001_0_000002.1.m4s"',
        "#EXTINF:0.89,",
        "r0001_0_000002.m4s",
    ]
    assert lines[-1] == '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="r0001_0_000003.2.m4s"'


def test_a_segment_whose_first_fragment_is_too_long_has_no_parts() -> None:
    """A segment opened by an over-long fragment lists no part at all; a new run abandoning it
    closes it with everything its fragments cover."""
    playlist = make()
    feed(playlist, 1, 1)
    assert playlist.add_part(seg(1, 2), duration=0.5, independent=True, offset=0, length=80) is None
    assert playlist.open_segment is not None
    assert playlist.open_segment.parts == []
    assert playlist.report("x.m3u8") == RenditionReport("x.m3u8", 0, 4)
    feed(playlist, 2, 1, 1, close=False)
    assert playlist.segments[1].duration == pytest.approx(0.5)
    assert playlist.segment_length(seg(1, 2)) == 80
    check_media_playlist(playlist.render())


def test_a_hinted_part_that_will_never_land_is_withdrawn() -> None:
    """A part is withdrawn once its segment closed (or stopped listing parts) before it, or its
    run ended; the hinted part of an open segment, a landed part and a part of a segment still
    to come are not."""
    playlist = make()
    feed(playlist, 1, 1, 2, close=False)
    assert playlist.preload_hint == "r0001_0_000001.2.m4s"
    assert not playlist.withdrawn(1, 1, 2)  # the hint: it may still land
    assert not playlist.withdrawn(1, 1, 1)  # landed
    playlist.complete_segment(seg(1, 1))  # closed after two parts: part 2 never comes
    assert playlist.withdrawn(1, 1, 2)
    assert not playlist.withdrawn(1, 2, 0)  # the next hint
    feed(playlist, 1, 2, 1, close=False)
    playlist.add_part(seg(1, 2), duration=0.29, independent=False, offset=100, length=150)
    assert playlist.withdrawn(1, 2, 1)  # the segment lists no more parts
    playlist.complete_segment(seg(1, 2))
    feed(playlist, 2, 1, 1, close=False)  # ffmpeg restarted: run 2
    assert playlist.withdrawn(1, 3, 0)  # the old run's next segment never opens
    assert not playlist.withdrawn(2, 1, 1)
    playlist.end()
    assert playlist.withdrawn(2, 1, 1)
    assert playlist.withdrawn(2, 2, 0)


def test_interpretations_are_alternative_audio_renditions_of_the_group() -> None:
    """Each interpretation language is an audio rendition after the original sound, in its
    group, named in its language, never the default; variants name the one group."""
    ladder = LadderSettings(rungs=(), interpretation_languages=("en", "fi"))
    plan = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264), ladder)
    assert [(r.name, r.language) for r in plan.interpretations] == [
        ("audio-en", "en"), ("audio-fi", "fi"),
    ]  # fmt: skip
    assert plan.audio is not None
    assert plan.audio.name == "audio"
    aac = TrackInfo(MediaKind.AUDIO, 1, 48000, "mp4a.40.2", 0, 0, 0, 0)
    tracks = {0: TrackInfo(MediaKind.VIDEO, 1, 90000, "avc1.64001f", 1280, 720, 0, 0)}
    tracks |= {1: aac, 2: aac}  # Finnish has no init segment yet: not listed
    variants, audio = multivariant_for(plan, tracks)
    spoken = interpretations_for(plan, tracks, {"en": "English"})
    master = m3u8.loads(render_multivariant(variants, audio, (), spoken))
    assert [(m.uri, m.language, m.name, m.default) for m in master.media] == [
        ("audio.m3u8", None, "Audio", "YES"),
        ("audio-en.m3u8", "en", "English", "NO"),
    ]
    assert {m.group_id for m in master.media} == {"audio"}
    assert [p.stream_info.audio for p in master.playlists] == ["audio"]


def test_a_playlist_numbered_from_a_later_pipeline_answers_by_its_own_numbers() -> None:
    """A playlist whose first segment is ``first_msn`` lists, reports, blocks and replays by
    those numbers: an earlier pipeline's are below every one of them."""
    playlist = MediaPlaylist(
        rendition=0, target_duration=2, part_target=0.2, part_hold_back=0.6,
        window_seconds=6.0, first_msn=names.first_msn(101),
    )  # fmt: skip
    feed(playlist, 101, 1)
    feed(playlist, 101, 2, 2, close=False)
    text = playlist.render()
    assert "#EXT-X-MEDIA-SEQUENCE:10000000" in text.splitlines()
    assert playlist.report("source.m3u8").last_msn == 10_000_001
    assert playlist.decide(10_000_001, 1) is ReloadDecision.READY
    assert playlist.decide(10_000_001, 2) is ReloadDecision.WAIT
    assert playlist.decide(10_000_004, None) is ReloadDecision.BAD_REQUEST
    assert playlist.segment_length(seg(101, 1)) == 500
    assert "#EXT-X-MEDIA-SEQUENCE:10000000" in playlist.render_vod().splitlines()
