"""The programme import benchmark's figures as a Markdown section of ``BENCHMARKS.md``."""

from __future__ import annotations

from bench.imports.run import ImportResult, summary_ms

TARGET_MS = 100


def markdown(result: ImportResult) -> str:
    """The ``## Programme import`` section."""
    lines = [
        "## Programme import: the node keeps answering",
        "",
        "One node imports the largest programme file it accepts (1 MiB, `[server] "
        "max_body_bytes`), as YAML and as CSV, then exports it; a prober in another process "
        "asks `/healthz` every 10 ms meanwhile. The file is parsed and rendered in a worker "
        "thread, so the event loop (chat, LL-HLS, every viewer) keeps answering. Target: "
        f"`/healthz` under {TARGET_MS} ms throughout (not asserted here; "
        "`tests/e2e/web/test_import_off_loop.py` checks a generous bound). A worker thread "
        "still shares the interpreter lock with the loop: each wake-up of the loop may wait for "
        "the thread's next switch (5 ms), and on a busy machine the thread may hold the lock "
        "while the OS runs something else, which is where the worst probes come from (compare "
        "the idle node's maximum).",
        "",
        f"Idle node: `/healthz` p50 / p99 / max {summary_ms(result.idle)} ms.",
        "",
        "| request | file | sessions | studios | status | request s | /healthz p50 / p99 / max ms "
        "| probes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for row in result.rows:
        lines.append(
            f"| {row.what} | {row.size / 1024:.0f} KiB | {row.sessions} | {row.studios} | "
            f"{row.status} | {row.seconds:.1f} | {summary_ms(row.healthz)} | {len(row.healthz)} |"
        )
    lines += ["", *(f"- {note}" for note in result.notes)]
    return "\n".join(lines).rstrip("\n") + "\n"
