"""The viewer benchmark's reading of its probe samples: distance, freezes, catch-up."""

from __future__ import annotations

from bench.viewer.stats import Sample, by_height, distances, first_picture, freezes, recovery


def _steady(start: int, count: int, behind: int, height: int = 480) -> list[Sample]:
    """A sample every 100 ms, the picture ``behind`` ms old, a new picture each time."""
    return [Sample(start + i * 100, start + i * 100 - behind, height, 1.0) for i in range(count)]


def test_distance_is_wall_clock_less_the_clock_on_the_picture() -> None:
    """Readable samples give seconds behind live; unreadable ones are left out."""
    samples = [*_steady(1000, 3, 1400), Sample(1300, None, 0, 1.0)]
    assert distances(samples) == [1.4, 1.4, 1.4]
    assert by_height(samples)[480].median == 1.4


def test_first_picture_counts_from_a_moment() -> None:
    """The first readable sample at or after ``since``; None when there is none."""
    samples = [Sample(1000, None, 0, 1.0), *_steady(1500, 2, 1000)]
    assert first_picture(samples, 800) == 0.7
    assert first_picture(samples, 5000) is None


def test_a_picture_held_for_half_a_second_is_one_freeze() -> None:
    """Five samples showing one picture (0.5 s) count once; steady playback counts none."""
    held = [Sample(2000 + i * 100, 500, 480, 1.0) for i in range(5)]
    samples = [*_steady(1500, 5, 1000), *held, *_steady(2500, 5, 1600)]
    assert freezes(_steady(0, 50, 1000)) == (0, 0.0)
    assert freezes(samples) == (1, 0.5)


def test_recovery_is_when_the_distance_is_back_near_the_target_for_good() -> None:
    """Back within 0.3 s and staying there: from the release to the first such sample."""
    late = _steady(10_000, 20, 2500)
    coming_back = _steady(12_000, 10, 1800)
    back = _steady(13_000, 20, 1500)
    assert recovery([*late, *coming_back, *back], 10_000, 1.4) == 3.0
    assert recovery(late, 10_000, 1.4) is None


def test_the_nodes_overload_drops_become_notes() -> None:
    """Each "cannot keep up" line of the node's log is one note naming what went and why."""
    from bench.viewer.run import overload_notes

    log = (
        "2026-12-05 15:15:21,679 WARNING streaming.pipeline.supervisor: session s1: ffmpeg "
        "cannot keep up with the ladder (speed 0.71); dropping 480p\n"
        "2026-12-05 15:15:23,246 INFO streaming.pipeline.supervisor: run 1 ended\n"
    )
    assert overload_notes(log) == [
        "the node could not keep up with its ladder and dropped 480p (ffmpeg speed 0.71): "
        "its viewers moved to another rendition"
    ]
