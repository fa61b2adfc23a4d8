"""The event's logo: an upload is accepted only if it decodes as a PNG, JPEG or WebP picture of
a sensible size (PyAV, ffmpeg's decoders). SVG is refused, never sanitised: it can carry
scripts and outside references, and a raster logo does every job a page and a slate need."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

from streaming.errors import InvalidMedia

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 4096
#: Media types accepted, by the ffmpeg decoder that must read them.
LOGO_TYPES = {"image/png": "png", "image/jpeg": "mjpeg", "image/webp": "webp"}
SVG_TYPE = "image/svg+xml"


@dataclass(frozen=True)
class Logo:
    """A checked logo: its media type and picture size."""

    media_type: str
    width: int
    height: int


def check_logo(data: bytes, media_type: str) -> Logo:
    """The logo ``data`` claims to be, or ``InvalidMedia`` with a sentence saying why not."""
    if media_type == SVG_TYPE or data.lstrip()[:5] in (b"<?xml", b"<svg "):
        raise InvalidMedia(
            "an SVG logo is not accepted (it can carry scripts): use PNG, JPEG or WebP"
        )
    if media_type not in LOGO_TYPES:
        raise InvalidMedia(f"a logo must be PNG, JPEG or WebP, not {media_type or 'unnamed data'}")
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidMedia(f"the logo is {len(data)} bytes; at most {MAX_LOGO_BYTES} are accepted")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            frame = next(container.decode(stream))
            decoder = stream.codec_context.name
    except (av.FFmpegError, IndexError, StopIteration, ValueError) as exc:
        raise InvalidMedia(f"the logo is not a readable {media_type} picture") from exc
    if decoder != LOGO_TYPES[media_type]:
        raise InvalidMedia(f"the logo is not a readable {media_type} picture")
    if not (1 <= frame.width <= MAX_LOGO_SIDE and 1 <= frame.height <= MAX_LOGO_SIDE):
        raise InvalidMedia(f"the logo must be at most {MAX_LOGO_SIDE} pixels on each side")
    return Logo(media_type, frame.width, frame.height)
