"""Feeds each studio channel's tracks (``streaming.channel``) from this node's media.

While a session of the studio is live here, the channel mirrors its source video and audio
playlists (segments and LL-HLS parts, as they land); between sessions, if the studio turns
playout on, it lists the published replays' segments, one replay after the other, paced by the
wall clock. Nothing is copied or encoded: the channel only lists the sessions' own files, which
the session HLS handlers serve. The feed catches up when a request asks (no task of its own),
so an idle channel costs nothing. See docs/operations.md ("Studio channels").
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

from streaming import names
from streaming.channel import (
    ChannelEdge,
    ChannelPart,
    ChannelSegment,
    ChannelTrack,
    PlayoutQueue,
    playout_due,
    playout_start,
    replay_segments,
    source_uri,
)
from streaming.llhls import AudioMedia, MediaPlaylist, Part, VariantStream, render_multivariant
from streaming.pipeline.output import PART_SLACK
from streaming.pipeline.supervisor import SessionPipeline
from streaming.plane import MediaPlane
from streaming.recording import Replay
from streaming.vocab import MediaKind
from studio.channel import ChannelNow
from studio.models import Studio

VIDEO, AUDIO = "source.m3u8", "audio.m3u8"
CHANNEL_WINDOW_SECONDS = 30.0
LOOKUP_TTL_S = 1.0  # how long what a studio has on air is taken as read


@dataclass(slots=True)
class _Format:
    """What the multivariant playlist says of the channel: the latest source's codecs."""

    video_codec: str = ""
    audio_codec: str = ""
    bandwidth: int = 1
    resolution: tuple[int, int] | None = None


@dataclass(slots=True)
class _Mirror:
    """Where the channel is in the live session's playlist of one track."""

    session_id: str
    next_msn: int


@dataclass(slots=True)
class ChannelFeed:
    """One studio's channel on this node: its two tracks and where each source left off."""

    video: ChannelTrack
    audio: ChannelTrack
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    format: _Format = field(default_factory=_Format)
    live: SessionPipeline | None = None
    queues: dict[str, PlayoutQueue] = field(default_factory=dict)
    mirrors: dict[str, _Mirror] = field(default_factory=dict)

    def track(self, name: str) -> ChannelTrack | None:
        """The track behind a playlist name (``source.m3u8``, ``audio.m3u8``)."""
        return {VIDEO: self.video, AUDIO: self.audio}.get(name)

    def multivariant(self) -> str | None:
        """The channel's multivariant playlist, once it has listed anything."""
        if not self.format.video_codec:
            return None
        audio = AudioMedia(uri=AUDIO, codec=self.format.audio_codec)
        variant = VariantStream(
            uri=VIDEO,
            bandwidth=self.format.bandwidth,
            codecs=self.format.video_codec,
            resolution=self.format.resolution,
        )
        return render_multivariant([variant], audio)

    async def wait(self, within: float) -> None:
        """Wait until the channel may have changed: the live session's next part, or the next
        segment playout lists (never longer than ``within``)."""
        if self.live is not None and not self.live.ended:
            await self.live.changed.wait(within)
            return
        ends = [t.ends_at for t in (self.video, self.audio) if t.ends_at is not None]
        due = min(ends, default=time.time()) - self.video.target_duration - time.time()
        await asyncio.sleep(min(within, max(0.05, due)))


