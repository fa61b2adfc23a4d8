"""What aiortc's receivers run instead of decoders for a WHIP peer connection (its threads).

aiortc hands each complete encoded frame to a decoder made by
``aiortc.rtcrtpreceiver.get_decoder``; ``install_decoders`` wraps that lookup once so that a
codec object carrying a factory (``DECODER_ATTR``) gets ours and every other codec aiortc's own.
``H264PassThrough`` hands the Annex-B access unit on as it came, ``Vp8ToH264`` transcodes once
per session, ``OpusToAac`` keeps the Opus packet and encodes AAC.
"""

from __future__ import annotations

import fractions
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import rtcrtpreceiver as aiortc_receiver
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from streaming.relay import AUDIO_CLOCK, VIDEO_CLOCK
from streaming.webrtc_media import split_annexb

log = logging.getLogger(__name__)

AAC_BITRATE = 192_000
DECODER_ATTR = "_torget_decoder"
"""The attribute of an aiortc codec object that holds the factory of our decoder for it."""


@dataclass(frozen=True)
class ReceivedVideo:
    """One H.264 access unit (Annex-B), its RTP timestamp at 90 kHz from the first frame."""

    data: bytes
    pts: int
    keyframe: bool


@dataclass(frozen=True)
class ReceivedAudio:
    """One Opus packet (48 kHz RTP time) and the AAC frames (raw, 48 kHz pts) it became."""

    opus: bytes
    pts: int
    aac: tuple[tuple[bytes, int], ...]


class H264PassThrough(Decoder):
    """Hands the encoded access unit on as it came (no decode)."""

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        data = encoded_frame.data
        keyframe = any(nal and nal[0] & 0x1F == 5 for nal in split_annexb(data))
        return [ReceivedVideo(data, encoded_frame.timestamp, keyframe)]


class KeyframeFlag:
    """A keyframe request crossing from the event loop to a decoder thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Ask for a keyframe."""
        self._event.set()

    def take(self) -> bool:
        """Whether one was asked for (and clear the request)."""
        if self._event.is_set():
            self._event.clear()
            return True
        return False


class Vp8ToH264(Decoder):
    """Decodes VP8 and encodes H.264 (libx264, no B-frames), a keyframe every ``interval`` s."""

    def __init__(self, interval: float, preset: str, wanted: KeyframeFlag) -> None:
        self.decoder = av.CodecContext.create("vp8", "r")
        self.encoder: Any = None
        self.size: tuple[int, int] | None = None
        self.interval_ticks = max(1, round(interval * VIDEO_CLOCK))
        self.preset = preset
        self.wanted = wanted
        self.last_key: int | None = None

    def _open(self, width: int, height: int) -> Any:
        encoder: Any = av.CodecContext.create("libx264", "w")
        encoder.width, encoder.height = width, height
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        encoder.framerate = fractions.Fraction(30, 1)
        encoder.bit_rate = max(300_000, min(int(width * height * 30 * 0.1), 8_000_000))
        encoder.options = {"preset": self.preset, "tune": "zerolatency", "profile": "high"}
        encoder.max_b_frames = 0
        encoder.gop_size = 10 * 30
        return encoder

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        units: list[Any] = []
        for frame in self.decoder.decode(packet):
            picture = frame
            size = (picture.width - picture.width % 2, picture.height - picture.height % 2)
            if size != self.size or self.encoder is None:
                self.size = size
                self.encoder = self._open(*size)
                self.last_key = None
            if picture.format.name != "yuv420p" or (picture.width, picture.height) != size:
                picture = picture.reformat(width=size[0], height=size[1], format="yuv420p")
            pts = encoded_frame.timestamp
            picture.pts = pts
            due = self.last_key is None or pts - self.last_key >= self.interval_ticks
            if self.wanted.take() or due:
                picture.pict_type = av.video.frame.PictureType.I
                self.last_key = pts
            else:
                picture.pict_type = av.video.frame.PictureType.NONE
            for out in self.encoder.encode(picture):
                units.append(ReceivedVideo(bytes(out), int(out.pts or pts), bool(out.is_keyframe)))
        return units


class OpusToAac(Decoder):
    """Keeps each Opus packet and encodes the audio to AAC (48 kHz stereo) for HLS."""

    def __init__(self) -> None:
        self.decoder = av.CodecContext.create("libopus", "r")
        self.resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=AUDIO_CLOCK, frame_size=1024
        )
        encoder: Any = av.CodecContext.create("aac", "w")
        encoder.sample_rate = AUDIO_CLOCK
        encoder.layout = "stereo"
        encoder.format = "fltp"
        encoder.bit_rate = AAC_BITRATE
        encoder.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        self.encoder = encoder

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        aac: list[tuple[bytes, int]] = []
        try:
            for frame in self.decoder.decode(packet):
                frame.pts = encoded_frame.timestamp
                frame.time_base = fractions.Fraction(1, AUDIO_CLOCK)
                for chunk in self.resampler.resample(frame):
                    for out in self.encoder.encode(chunk):
                        aac.append((bytes(out), int(out.pts or 0)))
        except av.FFmpegError as exc:
            log.debug("opus packet not decoded: %s", exc)
        return [ReceivedAudio(encoded_frame.data, encoded_frame.timestamp, tuple(aac))]


_original_get_decoder: Callable[[RTCRtpCodecParameters], Decoder] | None = None


def _get_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    factory = getattr(codec, DECODER_ATTR, None)
    if factory is not None:
        decoder: Decoder = factory()
        return decoder
    assert _original_get_decoder is not None
    return _original_get_decoder(codec)


def install_decoders() -> None:
    """Let codecs of WHIP peer connections bring their own decoder (idempotent)."""
    global _original_get_decoder
    current = aiortc_receiver.get_decoder  # type: ignore[attr-defined]
    if current is not _get_decoder:
        _original_get_decoder = current
        aiortc_receiver.get_decoder = _get_decoder  # type: ignore[attr-defined]
