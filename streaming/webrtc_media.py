"""What WebRTC ingest (WHIP) needs that touches no socket: SDP checks and munging, and turning
WebRTC media into the FLV tags the session pipeline reads. Pure.

``check_offer`` refuses what Torget cannot take (``BadWhipOffer`` with the reason),
``add_bitrate_hints`` munges the answer, ``H264Track``/``FlvVideoMuxer`` and the AAC helpers make
the tags. See ``docs/architecture.md`` ("WebRTC ingest (WHIP)").
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from streaming.errors import BadWhipOffer
from streaming.flv import FLV_CODEC_AVC, FLV_SOUND_AAC, FlvTag, TagType

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
START_CODE = b"\x00\x00\x00\x01"
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
_AAC_LC = 2


# --- SDP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferSummary:
    """What a WHIP offer sends: its video codecs (upper case, in order) and whether it has audio."""

    video_codecs: tuple[str, ...]
    has_audio: bool


@dataclass
class _Section:
    kind: str
    direction: str = "sendrecv"
    codecs: list[str] = field(default_factory=list)


_RTPMAP = re.compile(r"a=rtpmap:\d+ ([A-Za-z0-9_.-]+)/")
_DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})


def _sections(sdp: str) -> tuple[list[str], list[_Section]]:
    session: list[str] = []
    sections: list[_Section] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            sections.append(_Section(line[2:].split(" ", 1)[0]))
            continue
        target = sections[-1] if sections else None
        if line.startswith("a=") and line[2:] in _DIRECTIONS:
            if target is not None:
                target.direction = line[2:]
            continue
        if target is None:
            session.append(line)
        elif match := _RTPMAP.match(line):
            target.codecs.append(match[1].upper())
    return session, sections


def _offer_sections(sdp: str) -> list[_Section]:
    """The media sections of what must be an SDP offer (``BadWhipOffer`` when it is not)."""
    if not sdp.lstrip().startswith("v=0"):
        raise BadWhipOffer("the body is not an SDP offer (it must start with v=0)")
    if "\x00" in sdp:
        raise BadWhipOffer("the SDP offer holds a NUL character")
    return _sections(sdp)[1]


def _check_transport(sdp: str) -> None:
    if "a=fingerprint:" not in sdp:
        raise BadWhipOffer("the offer has no DTLS fingerprint (a=fingerprint)")
    if "a=ice-ufrag:" not in sdp or "a=ice-pwd:" not in sdp:
        raise BadWhipOffer("the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)")


def check_offer(sdp: str) -> OfferSummary:
    """Refuse an offer Torget cannot take (``BadWhipOffer`` with the reason); summarise the rest."""
    sections = _offer_sections(sdp)
    video = [s for s in sections if s.kind == "video"]
    audio = [s for s in sections if s.kind == "audio"]
    others = [s.kind for s in sections if s.kind not in ("video", "audio")]
    if others:
        raise BadWhipOffer(
            f"the offer has a {others[0]} section; send one video and one audio only"
        )
    if len(video) > 1 or len(audio) > 1:
        raise BadWhipOffer("the offer has more than one video or audio section; send one of each")
    if not video:
        raise BadWhipOffer("the offer sends no video; send H.264 or VP8 video (and Opus audio)")
    if video[0].direction not in ("sendonly", "sendrecv"):
        raise BadWhipOffer(f"the offer's video is {video[0].direction}; a WHIP publisher sends it")
    codecs = tuple(c for c in video[0].codecs if c in ("H264", "VP8"))
    if not codecs:
        raise BadWhipOffer("the offer's video is neither H.264 nor VP8")
    has_audio = bool(audio) and audio[0].direction in ("sendonly", "sendrecv")
    if has_audio and "OPUS" not in audio[0].codecs:
        raise BadWhipOffer("the offer's audio is not Opus")
    _check_transport(sdp)
    return OfferSummary(video_codecs=tuple(dict.fromkeys(codecs)), has_audio=has_audio)


VOICE_ONLY = "an interpreter publishes sound only: remove the video track from the offer"


def check_voice_offer(sdp: str) -> None:
    """Refuse an interpreter's offer unless it sends one Opus audio section and nothing else
    (``BadWhipOffer`` with the reason: video is refused with ``VOICE_ONLY``)."""
    sections = _offer_sections(sdp)
    if any(s.kind == "video" for s in sections):
        raise BadWhipOffer(VOICE_ONLY)
    others = [s.kind for s in sections if s.kind != "audio"]
    if others:
        raise BadWhipOffer(
            f"the offer has a {others[0]} section; an interpreter sends one audio section only"
        )
    if len(sections) != 1:
        raise BadWhipOffer(
            "the offer must send exactly one audio section (the interpreter's voice)"
        )
    audio = sections[0]
    if audio.direction not in ("sendonly", "sendrecv"):
        raise BadWhipOffer(f"the offer's audio is {audio.direction}; an interpreter sends it")
    if "OPUS" not in audio.codecs:
        raise BadWhipOffer("the offer's audio is not Opus")
    _check_transport(sdp)


_MDNS_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ [^\s]+\.local \d+ .*$", re.IGNORECASE)


def without_mdns_candidates(sdp: str) -> str:
    """The offer without its ``.local`` (mDNS) host candidates. A browser that has not been
    granted a camera hides its addresses behind mDNS names; aiortc would try to resolve each
    for up to 1 s before answering (and on most servers cannot). Without them the browser's
    own connectivity checks reach the node's host candidates, which learn the viewer's
    address as a peer-reflexive one (RFC 8445 7.3.1.3): the answer comes at once."""
    lines = sdp.split("\r\n") if "\r\n" in sdp else sdp.split("\n")
    newline = "\r\n" if "\r\n" in sdp else "\n"
    return newline.join(line for line in lines if not _MDNS_CANDIDATE.match(line))


_VIDEO_RTPMAP = re.compile(r"a=rtpmap:(\d+) (H264|VP8|VP9|AV1)/", re.IGNORECASE)
_FMTP = re.compile(r"a=fmtp:(\d+) ?(.*)")


def add_bitrate_hints(sdp: str, *, start_kbps: int, min_kbps: int, max_kbps: int) -> str:
    """The answer with ``x-google-{start,min,max}-bitrate`` on every video format's fmtp line
    (added after its rtpmap when the format has none)."""
    if not 0 < min_kbps <= start_kbps <= max_kbps:
        raise ValueError("bit rate hints must satisfy 0 < min <= start <= max")
    hints = (
        f"x-google-start-bitrate={start_kbps};x-google-min-bitrate={min_kbps};"
        f"x-google-max-bitrate={max_kbps}"
    )
    eol = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(eol)
    trailing = lines and lines[-1] == ""
    if trailing:
        lines = lines[:-1]
    kind = ""
    video_pts: list[str] = []
    with_fmtp: set[str] = set()
    for line in lines:
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif kind == "video" and (match := _VIDEO_RTPMAP.match(line)):
            video_pts.append(match[1])
        elif kind == "video" and (match := _FMTP.match(line)):
            with_fmtp.add(match[1])
    out: list[str] = []
    kind = ""
    for line in lines:
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        fmtp = _FMTP.match(line) if kind == "video" else None
        if fmtp is not None and fmtp[1] in video_pts and "x-google-start-bitrate" not in line:
            params = fmtp[2].strip()
            out.append(f"a=fmtp:{fmtp[1]} {params + ';' if params else ''}{hints}")
            continue
        out.append(line)
        rtpmap = _VIDEO_RTPMAP.match(line) if kind == "video" else None
        if rtpmap is not None and rtpmap[1] not in with_fmtp:
            out.append(f"a=fmtp:{rtpmap[1]} {hints}")
    return eol.join(out) + (eol if trailing else "")


# --- H.264 -------------------------------------------------------------------------------------


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream (start codes of three or four bytes)."""
    nals: list[bytes] = []
    start = -1
    i = 0
    n = len(data)
    while i + 2 < n:
        if data[i] == 0 and data[i + 1] == 0 and data[i + 2] == 1:
            if start >= 0:
                end = i
                while end > start and data[end - 1] == 0:
                    end -= 1
                if end > start:
                    nals.append(data[start:end])
            i += 3
            start = i
            continue
        i += 1
    if start >= 0 and start < n:
        nals.append(data[start:])
    return nals


