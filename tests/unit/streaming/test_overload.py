"""Ladder overload decisions: speed from ffmpeg's progress, which rendition goes, and when."""

from __future__ import annotations

from streaming.ladder import SourceInfo, plan_ladder
from streaming.overload import LoadWatch, OverloadSettings, drop_order, out_seconds
from streaming.vocab import VideoCodec

P1080 = plan_ladder(SourceInfo(1920, 1080, 30.0, VideoCodec.H264))  # source, 720p, 480p, 360p
VP8 = plan_ladder(SourceInfo(1280, 720, 30.0, VideoCodec.VP8))  # transcoded source, 480p, 360p


class Ffmpeg:
    """Progress blocks every 0.5 s, the media time advancing at a chosen speed; an ffmpeg
    slower than real time backs its input up (the pipeline waits on it) unless told not to."""

    def __init__(self, watch: LoadWatch) -> None:
        self.watch = watch
        self.now = 0.0
        self.media = 0.0
        self.blocked = 0.0

    def run(self, seconds: float, speed: float, *, input_waits: bool = True) -> list[int]:
        """Go on for ``seconds`` at ``speed``; the drops decided meanwhile."""
        drops = []
        for _ in range(round(seconds / 0.5)):
            self.now += 0.5
            self.media += 0.5 * speed
            if input_waits:
                self.blocked += 0.5 * max(0.0, 1.0 - speed)
            block = {"out_time_us": str(round(self.media * 1_000_000))}
            decided = self.watch.progress(self.now, block, self.blocked)
            if decided is not None:
                drops.append(decided)
        return drops


def test_out_seconds_reads_microseconds_and_refuses_nonsense() -> None:
    """out_time_us becomes seconds; a missing or negative value is None."""
    assert out_seconds({"out_time_us": "2500000"}) == 2.5
    assert out_seconds({"out_time_us": "N/A"}) is None
    assert out_seconds({"out_time_us": "-1"}) is None
    assert out_seconds({}) is None


def test_drop_order_is_costliest_rung_first_never_the_source_or_audio() -> None:
    """720p goes before 480p before 360p; the passed-through source and audio never."""
    names = {r.index: r.name for r in P1080.renditions}
    assert [names[i] for i in drop_order(P1080.renditions)] == ["720p", "480p", "360p"]
    assert 0 not in drop_order(VP8.renditions)  # a transcoded source is the source still


def test_a_node_keeping_up_drops_nothing() -> None:
    """At full speed (and just under it, above min_speed) no rendition is dropped."""
    watch = LoadWatch(P1080.renditions)
    ffmpeg = Ffmpeg(watch)
    assert ffmpeg.run(30.0, 1.0) == []
    assert ffmpeg.run(30.0, 0.95) == []
    assert watch.dropped == []


def test_a_slow_node_drops_one_rung_per_settle_period() -> None:
    """At 0.6x the costliest rung goes after one window, the next only after settling."""
    watch = LoadWatch(P1080.renditions, OverloadSettings(window=4.0, min_speed=0.9, settle=8.0))
    ffmpeg = Ffmpeg(watch)
    assert ffmpeg.run(3.0, 0.6) == []  # not a whole window yet
    assert ffmpeg.run(1.5, 0.6) == [1]  # 720p
    assert ffmpeg.run(7.5, 0.6) == []  # settling: the next run starts
    assert ffmpeg.run(5.0, 0.6) == [2]  # 480p
    assert watch.dropped == [1, 2]


def test_a_slow_publisher_is_not_an_overload() -> None:
    """Media arriving at 0.5x (ffmpeg waits for input, its stdin never backs up) drops
    nothing: the node is not the one behind."""
    watch = LoadWatch(P1080.renditions)
    assert Ffmpeg(watch).run(30.0, 0.5, input_waits=False) == []
    assert watch.speed() == 0.5


def test_nothing_left_to_drop_is_no_decision() -> None:
    """Once every rung is gone, a slow node gets no more decisions (the source stays)."""
    watch = LoadWatch(VP8.renditions, OverloadSettings(window=2.0, settle=1.0))
    drops = Ffmpeg(watch).run(60.0, 0.5)
    assert drops == [1, 2]
    assert 0 not in watch.dropped


def test_a_short_dip_is_not_an_overload() -> None:
    """One slow second inside a full window keeps the window's speed above min_speed."""
    ffmpeg = Ffmpeg(LoadWatch(P1080.renditions))
    assert ffmpeg.run(10.0, 1.0) == []
    assert ffmpeg.run(1.0, 0.7) == []
    assert ffmpeg.run(10.0, 1.0) == []


def test_a_new_run_starts_the_window_over() -> None:
    """out_time going back (a new ffmpeg run) or ``restart`` forgets the old samples."""
    watch = LoadWatch(P1080.renditions, OverloadSettings(window=4.0, settle=2.0))
    Ffmpeg(watch).run(3.0, 1.0)
    watch.restart(3.5)
    assert watch.speed() is None
    assert watch.progress(4.0, {"out_time_us": "0"}, 0.0) is None
    assert watch.speed() is None
