"""Synthetic FLV tags shared by the media tests (configurations, frames, audio)."""

from __future__ import annotations

from streaming.flv import FlvTag, TagType

VIDEO_CONFIG = FlvTag(TagType.VIDEO, 0, bytes([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1F, 0xFF]))
AUDIO_CONFIG = FlvTag(TagType.AUDIO, 0, bytes([0xAF, 0, 0x11, 0x90]))
SCRIPT = FlvTag(TagType.SCRIPT, 0, b"\x02\x00\x0aonMetaData\x08\x00\x00\x00\x00\x00\x00\x09")


def keyframe(ms: int, size: int = 100) -> FlvTag:
    """A coded keyframe of ``size`` bytes at ``ms``."""
    return FlvTag(TagType.VIDEO, ms, bytes([0x17, 1, 0, 0, 0]) + bytes(size))


def inter(ms: int, size: int = 100) -> FlvTag:
    """A coded inter frame of ``size`` bytes at ``ms``."""
    return FlvTag(TagType.VIDEO, ms, bytes([0x27, 1, 0, 0, 0]) + bytes(size))


def audio(ms: int, size: int = 20) -> FlvTag:
    """An AAC frame at ``ms``."""
    return FlvTag(TagType.AUDIO, ms, bytes([0xAF, 1]) + bytes(size))


# Real baseline-profile parameter sets (x264) of two picture sizes, as a browser's ramp-up sends.
SPS_360P = bytes.fromhex("6742c01ed900a02ff970110000030001000003003c0f162e48")
SPS_720P = bytes.fromhex("6742c01fd9005005bb0110000003001000000303c0f1832480")
PPS = bytes.fromhex("68cb83cb20")
