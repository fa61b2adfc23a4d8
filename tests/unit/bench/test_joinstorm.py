"""The join-storm benchmark's pure parts: the generator's join frame, quantiles and the
report's rows."""

from __future__ import annotations

import json

from bench.joinstorm.report import markdown
from bench.joinstorm.run import Case, Plan, StormResult, quantile
from bench.joinstorm.storm import masked_text
from realtime.frames import FrameParser


def test_the_join_frame_is_a_masked_text_frame_the_server_reads() -> None:
    """The generator's precomputed join frame is what Torget's own framing rules accept."""
    payload = json.dumps({"type": "join", "room": "ses_1", "after": "1-1"}).encode()
    messages = FrameParser(64 * 1024).feed(masked_text(payload))
    assert [m.data for m in messages] == [payload.decode()]


def test_quantiles_are_nearest_rank() -> None:
    """p50 and p99 of 1..100 are 50 and 99; nothing measured gives None."""
    values = [float(v) for v in range(1, 101)]
    assert (quantile(values, 0.5), quantile(values, 0.99)) == (50.0, 99.0)
    assert quantile([], 0.5) is None


def test_a_row_per_storm_with_the_notes() -> None:
    """Each storm is a row; one that could not run says why; capped viewers are noted."""
    done = Case("torget", 1, 10_000, viewers=10_000, joined=10_000, all_joined_s=4.2,
                join_p50_s=2.0, join_p99_s=4.1, upgrade_p50_s=1.9, upgrade_p99_s=4.0,
                all_upgraded_s=4.1, server_cpu=95.0, cpu_per_join_us=380.0)  # fmt: skip
    capped = Case("reference", 1, 20_000, viewers=19_900, joined=19_900, all_joined_s=9.0,
                  notes=["19900 of 20000 viewers: RLIMIT_NOFILE"])  # fmt: skip
    missing = Case("torget-2", 2, 20_000, unavailable="redis-server is not installed")
    text = markdown(StormResult(Plan(), [done, capped, missing], 90.0))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1] == (
        "| torget | 1 | 10 000 | 10 000 | **4.20** | 2.00 / 4.10 | 4.10 | 1.90 / 4.00 | 95 % "
        "| 380 |  |"
    )
    assert rows[2].endswith("| 19900 of 20000 viewers: RLIMIT_NOFILE |")
    assert rows[3].startswith("| torget-2 | 2 | 20 000 | unavailable: redis-server is not")
    assert "in one room holding 200 chat messages" in text
