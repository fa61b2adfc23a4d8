"""Caption cues as HLS subtitle renditions: playlists that follow the video segment by
segment (live and in the replay), WebVTT segments mapped to the video's clock, the
multivariant's renditions, and the caption tracks of the MP4 download."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import m3u8  # type: ignore[import-untyped]
import pytest

from streaming import names
from streaming.errors import InvalidName, PlaylistConflict
from streaming.fmp4 import Fragment
from streaming.llhls import (
    MediaPlaylist,
    VariantStream,
    WrittenSegment,
    apply_written,
    render_multivariant,
)
from streaming.subtitles import (
    TimedCue,
    find_segment,
    find_vod_segment,
    iso_639_2,
    recording_lines,
    recording_position,
    render_cue_segment,
    render_subtitle_playlist,
    render_vod_cue_segment,
    render_vod_subtitle_playlist,
    segment_span,
    subtitle_media,
    vod_segment_span,
)
from streaming.vocab import MediaKind, ResourceKind
from streaming.vod import Trim, VodRendition, VodRun, VodSegment
from studio.captions.formats import TimedLine

AT = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
AT_MS = int(AT.timestamp() * 1000)
TIMESCALE = 15360


def _playlist() -> MediaPlaylist:
    """Rendition 0 with three 1 s segments (the second run starting at the third), each with
    its program date time and first decode time."""
    playlist = MediaPlaylist(
        rendition=0, target_duration=1, part_target=0.5, part_hold_back=1.5, window_seconds=10
    )
    for index, (run, number) in enumerate([(1, 1), (1, 2), (2, 1)]):
        decode = (10 + index) * TIMESCALE
        fragments = [
            Fragment(offset=0, length=100, decode_time=decode, duration=TIMESCALE // 2,
                     samples=15, independent=True),
            Fragment(offset=100, length=100, decode_time=decode + TIMESCALE // 2,
                     duration=TIMESCALE // 2, samples=15, independent=False),
        ]  # fmt: skip
        written = WrittenSegment(
            names.segment_name(run, 0, number), fragments, TIMESCALE, True,
            AT + timedelta(seconds=index),
        )  # fmt: skip
        apply_written(playlist, written)
    return playlist


def test_segments_know_their_place_on_the_90khz_clock() -> None:
    """A segment's first decode time is kept in 90 kHz units for the timestamp map."""
    playlist = _playlist()
    assert [s.mpegts for s in playlist.segments] == [900_000, 990_000, 1_080_000]
    assert segment_span(playlist.segments[1]) == (AT_MS + 1000, AT_MS + 2000)


def test_the_subtitle_playlist_follows_the_video_segment_by_segment() -> None:
    """Same sequence numbers, durations, discontinuity and program date times; a WebVTT
    segment named after each video segment; it parses as an HLS media playlist."""
    playlist = _playlist()
    text = render_subtitle_playlist(playlist, "sv")
    parsed = m3u8.loads(text)
    assert [s.uri for s in parsed.segments] == [
        "r0001_0_000001.sv.vtt", "r0001_0_000002.sv.vtt", "r0002_0_000001.sv.vtt",
    ]  # fmt: skip
    assert [s.duration for s in parsed.segments] == [1.0, 1.0, 1.0]
    assert [s.discontinuity for s in parsed.segments] == [False, False, True]
    assert parsed.media_sequence == 0
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-05-20T07:00:01.000Z" in text
    assert "#EXT-X-ENDLIST" not in text
    playlist.end()
    assert render_subtitle_playlist(playlist, "sv").endswith("#EXT-X-ENDLIST\n")


def test_a_cue_segment_maps_the_picture_clock_to_the_video_clock() -> None:
    """The WebVTT segment beside segment 2 maps LOCAL 0 to its first decode time and holds
    the cues that start within it, timed from its start; a cue may run past it."""
    segment = _playlist().segments[1]
    cues = [
        TimedCue(AT_MS + 900, AT_MS + 1500, "before"),
        TimedCue(AT_MS + 1250, AT_MS + 2750, "Välkomna <alla>"),
        TimedCue(AT_MS + 2000, AT_MS + 3000, "after"),
    ]
    text = render_cue_segment(segment, cues)
    assert text == (
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:990000,LOCAL:00:00:00.000\n\n"
        "1\n00:00:00.250 --> 00:00:01.750\nVälkomna &lt;alla&gt;\n\n"
    )


def test_a_segment_without_a_clock_gets_an_empty_cue_segment() -> None:
    """A segment the pipeline could not time still answers a valid, empty WebVTT file."""
    playlist = MediaPlaylist(
        rendition=0, target_duration=1, part_target=0.5, part_hold_back=1.5, window_seconds=10
    )
    playlist.complete_segment(names.segment_name(1, 0, 1), 1.0)
    segment = find_segment(playlist, names.segment_name(1, 0, 1))
    assert segment is not None
    assert render_cue_segment(segment, [TimedCue(AT_MS, AT_MS + 1, "x")]) == (
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
    )
    assert find_segment(playlist, names.segment_name(1, 0, 2)) is None


