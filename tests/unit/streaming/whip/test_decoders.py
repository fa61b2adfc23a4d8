"""Our decoders take the place of aiortc's for WHIP peer connections only."""

from __future__ import annotations

from streaming.webrtc_media import annexb
from streaming.whip import decoders
from tests.support.h264_samples import IDR, PPS, SLICE, SPS


def test_only_whip_codecs_get_the_pass_through_decoder() -> None:
    """aiortc's decoder lookup gives a codec object marked by the WHIP ingest our decoder and
    every other codec object aiortc's own, so other aiortc users still decode."""
    from aiortc import rtcrtpreceiver
    from aiortc.codecs.h264 import H264Decoder
    from aiortc.jitterbuffer import JitterFrame
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    decoders.install_decoders()
    decoders.install_decoders()  # idempotent: still one wrapper around aiortc's lookup
    ours = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102)
    theirs = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102)
    setattr(ours, decoders.DECODER_ATTR, decoders.H264PassThrough)
    lookup = rtcrtpreceiver.get_decoder  # type: ignore[attr-defined]
    assert isinstance(lookup(theirs), H264Decoder)
    decoder = lookup(ours)
    assert isinstance(decoder, decoders.H264PassThrough)
    data = annexb([SPS, PPS, IDR])
    [unit] = decoder.decode(JitterFrame(data, 3000))
    assert unit == decoders.ReceivedVideo(data, 3000, keyframe=True)
    [unit] = decoder.decode(JitterFrame(annexb([SLICE]), 6000))
    assert not unit.keyframe
