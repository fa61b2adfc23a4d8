"""``python -m bench``: run the benchmarks and write ``BENCHMARKS.md`` (none exist yet)."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.machine import describe_machine

OUTPUT = Path("BENCHMARKS.md")


def main() -> int:
    """Write the report header with the machine's description; there are no benchmarks yet."""
    report = (
        "# Torget benchmarks\n\n"
        "Written by `make bench` (`python -m bench`); numbers depend on the machine below.\n\n"
        f"{describe_machine()}\n"
        "No benchmarks yet.\n"
    )
    OUTPUT.write_text(report, encoding="utf-8")
    print("no benchmarks yet")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
