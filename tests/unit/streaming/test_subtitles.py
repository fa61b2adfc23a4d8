"""Caption cues as HLS subtitle renditions: playlists that follow the video segment by
segment, WebVTT segments mapped to the video's clock, and the multivariant's renditions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import m3u8  # type: ignore[import-untyped]
import pytest

from streaming import names
from streaming.errors import InvalidName
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
    render_cue_segment,
    render_subtitle_playlist,
    segment_span,
    subtitle_media,
)
from streaming.vocab import ResourceKind

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
