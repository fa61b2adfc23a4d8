"""Interpreters' decoded audio frames become the desk's PCM: packed s16le, 48 kHz, stereo."""

from __future__ import annotations

import struct

import av

from streaming.whip.interpreter import PcmConverter


def _frame(samples: bytes, layout: str, rate: int, count: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout=layout, samples=count)
    frame.planes[0].update(samples)
    frame.sample_rate = rate
    return frame


def test_a_stereo_48_khz_frame_is_taken_as_it_is() -> None:
    """What aiortc's Opus decoder gives (s16, 48 kHz, stereo) passes unchanged, sample for
    sample, without the plane's padding."""
    pcm = struct.pack("<1920h", *range(-960, 960))
    assert PcmConverter().convert(_frame(pcm, "stereo", 48_000, 960)) == pcm


def test_a_mono_frame_becomes_stereo_with_both_channels_alike() -> None:
    """Another layout is resampled to stereo: each sample frame holds the same value twice."""
    converter = PcmConverter()
    mono = struct.pack("<960h", *([1000] * 960))
    out = converter.convert(_frame(mono, "mono", 48_000, 960))
    out += converter.convert(_frame(mono, "mono", 48_000, 960))
    assert len(out) % 4 == 0
    assert len(out) >= 4 * 960
    values = struct.unpack(f"<{len(out) // 2}h", out)
    assert values[0::2] == values[1::2]
    assert max(values) > 0