def nal_type(nal: bytes) -> int:
    """The NAL unit type (the low five bits of its first byte)."""
    return nal[0] & 0x1F if nal else 0


def annexb(nals: list[bytes]) -> bytes:
    """NAL units as an Annex-B byte stream (four-byte start codes)."""
    return b"".join(START_CODE + nal for nal in nals)


def avcc(nals: list[bytes]) -> bytes:
    """NAL units as AVCC (each prefixed with its four-byte length), as FLV and MP4 carry them."""
    return b"".join(struct.pack(">I", len(nal)) + nal for nal in nals)


def avc_decoder_config(sps: bytes, pps: bytes) -> bytes:
    """The AVCDecoderConfigurationRecord (ISO 14496-15) of one SPS and one PPS."""
    if len(sps) < 4 or nal_type(sps) != NAL_SPS:
        raise ValueError("not an H.264 SPS")
    if not pps or nal_type(pps) != NAL_PPS:
        raise ValueError("not an H.264 PPS")
    return (
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1])
        + struct.pack(">H", len(sps))
        + sps
        + b"\x01"
        + struct.pack(">H", len(pps))
        + pps
    )


@dataclass
class AccessUnit:
    """One H.264 access unit as the ingest sees it."""

    nals: list[bytes]
    keyframe: bool
    parameter_sets_changed: bool


