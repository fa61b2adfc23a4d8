"""``python -m bench``: run the benchmarks and write ``BENCHMARKS.md``.

python -m bench                  every benchmark, full matrix (~10 minutes on 2 cores)
python -m bench --quick          a short matrix (N = 1000 and 5000 at 100 msg/s)
python -m bench --only fanout    only the named benchmark (repeatable)
python -m bench --servers reference   the fan-out benchmark against these servers only
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe_machine

OUTPUT = Path("BENCHMARKS.md")


def _fanout(args: argparse.Namespace) -> str:
    from bench.fanout.report import markdown
    from bench.fanout.run import QUICK, Plan, run

    plan = QUICK if args.quick else Plan()
    if args.servers:
        plan = replace(plan, servers=tuple(s for s in args.servers.split(",") if s))
    result = run(plan, say=print)
    section = markdown(result)
    print()
    print(section)
    return section


# name -> function running the benchmark and returning its Markdown section
BENCHMARKS: dict[str, Callable[[argparse.Namespace], str]] = {"fanout": _fanout}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short matrix, for a smoke run")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark"
    )
    parser.add_argument("--servers", help="fan-out: comma-separated servers (torget,reference)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: BENCHMARKS.md")
    return parser


def report(sections: list[str], command: str, started: datetime, seconds: float) -> str:
    """The whole BENCHMARKS.md text."""
    return (
        "# Torget benchmarks\n\n"
        "Written by `make bench` (`python -m bench`); numbers depend on the machine below.\n\n"
        f"{describe_machine(started)}\n"
        + "\n".join(sections)
        + f"\nRun on {started.strftime('%Y-%m-%d %H:%M UTC')} with `{command}` "
        f"({seconds / 60:.1f} min).\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, print their tables and write the report."""
    args = _parser().parse_args(argv)
    started = datetime.now(UTC)
    clock = time.monotonic()
    names = args.only or list(BENCHMARKS)
    sections = [BENCHMARKS[name](args) for name in names]
    words = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "bench", *words])
    args.output.write_text(
        report(sections, command, started, time.monotonic() - clock), encoding="utf-8"
    )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
