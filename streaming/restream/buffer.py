"""What one restream push sends: its own FLV stream and a bounded queue (pure)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from streaming.flv import FlvFeed, FlvTag, TagType


class PushBuffer:
    """What one push sends: its own ``FlvFeed`` and a bounded queue of bytes (pure).

    While not ``accepting`` (no ffmpeg runs) only the configurations are remembered. After
    ``begin`` the stream starts at the next keyframe with the header and configurations. When
    a tag would make the queue hold more than ``max_bytes``, tags are dropped until the next
    keyframe (video frames dropped are counted); what is queued stays a valid FLV stream.
    """

    def __init__(self, has_audio: bool, max_bytes: int, heads: Iterable[FlvTag] = ()) -> None:
        self.max_bytes = max_bytes
        self.accepting = False
        self.skipping = False
        self.dropped_frames = 0
        self.size = 0
        self._feed = FlvFeed(has_audio=has_audio)
        self._chunks: deque[bytes] = deque()
        for tag in heads:
            self._feed.push(tag)

    def begin(self) -> None:
        """A new ffmpeg run: empty queue, FLV header and configurations at the next keyframe."""
        self._chunks.clear()
        self.size = 0
        self.skipping = False
        self._feed.restart()
        self.accepting = True

    def halt(self) -> None:
        """The run is over: queue nothing until the next ``begin``."""
        self.accepting = False
        self._chunks.clear()
        self.size = 0

    def offer(self, tag: FlvTag) -> bool:
        """Take ``tag``; True when bytes were queued."""
        heads = tag.kind is TagType.SCRIPT or tag.is_video_config or tag.is_audio_config
        if not self.accepting or (self.skipping and heads):
            if heads:
                self._feed.push(tag)  # remembered for the stream's (re)start
            return False
        if self.skipping:
            if not tag.is_keyframe:
                self.dropped_frames += tag.is_frame
                return False
            self.skipping = False
        data = self._feed.push(tag)
        if not data:
            return False
        if self.size + len(data) > self.max_bytes:
            self.skipping = True
            self.dropped_frames += tag.is_frame
            return False
        self._chunks.append(data)
        self.size += len(data)
        return True

    def take(self) -> bytes | None:
        """The oldest queued bytes, if any."""
        if not self._chunks:
            return None
        data = self._chunks.popleft()
        self.size -= len(data)
        return data