@dataclass
class H264Track:
    """The running state of one H.264 stream: its latest SPS and PPS."""

    sps: bytes | None = None
    pps: bytes | None = None

    def add(self, data: bytes) -> AccessUnit:
        """Read one Annex-B access unit; remember the parameter sets it carries."""
        nals = split_annexb(data)
        changed = False
        keyframe = False
        for nal in nals:
            kind = nal_type(nal)
            if kind == NAL_SPS and nal != self.sps and len(nal) >= 4:
                self.sps, changed = nal, True
            elif kind == NAL_PPS and nal != self.pps:
                self.pps, changed = nal, True
            elif kind == NAL_IDR:
                keyframe = True
        return AccessUnit(nals, keyframe, changed)

    def for_relay(self, unit: AccessUnit) -> bytes:
        """The unit as Annex-B with SPS and PPS in front when it is an IDR (and no AUD)."""
        nals = [n for n in unit.nals if nal_type(n) not in (NAL_AUD, NAL_SPS, NAL_PPS)]
        if unit.keyframe and self.sps is not None and self.pps is not None:
            nals = [self.sps, self.pps, *nals]
        return annexb(nals)


def video_config_tag(sps: bytes, pps: bytes, timestamp: int) -> FlvTag:
    """The FLV AVC sequence header tag for ``sps``/``pps``."""
    body = bytes([0x10 | FLV_CODEC_AVC, 0, 0, 0, 0]) + avc_decoder_config(sps, pps)
    return FlvTag(TagType.VIDEO, timestamp, body)


def video_frame_tag(nals: list[bytes], timestamp: int, *, keyframe: bool) -> FlvTag:
    """One FLV AVC frame tag (composition time 0: WebRTC H.264 has no B-frames)."""
    first = (0x10 if keyframe else 0x20) | FLV_CODEC_AVC
    return FlvTag(TagType.VIDEO, timestamp, bytes([first, 1, 0, 0, 0]) + avcc(nals))


@dataclass
class FlvVideoMuxer:
    """Turns H.264 access units into FLV video tags: nothing before the first keyframe with
    known parameter sets, then a sequence header whenever SPS/PPS change, then the frames
    (without AUD, SPS and PPS, which the sequence header carries)."""

    track: H264Track = field(default_factory=H264Track)
    started: bool = False

    def push(self, data: bytes, timestamp: int) -> tuple[AccessUnit, list[FlvTag]]:
        """The unit read from ``data`` and the tags it makes at ``timestamp`` (milliseconds)."""
        unit = self.track.add(data)
        sps, pps = self.track.sps, self.track.pps
        tags: list[FlvTag] = []
        if sps is None or pps is None:
            return unit, tags
        if not self.started:
            if not unit.keyframe:
                return unit, tags
            self.started = True
            tags.append(video_config_tag(sps, pps, timestamp))
        elif unit.parameter_sets_changed:
            tags.append(video_config_tag(sps, pps, timestamp))
        frame = [n for n in unit.nals if nal_type(n) not in (NAL_AUD, NAL_SPS, NAL_PPS)]
        if frame:
            tags.append(video_frame_tag(frame, timestamp, keyframe=unit.keyframe))
        return unit, tags


# --- AAC ---------------------------------------------------------------------------------------


def audio_specific_config(sample_rate: int, channels: int) -> bytes:
    """The two-byte AAC-LC AudioSpecificConfig for ``sample_rate`` and ``channels``."""
    if sample_rate not in _AAC_RATES:
        raise ValueError(f"AAC has no sampling frequency index for {sample_rate} Hz")
    if not 1 <= channels <= 7:
        raise ValueError("AAC channel configuration must be 1 to 7")
    index = _AAC_RATES.index(sample_rate)
    value = (_AAC_LC << 11) | (index << 7) | (channels << 3)
    return value.to_bytes(2, "big")


_AAC_HEAD = (FLV_SOUND_AAC << 4) | 0x0F  # AAC, "44 kHz", 16 bit, stereo: what FLV says for AAC


def aac_config_tag(config: bytes, timestamp: int) -> FlvTag:
    """The FLV AAC sequence header tag (the AudioSpecificConfig)."""
    return FlvTag(TagType.AUDIO, timestamp, bytes([_AAC_HEAD, 0]) + config)


def aac_frame_tag(frame: bytes, timestamp: int) -> FlvTag:
    """One FLV tag carrying one raw AAC frame."""
    return FlvTag(TagType.AUDIO, timestamp, bytes([_AAC_HEAD, 1]) + frame)


def rtp_to_ms(offset_ms: int, timestamp: int, clock_rate: int) -> int:
    """An RTP timestamp (counted from the track's first frame) on the FLV millisecond clock,
    shifted by the track's start ``offset_ms``."""
    return offset_ms + (timestamp * 1000) // clock_rate
