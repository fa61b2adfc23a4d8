"""The rendition ladder: renditions, pass-through or transcode, target durations, part targets."""

from __future__ import annotations

import pytest

from streaming.errors import InvalidArgument
from streaming.ffmpeg_args import PipeInput, live_args
from streaming.ladder import (
    LadderSettings,
    Rung,
    SourceInfo,
    audio_part_target,
    plan_ladder,
    video_part_target,
)
from streaming.pipeline.output import PART_SLACK
from streaming.vocab import InputFormat, MediaKind, VideoCodec, VideoMode

HD = SourceInfo(1920, 1080, 30.0, VideoCodec.H264, keyframe_interval=1.0)
P720 = SourceInfo(1280, 720, 30.0, VideoCodec.H264)


def test_ladder_for_1080p_h264_passes_the_source_through_and_adds_three_rungs() -> None:
    """A 1080p H.264 source is copied and gets 720p, 480p and 360p below it, then audio."""
    plan = plan_ladder(HD)
    summary = [(r.index, r.name, r.kind, r.mode, r.width, r.height) for r in plan.renditions]
    assert summary == [
        (0, "source", MediaKind.VIDEO, VideoMode.PASSTHROUGH, 1920, 1080),
        (1, "720p", MediaKind.VIDEO, VideoMode.TRANSCODE, 1280, 720),
        (2, "480p", MediaKind.VIDEO, VideoMode.TRANSCODE, 854, 480),
        (3, "360p", MediaKind.VIDEO, VideoMode.TRANSCODE, 640, 360),
        (4, "audio", MediaKind.AUDIO, None, 0, 0),
    ]
    assert plan.passthrough is True
    assert plan.target_duration == 1
    assert [r.bitrate for r in plan.renditions] == [
        6_000_000,
        2_800_000,
        1_400_000,
        800_000,
        128_000,
    ]
    assert plan.audio is plan.renditions[4]
    assert plan.video == plan.renditions[:4]


def test_only_rungs_smaller_than_the_source_are_added() -> None:
    """A 720p source gets no 720p rung; a 360p source gets no rung at all."""
    assert [r.name for r in plan_ladder(P720).renditions] == ["source", "480p", "360p", "audio"]
    small = SourceInfo(640, 360, 25.0, VideoCodec.H264, has_audio=False)
    assert [r.name for r in plan_ladder(small).renditions] == ["source"]


def test_non_h264_or_long_gop_sources_are_transcoded() -> None:
    """VP8 from WHIP, or H.264 with keyframes further apart than allowed, is re-encoded."""
    vp8 = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.VP8))
    long_gop = plan_ladder(SourceInfo(1281, 721, 30.0, VideoCodec.H264, keyframe_interval=8.0))
    assert vp8.renditions[0].mode is VideoMode.TRANSCODE
    assert vp8.renditions[0].bitrate == 2_765_000
    assert vp8.passthrough is False
    assert vp8.target_duration == 1
    assert (long_gop.renditions[0].width, long_gop.renditions[0].height) == (1280, 720)


def test_part_targets_are_whole_frames_rounded_up() -> None:
    """Video parts are whole frames, audio parts whole 1024-sample AAC frames."""
    assert video_part_target(0.2, 30.0) == pytest.approx(0.2)
    assert video_part_target(0.2, 29.97) == pytest.approx(6 / 29.97)
    assert video_part_target(0.25, 30.0) == pytest.approx(8 / 30)
    assert audio_part_target(0.2, 48_000) == pytest.approx(10 * 1024 / 48_000)
    plan = plan_ladder(P720)
    assert plan.renditions[0].part_target == pytest.approx(0.2)
    assert plan.renditions[-1].part_target == pytest.approx(0.213333, abs=1e-6)
    assert plan.part_hold_back == 0.641


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (LadderSettings(part_seconds=0.05), "part_seconds: must be between 0.1 and 1.0 seconds"),
        (
            LadderSettings(segment_seconds=0.3),
            "segment_seconds: must be at least two parts long and at most 10 seconds",
        ),
        (
            LadderSettings(max_passthrough_gop=0.5),
            "max_passthrough_gop: must be between segment_seconds and 10 seconds",
        ),
        (LadderSettings(preset="placebo"), "preset: unknown x264 preset 'placebo'"),
        (
            LadderSettings(rungs=(Rung("tall", 720, 1_000_000),)),
            "rungs: rung name 'tall' must look like '720p'",
        ),
        (
            LadderSettings(rungs=(Rung("721p", 721, 1_000_000),)),
            "rungs: rung 721p height must be even, 144 to 4320",
        ),
        (
            LadderSettings(rungs=(Rung("720p", 720, 1_000_000), Rung("720p", 720, 900_000))),
            "rungs: rung name '720p' appears twice",
        ),
        (
            LadderSettings(rungs=(Rung("720p", 720, 1_000_000, "extreme"),)),
            "rungs: rung 720p profile must be baseline, main or high",
        ),
    ],
)
def test_bad_ladder_settings_are_refused(settings: LadderSettings, message: str) -> None:
    """Each invalid knob names itself and the allowed range."""
    with pytest.raises(InvalidArgument) as caught:
        plan_ladder(P720, settings)
    assert str(caught.value) == message


def test_bad_sources_are_refused() -> None:
    """A size or frame rate out of range cannot be planned."""
    with pytest.raises(InvalidArgument) as caught:
        plan_ladder(SourceInfo(0, 0, 30.0, VideoCodec.H264))
    assert str(caught.value) == "source: size 0x0 is out of range"
    with pytest.raises(InvalidArgument) as caught:
        plan_ladder(SourceInfo(1280, 720, 0.0, VideoCodec.H264))
    assert str(caught.value) == "source: frame rate 0.0 is out of range"


def test_target_duration_follows_the_measured_keyframe_interval() -> None:
    """A passed-through source's target duration is its segment length, not the longest GOP."""
    durations = {
        k: plan_ladder(
            SourceInfo(1280, 720, 30.0, VideoCodec.H264, keyframe_interval=k)
        ).target_duration
        for k in (None, 0.5, 0.8, 1.0, 1.001, 1.4, 2.0)
    }
    assert durations == {None: 2, 0.5: 2, 0.8: 2, 1.0: 1, 1.001: 1, 1.4: 2, 2.0: 2}
    transcoded = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264, keyframe_interval=8.0))
    assert transcoded.target_duration == 1


def test_a_jittery_source_gets_longer_parts_with_room_for_late_frames() -> None:
    """A WebRTC-like source whose frames may come two frames (1/15 s) late gets 0.4 s
    fragments and a PART-TARGET as long as the 85 % rule allows (0.468 s), whatever frame rate
    it was probed at: its browser changes the rate as it goes, and parts are cut by time."""
    for fps in (10.0, 15.0, 24.0, 30.0, 60.0):
        jittery = plan_ladder(SourceInfo(1280, 720, fps, VideoCodec.H264, frame_jitter=2 / 30))
        assert jittery.settings.part_seconds == pytest.approx(0.4)
        video = jittery.renditions[0]
        assert video.part_target == pytest.approx(0.468)
        assert 0.85 * (video.part_target + PART_SLACK) <= 0.4  # every full part fits the floor
        assert video.part_target + PART_SLACK - 0.4 >= 2 / 30  # a frame 1/15 s late still fits
        assert jittery.part_hold_back == pytest.approx(1.404)
    args = live_args(jittery, PipeInput(InputFormat.FLV), "/o", 1)
    assert args[args.index("-frag_duration") + 1] == "0.4"
    steady = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.H264))
    assert steady.settings.part_seconds == 0.2
