"""The recording model and its VOD playlists, the trim rules and the run journal (all pure)."""

from __future__ import annotations

import m3u8  # type: ignore[import-untyped]
import msgspec
import pytest

from streaming.errors import InvalidArgument, InvalidName, PlaylistConflict
from streaming.subtitles import subtitle_media
from streaming.vocab import MediaKind, RunKind
from streaming.vod import (
    ClaimEntry,
    JournalEntry,
    Recording,
    Trim,
    VodRendition,
    VodRun,
    VodSegment,
    check_trim,
    in_recording_order,
    journal_line,
    parse_claims,
    parse_journal,
    render_media,
    render_multivariant,
    run_epoch,
    segment_clocks,
    select,
    target_duration,
)
from tests.support.hls_checks import check_media_playlist


def run(number: int, rendition: int, durations: list[float], size: int = 1000) -> VodRun:
    """A run of ``rendition`` with segments of the given durations."""
    return VodRun(
        run=number,
        init=f"r{number:04d}_{rendition}_init.mp4",
        segments=tuple(
            VodSegment(f"r{number:04d}_{rendition}_{n:06d}.m4s", d, size)
            for n, d in enumerate(durations, start=1)
        ),
    )


def recording() -> Recording:
    """Two runs (the publisher reconnected): 3 + 2 one-second segments, source and audio."""
    source = VodRendition(
        name="source",
        kind=MediaKind.VIDEO,
        codec="avc1.64001f",
        width=1280,
        height=720,
        runs=(run(1, 0, [1.0, 1.0, 0.5], 250_000), run(3, 0, [1.0, 1.0], 125_000)),
    )
    audio = VodRendition(
        name="audio",
        kind=MediaKind.AUDIO,
        codec="mp4a.40.2",
        runs=(run(1, 1, [1.0, 1.0, 0.5], 16_000), run(3, 1, [1.0, 1.0], 16_000)),
    )
    return Recording((source, audio))


