"""H.264 NAL units for the WebRTC media tests, as x264 writes them."""

from __future__ import annotations

# An SPS of 640x360 (constrained baseline, level 3.0) and a PPS, as x264 writes them.
SPS = bytes.fromhex("6742c01ed900a02ff970110000030001000003003c0f162e48")
PPS = bytes.fromhex("68cb83cb20")
IDR = bytes.fromhex("65888404") + bytes(40) + b"\x80"
SLICE = bytes.fromhex("419a2438") + bytes(20) + b"\x80"