def test_the_multivariant_offers_a_subtitle_rendition_per_caption_language() -> None:
    """One EXT-X-MEDIA TYPE=SUBTITLES per language, named in its language, never default; every
    variant names the group."""
    variant = VariantStream(uri="source.m3u8", bandwidth=1_000_000, codecs="avc1.64001f")
    text = render_multivariant([variant], None, subtitle_media(["sv", "en", "pt-BR"]))
    parsed = m3u8.loads(text)
    assert [(m.type, m.language, m.name, m.uri, m.default) for m in parsed.media] == [
        ("SUBTITLES", "sv", "Svenska", "subs-sv.m3u8", "NO"),
        ("SUBTITLES", "en", "English", "subs-en.m3u8", "NO"),
        ("SUBTITLES", "pt-BR", "pt-BR", "subs-pt-BR.m3u8", "NO"),
    ]
    assert re.search(r'#EXT-X-STREAM-INF:.*SUBTITLES="subs"', text)
    assert "SUBTITLES=" not in render_multivariant([variant], None)


def test_caption_resource_names_parse_strictly() -> None:
    """Subtitle playlists and WebVTT segments have one spelling each."""
    playlist = names.parse_name("subs-sv.m3u8")
    assert (playlist.kind, playlist.language) == (ResourceKind.SUBTITLE_PLAYLIST, "sv")
    cues = names.parse_name("r0003_0_000042.en-GB.vtt")
    assert (cues.kind, cues.run, cues.rendition, cues.number, cues.language) == (
        ResourceKind.CUES, 3, 0, 42, "en-GB",
    )  # fmt: skip
    for bad in ("subs-SV.m3u8", "subs-../x.m3u8", "r0003_0_000000.sv.vtt", "r3_0_000042.sv.vtt"):
        with pytest.raises(InvalidName):
            names.parse_name(bad)


# --- replays ---------------------------------------------------------------------------------


def _recorded() -> VodRendition:
    """The source of a recording: run 1 (two 2 s segments, clock noted) and run 3 (one 1.5 s
    segment, its clock noted 10 s later: the publisher reconnected)."""

    def segment(run: int, number: int, duration: float, start_ms: int, mpegts: int) -> VodSegment:
        uri = names.segment_name(run, 0, number)
        return VodSegment(uri, duration, 1000, program_date_ms=start_ms, mpegts=mpegts)

    runs = (
        VodRun(1, names.init_name(1, 0), (segment(1, 1, 2.0, AT_MS, 0),
                                          segment(1, 2, 2.0, AT_MS + 2000, 180_000))),
        VodRun(3, names.init_name(3, 0), (segment(3, 1, 1.5, AT_MS + 14_000, 0),)),
    )  # fmt: skip
    return VodRendition("source", MediaKind.VIDEO, "avc1.64001f", 1280, 720, runs)


def test_the_replay_subtitle_playlist_lists_a_webvtt_segment_per_video_segment() -> None:
    """VOD, ENDLIST, the video's durations and discontinuities, each segment's program date
    time; it parses as an HLS media playlist."""
    text = render_vod_subtitle_playlist(_recorded(), "sv")
    assert text == (
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-05-20T07:00:00.000Z\n#EXTINF:2.0,\nr0001_0_000001.sv.vtt\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-05-20T07:00:02.000Z\n#EXTINF:2.0,\nr0001_0_000002.sv.vtt\n"
        "#EXT-X-DISCONTINUITY\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-05-20T07:00:14.000Z\n#EXTINF:1.5,\nr0003_0_000001.sv.vtt\n"
        "#EXT-X-ENDLIST\n"
    )
    assert m3u8.loads(text).is_endlist


def test_a_trimmed_replay_lists_only_the_segments_it_plays() -> None:
    """The trim keeps whole segments, as the video's VOD playlist does; a trim holding none of
    the rendition is a conflict; a segment cut away is not found."""
    video = _recorded()
    text = render_vod_subtitle_playlist(video, "en", Trim(start=2.5, end=4.5))
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "r0001_0_000002.en.vtt", "r0003_0_000001.en.vtt",
    ]  # fmt: skip
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    trim = Trim(start=4.0)
    assert find_vod_segment(video, "r0001_0_000002.m4s", trim) is None
    assert find_vod_segment(video, "r0003_0_000001.m4s", trim) == video.runs[1].segments[0]
    with pytest.raises(PlaylistConflict):
        render_vod_subtitle_playlist(video, "en", Trim(start=9.0))