def uris(text: str) -> list[str]:
    """The segment URIs a playlist lists."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_vod_playlist_lists_every_segment_of_every_run() -> None:
    """The replay lists all segments, a map per run, a discontinuity between runs, VOD + ENDLIST,
    and passes the spec checks the live playlists pass."""
    text = render_media(recording().renditions[0])
    check_media_playlist(text)
    parsed = m3u8.loads(text)
    assert parsed.playlist_type == "vod"
    assert parsed.is_endlist
    assert uris(text) == [
        "r0001_0_000001.m4s",
        "r0001_0_000002.m4s",
        "r0001_0_000003.m4s",
        "r0003_0_000001.m4s",
        "r0003_0_000002.m4s",
    ]
    assert [s.discontinuity for s in parsed.segments] == [False, False, False, True, False]
    lines = text.splitlines()
    assert lines.count('#EXT-X-MAP:URI="r0001_0_init.mp4"') == 1
    assert (
        lines.index('#EXT-X-MAP:URI="r0003_0_init.mp4"') == lines.index("#EXT-X-DISCONTINUITY") + 1
    )
    assert "#EXTINF:0.5," in lines
    assert sum(s.duration for s in parsed.segments) == pytest.approx(4.5)


def test_trim_keeps_the_segments_overlapping_it() -> None:
    """A trim keeps whole segments: the one holding the start through the one holding the end,
    and a run left without segments disappears with its discontinuity."""
    source = recording().renditions[0]
    text = render_media(source, Trim(start=1.2, end=2.6))
    check_media_playlist(text)
    assert uris(text) == ["r0001_0_000002.m4s", "r0001_0_000003.m4s", "r0003_0_000001.m4s"]
    assert "#EXT-X-DISCONTINUITY" in text.splitlines()
    only_second_run = render_media(source, Trim(start=2.5))
    assert uris(only_second_run) == ["r0003_0_000001.m4s", "r0003_0_000002.m4s"]
    assert "#EXT-X-DISCONTINUITY" not in only_second_run.splitlines()
    assert only_second_run.splitlines().count('#EXT-X-MAP:URI="r0003_0_init.mp4"') == 1
    # A boundary exactly between segments does not pull in the neighbour.
    assert [s.uri for _, kept in select(source, Trim(1.0, 2.0)) for s in kept] == [
        "r0001_0_000002.m4s"
    ]
    with pytest.raises(PlaylistConflict):
        render_media(source, Trim(start=10))


@pytest.mark.parametrize(
    ("start", "end", "field", "problem"),
    [
        (-1.0, None, "start_seconds", "must not be negative"),
        (0.0, -3.0, "end_seconds", "must not be negative"),
        (3.0, 3.0, "end_seconds", "must be after start_seconds"),
        (3.0, 2.0, "end_seconds", "must be after start_seconds"),
        (0.0, 9.0, "end_seconds", "must be at most the recording's duration (4.50 s)"),
        (4.5, None, "start_seconds", "must be before the end of the recording (4.50 s)"),
        (float("nan"), None, "start_seconds", "must not be negative"),
    ],
)
def test_bad_trims_are_refused_with_the_reason(
    start: float, end: float | None, field: str, problem: str
) -> None:
    """Negative times, an end not after the start, and times beyond the recording are refused."""
    with pytest.raises(InvalidArgument) as caught:
        check_trim(start, end, 4.5)
    assert (caught.value.field, caught.value.problem) == (field, problem)


def test_good_trims_are_kept_and_an_end_at_the_end_means_no_end() -> None:
    """A trim inside the recording is kept as given; an end at (or a hair past) the end is none."""
    assert check_trim(1.0, 3.0, 4.5) == Trim(1.0, 3.0)
    assert check_trim(0.0, 4.52, 4.5) == Trim(0.0, None)
    assert check_trim(2.0, None, 4.5) == Trim(2.0, None)
    assert Trim().whole
    assert not Trim(1.0).whole


def test_multivariant_measures_bit_rates_and_names_the_audio() -> None:
    """The replay's multivariant lists the video with peak and average bit rates measured over
    its segments plus the audio's, and the shared audio rendition."""
    master = m3u8.loads(render_multivariant(recording()))
    [variant] = master.playlists
    assert variant.uri == "source.m3u8"
    assert variant.stream_info.resolution == (1280, 720)
    assert variant.stream_info.codecs == "avc1.64001f,mp4a.40.2"
    # Peak: the 0.5 s segment of 250 kB is 4 Mbit/s, plus the audio's 256 kbit/s peak.
    assert variant.stream_info.bandwidth == 4_000_000 + 256_000
    average = 8 * (3 * 250_000 + 2 * 125_000) / 4.5 + 8 * 5 * 16_000 / 4.5
    assert variant.stream_info.average_bandwidth == pytest.approx(average, abs=2)
    [audio] = master.media
    assert (audio.type, audio.uri) == ("AUDIO", "audio.m3u8")


def test_recording_model_round_trips_and_finds_its_files() -> None:
    """The model survives JSON (the file a restarted node reads) and finds segments and maps."""
    original = recording()
    again = msgspec.json.decode(msgspec.json.encode(original), type=Recording)
    assert again == original
    assert again.duration == pytest.approx(4.5)
    assert again.runs == (1, 3)
    assert again.rendition("audio.m3u8") is again.audio
    assert again.rendition("720p.m3u8") is None
    assert again.segment("r0003_1_000002.m4s") == VodSegment("r0003_1_000002.m4s", 1.0, 16_000)
    assert again.segment("r0002_1_000001.m4s") is None
    assert again.has_init("r0003_0_init.mp4")
    assert not again.has_init("r0002_0_init.mp4")
    assert target_duration(again.renditions[0]) == 1


