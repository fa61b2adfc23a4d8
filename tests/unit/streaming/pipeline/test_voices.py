"""The pacing of interpreters' voices into a run (pure)."""

from __future__ import annotations

from streaming.pipeline.voices import BYTES_PER_SECOND, SAMPLE_FRAME, Silence, VoicePacer


def test_the_pipe_is_kept_a_little_ahead_of_the_wall_clock() -> None:
    """At the start a tenth of a second is due; later what the elapsed time adds, less what
    was written, in whole sample frames."""
    pacer = VoicePacer(lead=0.1)
    first = pacer.due(0.0, 0.0)
    assert first == BYTES_PER_SECOND // 10
    pacer.wrote(first)
    assert pacer.due(0.0, 0.0) == 0
    later = pacer.due(0.02, 0.0)
    assert later == 3_840
    assert pacer.due(0.0123, 0.0) % SAMPLE_FRAME == 0


def test_a_burst_of_held_media_is_matched_at_once() -> None:
    """A held GOP given to ffmpeg at once (a second of media in no time) makes a second of
    voice due at once, so the mix never waits for the wall clock to catch up."""
    pacer = VoicePacer(lead=0.1)
    pacer.wrote(pacer.due(0.0, 0.0))
    assert pacer.due(0.01, 1.0) == BYTES_PER_SECOND
    assert pacer.due(5.0, 1.0) == 5 * BYTES_PER_SECOND


def test_silence_is_what_nobody_says() -> None:
    """The silent source gives exactly the bytes asked for, all zero."""
    assert Silence().take("s1", "en", 8) == bytes(8)