def test_a_replay_cue_segment_is_mapped_and_timed_as_the_live_one() -> None:
    """X-TIMESTAMP-MAP maps LOCAL 0 to the segment's first decode time; the cues starting in
    its program-date-time span are timed from its start; without a clock it is empty."""
    segment = _recorded().runs[0].segments[1]
    assert vod_segment_span(segment) == (AT_MS + 2000, AT_MS + 4000)
    cues = [
        TimedCue(AT_MS + 1500, AT_MS + 2500, "before"),
        TimedCue(AT_MS + 3250, AT_MS + 5000, "Hej"),
        TimedCue(AT_MS + 4000, AT_MS + 5000, "after"),
    ]
    assert render_vod_cue_segment(segment, cues) == (
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:180000,LOCAL:00:00:00.000\n\n"
        "1\n00:00:01.250 --> 00:00:03.000\nHej\n\n"
    )
    unclocked = VodSegment("r0001_0_000001.m4s", 2.0, 1000)
    assert vod_segment_span(unclocked) is None
    assert render_vod_cue_segment(unclocked, cues) == (
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
    )


def test_the_mp4_tags_caption_languages_with_iso_639_2_codes() -> None:
    """Two-letter tags become the three-letter codes MP4 carries; a region is ignored; a tag
    without a code is 'und'."""
    assert [iso_639_2(tag) for tag in ("sv", "en-GB", "se", "fil", "pt-BR")] == [
        "swe", "eng", "sme", "fil", "und",
    ]  # fmt: skip


def test_a_picture_time_is_found_in_the_recording() -> None:
    """Within a segment: its place plus the offset; before the recording or in the gap between
    runs: the next segment's start; after it, or without clocks: None."""
    video = _recorded()
    assert recording_position(video, AT_MS + 2500) == 2.5
    assert recording_position(video, AT_MS - 3000) == 0.0
    assert recording_position(video, AT_MS + 9000) == 4.0
    assert recording_position(video, AT_MS + 14_750) == 4.75
    assert recording_position(video, AT_MS + 15_500) is None
    unclocked = VodRendition("source", MediaKind.VIDEO, "avc1", runs=(
        VodRun(1, names.init_name(1, 0), (VodSegment("r0001_0_000001.m4s", 2.0, 1),)),
    ))  # fmt: skip
    assert recording_position(unclocked, AT_MS) is None


def test_mp4_caption_lines_are_timed_by_the_recordings_clock_and_the_trim() -> None:
    """Each cue where its picture plays (the gap between runs taken out), moved by the trim's
    start; one that began before the recording or the trim starts at 0; those outside are left
    out and none runs past the end."""
    cues = [
        TimedCue(AT_MS - 1000, AT_MS + 500, "early"),
        TimedCue(AT_MS + 3000, AT_MS + 4000, "first run"),
        TimedCue(AT_MS + 8000, AT_MS + 9000, "in the gap"),
        TimedCue(AT_MS + 13_500, AT_MS + 14_500, "straddles the gap"),
        TimedCue(AT_MS + 15_000, AT_MS + 17_000, "at the end"),
        TimedCue(AT_MS + 20_000, AT_MS + 21_000, "after"),
    ]
    video = _recorded()
    assert recording_lines(cues, video, 0) == [
        TimedLine(0.0, 0.5, "early"), TimedLine(3.0, 4.0, "first run"),
        TimedLine(4.0, 4.5, "straddles the gap"), TimedLine(5.0, 5.5, "at the end"),
    ]  # fmt: skip
    assert recording_lines(cues, video, 0, Trim(start=3.5, end=5.0)) == [
        TimedLine(0.0, 0.5, "first run"), TimedLine(0.5, 1.0, "straddles the gap"),
    ]  # fmt: skip


def test_mp4_caption_lines_without_clocks_are_timed_from_going_live() -> None:
    """A recording whose runs noted no clock: cues timed from when the session went live, as
    the .vtt download, moved by the trim's start and kept inside it."""
    video = VodRendition("source", MediaKind.VIDEO, "avc1", runs=(
        VodRun(1, names.init_name(1, 0), (VodSegment("r0001_0_000001.m4s", 20.0, 1),)),
    ))  # fmt: skip
    cues = [
        TimedCue(AT_MS + 9000, AT_MS + 11_000, "straddles"),
        TimedCue(AT_MS + 12_000, AT_MS + 13_000, "kept"),
        TimedCue(AT_MS + 19_500, AT_MS + 21_000, "at the end"),
    ]
    assert recording_lines(cues, video, AT_MS, Trim(start=10.0)) == [
        TimedLine(0.0, 1.0, "straddles"), TimedLine(2.0, 3.0, "kept"),
        TimedLine(9.5, 10.0, "at the end"),
    ]  # fmt: skip