class Channels:
    """Every studio channel this node has been asked for."""

    def __init__(self, plane: MediaPlane) -> None:
        self.plane = plane
        ladder = plane.config.pipeline.ladder
        self.target_duration = max(1, math.ceil(ladder.segment_seconds))
        self.part_target = ladder.part_seconds + PART_SLACK
        self._feeds: dict[str, ChannelFeed] = {}
        self._looked_up: dict[str, tuple[float, tuple[Studio, ChannelNow]]] = {}

    def looked_up(self, studio_id: str, clock: float) -> tuple[Studio, ChannelNow] | None:
        """The studio and what it had on air, if read less than ``LOOKUP_TTL_S`` ago."""
        found = self._looked_up.get(studio_id)
        if found is None or clock - found[0] >= LOOKUP_TTL_S:
            return None
        return found[1]

    def remember(self, studio_id: str, known: tuple[Studio, ChannelNow], clock: float) -> None:
        """Keep what the programme said of the studio's channel at ``clock``."""
        self._looked_up[studio_id] = (clock, known)

    def feed(self, studio_id: str) -> ChannelFeed:
        """The studio's channel feed (made on first use)."""
        feed = self._feeds.get(studio_id)
        if feed is None:
            feed = ChannelFeed(video=self._track(), audio=self._track())
            self._feeds[studio_id] = feed
        return feed

    def _track(self) -> ChannelTrack:
        return ChannelTrack(
            target_duration=self.target_duration,
            part_target=self.part_target,
            part_hold_back=math.ceil(3 * self.part_target * 1000) / 1000,
            window_seconds=CHANNEL_WINDOW_SECONDS,
        )

    async def catch_up(self, studio_id: str, now: ChannelNow, *, playout: bool) -> ChannelFeed:
        """Bring the studio's channel up to date with what it has on air."""
        feed = self.feed(studio_id)
        async with feed.lock:
            pipeline = None if now.on_air is None else self.plane.pipeline(now.on_air.id)
            if pipeline is not None and pipeline.ready.is_set() and pipeline.plan is not None:
                feed.live = pipeline
                _mirror(feed, pipeline, time.time())
                return feed
            feed.live = None
            feed.mirrors.clear()
            for track in (feed.video, feed.audio):
                track.set_edge(None)
            if playout and now.replays:
                await self._play_out(feed, [s.id for s in now.replays], time.time())
        return feed

    async def _play_out(self, feed: ChannelFeed, replays: list[str], clock: float) -> None:
        for name, track in ((VIDEO, feed.video), (AUDIO, feed.audio)):
            queue = feed.queues.setdefault(name, PlayoutQueue())
            playout_start(track, clock)
            tried = 0
            while playout_due(track, clock, lead=track.target_duration):
                if not queue.pending:
                    if tried >= len(replays):
                        break  # none of the replays is playable here
                    tried += 1
                    session_id = queue.next_replay(replays)
                    assert session_id is not None
                    queue.load(session_id, await self._replay_track(feed, session_id, name))
                    continue
                track.append(queue.pending.popleft())

    async def _replay_track(
        self, feed: ChannelFeed, session_id: str, name: str
    ) -> list[ChannelSegment]:
        """A replay's segments of one track; none when it is not on this node or has no sound
        (a channel's tracks must switch together)."""
        replay: Replay | None = await self.plane.recordings.replay(session_id)
        audio = None if replay is None else replay.recording.audio
        if replay is None or audio is None:
            return []
        source = replay.recording.video[0]
        if name == VIDEO:
            peak = max((8 * s.length / s.duration for r in source.runs for s in r.segments
                        if s.duration > 0), default=1.0)  # fmt: skip
            feed.format = _Format(
                video_codec=source.codec,
                audio_codec=audio.codec,
                bandwidth=max(1, math.ceil(peak)),
                resolution=(source.width, source.height) if source.width else None,
            )
        return replay_segments(session_id, source if name == VIDEO else audio, replay.trim)


def _mirror(feed: ChannelFeed, pipeline: SessionPipeline, clock: float) -> None:
    """List the live session's new segments (and its open segment's parts) on both tracks."""
    plan = pipeline.plan
    assert plan is not None
    indexes = {VIDEO: plan.video[0].index}
    if plan.audio is not None:
        indexes[AUDIO] = plan.audio.index
    video = pipeline.tracks.get(indexes[VIDEO])
    audio = pipeline.tracks.get(indexes.get(AUDIO, -1))
    if video is not None and video.kind is MediaKind.VIDEO:
        feed.format = _Format(
            video_codec=video.codec,
            audio_codec=audio.codec if audio is not None else feed.format.audio_codec,
            bandwidth=plan.video[0].bitrate * 11 // 10 + (plan.audio.bitrate if plan.audio else 0),
            resolution=(video.width, video.height),
        )
    for name, index in indexes.items():
        playlist = pipeline.playlists.get(index)
        track = feed.track(name)
        if playlist is None or track is None:
            continue
        mirror = feed.mirrors.get(name)
        if mirror is None or mirror.session_id != pipeline.session_id:
            mirror = _Mirror(pipeline.session_id, playlist.media_sequence)
            feed.mirrors[name] = mirror
            feed.queues.pop(name, None)  # playout starts over after the live session
        _follow(track, mirror, playlist, pipeline.session_id, clock)


def _follow(
    track: ChannelTrack, mirror: _Mirror, playlist: MediaPlaylist, session_id: str, clock: float
) -> None:
    history = playlist.segments
    mirror.next_msn = max(mirror.next_msn, playlist.media_sequence)
    for segment in history[mirror.next_msn :]:
        if not segment.complete:
            break
        track.append(
            ChannelSegment(
                uri=source_uri(session_id, segment.uri),
                map_uri=source_uri(session_id, segment.map_uri),
                duration=segment.duration or 0.0,
                source=session_id,
                run=segment.run,
                parts=_parts(session_id, segment.parts),
            ),
            ends_at=clock,
        )
        mirror.next_msn = segment.msn + 1
    open_segment = playlist.open_segment
    hint = playlist.preload_hint
    if open_segment is None:
        run = names.parse_name(hint).run if hint is not None else 0
        map_uri = names.init_name(run, playlist.rendition) if run else ""
        parts: tuple[ChannelPart, ...] = ()
    else:
        run, map_uri = open_segment.run, open_segment.map_uri
        parts = _parts(session_id, open_segment.parts)
    track.set_edge(
        ChannelEdge(
            source=session_id,
            run=run,
            map_uri=source_uri(session_id, map_uri) if map_uri else "",
            parts=parts,
            preload_hint=None if hint is None else source_uri(session_id, hint),
        )
    )


def _parts(session_id: str, parts: list[Part]) -> tuple[ChannelPart, ...]:
    return tuple(
        ChannelPart(source_uri(session_id, p.uri), p.duration, p.independent) for p in parts
    )