def test_recording_model_refuses_what_it_cannot_serve() -> None:
    """No video, an empty rendition, or a name outside the strict pattern is refused."""
    audio = recording().renditions[1]
    with pytest.raises(InvalidArgument):
        Recording((audio,))
    with pytest.raises(InvalidArgument):
        Recording((VodRendition(name="source", kind=MediaKind.VIDEO, codec="avc1"),))
    bad = VodRendition(name="../x", kind=MediaKind.VIDEO, codec="avc1", runs=(run(1, 0, [1.0]),))
    with pytest.raises(InvalidName):
        Recording((bad,))


def test_journal_lines_parse_back_and_torn_lines_are_skipped() -> None:
    """The run journal keeps each run's kind and renditions; a torn last line is ignored."""
    data = (
        journal_line(JournalEntry(1, RunKind.STARTING_SOON, ("source", "audio")))
        + journal_line(JournalEntry(2, RunKind.INGEST, ("source", "audio")))
        + b'{"run": 3, "ki'
    )
    entries = parse_journal(data)
    assert sorted(entries) == [1, 2]
    assert entries[1].kind is RunKind.STARTING_SOON
    assert entries[2].renditions == ("source", "audio")


def test_runs_are_ordered_by_the_epoch_they_were_recorded_under() -> None:
    """A node's runs take the epoch of the last claim made before them; a run brought from
    another node keeps its own; the recording's order is epoch, then number."""
    claims = parse_claims(
        journal_line(ClaimEntry(4, 5)) + journal_line(ClaimEntry(2, 1)) + b'{"epoch": 9, "fr'
    )
    assert claims == [ClaimEntry(2, 1), ClaimEntry(4, 5)]
    journal = parse_journal(
        journal_line(JournalEntry(7, RunKind.INGEST, epoch=1, origin="http://a", source_run=1))
        + journal_line(JournalEntry(8, RunKind.INGEST, epoch=3, origin="http://a", source_run=2))
    )
    assert [run_epoch(run, journal, claims) for run in (1, 4, 5, 6, 7, 8)] == [2, 2, 4, 4, 1, 3]
    assert run_epoch(1, {}, []) == 0
    assert in_recording_order([1, 4, 5, 6, 7, 8], journal, claims) == [7, 1, 4, 8, 5, 6]


def test_a_journal_line_of_a_run_brought_over_names_its_node() -> None:
    """Where a run came from survives the journal; a node's own run writes no such fields."""
    brought = JournalEntry(
        3, RunKind.INGEST, ("source",), epoch=1, origin="http://a:1", source_run=2
    )
    assert parse_journal(journal_line(brought)) == {3: brought}
    assert b"origin" not in journal_line(JournalEntry(1, RunKind.INGEST, ("source",)))


def test_a_runs_clock_line_comes_after_its_first_and_wins() -> None:
    """The second line of a run adds its clock; a segment's program date time and 90 kHz start
    follow from its first decode time (no program date time without a clock)."""
    first = JournalEntry(2, RunKind.INGEST, ("source", "audio"))
    clocked = msgspec.structs.replace(first, clock_ms=1_779_260_400_000)
    assert parse_journal(journal_line(first) + journal_line(clocked)) == {2: clocked}
    assert b"clock_ms" not in journal_line(first)
    assert segment_clocks(3 * 15360, 15360, 1_779_260_400_000) == (1_779_260_403_000, 270_000)
    assert segment_clocks(48_000 + 480, 48_000, None) == (None, 90_900)


def test_the_replay_multivariant_lists_the_subtitle_renditions() -> None:
    """Each caption language is an EXT-X-MEDIA TYPE=SUBTITLES in group "subs", which the
    variant names."""
    text = render_multivariant(recording(), subtitle_media(["sv", "en"]))
    master = m3u8.loads(text)
    assert [(m.type, m.group_id, m.language, m.uri) for m in master.media] == [
        ("SUBTITLES", "subs", "sv", "subs-sv.m3u8"),
        ("SUBTITLES", "subs", "en", "subs-en.m3u8"),
        ("AUDIO", "audio", None, "audio.m3u8"),
    ]
    assert 'SUBTITLES="subs"' in text
