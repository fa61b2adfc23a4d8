"""``python -m bench``: run the benchmarks and write ``BENCHMARKS.md``.

python -m bench                  every benchmark, full matrix (~10 minutes on 2 cores)
python -m bench --quick          a short matrix (N = 1000 and 5000 at 100 msg/s)
python -m bench cluster          only the two-node Redis fan-out (~5 minutes)
python -m bench --only fanout    only the named benchmark (repeatable)
python -m bench media            only the named benchmarks (fanout, cluster, media, webrtc,
                                 hlscache, imports, joinstorm, viewer, playout, clips,
                                 captions, interpretation)
python -m bench --servers reference   the fan-out benchmark against these servers only
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe_machine

OUTPUT = Path("BENCHMARKS.md")


def _shown(section: str) -> str:
    """Print a benchmark's Markdown section (after a blank line) and return it."""
    print()
    print(section)
    return section


def _fanout(args: argparse.Namespace) -> str:
    from bench.fanout.report import markdown
    from bench.fanout.run import QUICK, Plan, run

    plan = QUICK if args.quick else Plan()
    if args.servers:
        plan = replace(plan, servers=tuple(s for s in args.servers.split(",") if s))
    result = run(plan, say=print)
    args.fanout_cells = [c for s in result.servers for c in s.cells]  # the cluster's baseline
    return _shown(markdown(result))


def _cluster(args: argparse.Namespace) -> str:
    from bench.fanout.cluster import CLUSTER_QUICK, ClusterPlan, markdown, run

    plan = CLUSTER_QUICK if args.quick else ClusterPlan()
    result = run(plan, say=print, baseline=getattr(args, "fanout_cells", []))
    return _shown(markdown(result))


def _standard(name: str) -> Callable[[argparse.Namespace], str]:
    """A benchmark laid out like most: ``bench/<name>/run.py`` with ``QUICK``, ``Plan`` and
    ``run``, and ``bench/<name>/report.py`` with ``markdown`` (imported only when it runs)."""

    def measure(args: argparse.Namespace) -> str:
        runner = importlib.import_module(f"bench.{name}.run")
        report = importlib.import_module(f"bench.{name}.report")
        result = runner.run(runner.QUICK if args.quick else runner.Plan(), say=print)
        return _shown(report.markdown(result))

    return measure


# name -> function running the benchmark and returning its Markdown section
BENCHMARKS: dict[str, Callable[[argparse.Namespace], str]] = {
    "fanout": _fanout,
    "cluster": _cluster,  # after fanout: it reuses the one-node figures of the same N and rate
    "media": _standard("media"),
    "webrtc": _standard("webrtc"),
    "hlscache": _standard("hlscache"),
    "joinstorm": _standard("joinstorm"),
    "imports": _standard("imports"),
    "viewer": _standard("viewer"),
    "playout": _standard("playout"),
    "clips": _standard("clips"),
    "captions": _standard("captions"),
    "interpretation": _standard("interpretation"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"run only these ({', '.join(BENCHMARKS)})"
    )
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


def _sections(text: str) -> list[str]:
    """The ``## `` sections of a report (without the header and the closing "Run on" line)."""
    body = text.split("\n## ", 1)[1] if "\n## " in text else ""
    body = re.sub(r"\nRun on [^\n]*\n*\Z", "\n", body)  # the closing line only
    return ["## " + chunk.rstrip("\n") + "\n" for chunk in body.split("\n## ") if chunk.strip()]


def keep_other_sections(previous: str, new: str) -> str:
    """``new`` (a report of some benchmarks) with the sections of ``previous`` that this run
    did not produce kept in their place, marked as from the earlier run."""
    fresh = {s.split("\n", 1)[0]: s for s in _sections(new)}
    old = _sections(previous)
    if not old:
        return new
    when = next((line for line in previous.splitlines() if line.startswith("Run on ")), "")
    merged: list[str] = []
    for section in old:
        title = section.split("\n", 1)[0]
        if title in fresh:
            merged.append(fresh.pop(title))
        elif "(Kept from the earlier run." in section or "\n(Run on " in section:
            merged.append(section)  # already says when it was run
        else:
            merged.append(f"{section}\n(Kept from the earlier run. {when})\n")
    merged += fresh.values()
    head = new.split("\n## ", 1)[0] + "\n"
    tail = "\nRun on " + new.rsplit("\nRun on ", 1)[1]
    return head + "\n".join(merged) + tail


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, print their tables and write the report."""
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r} (choose from {', '.join(BENCHMARKS)})")
    started = datetime.now(UTC)
    clock = time.monotonic()
    names = list(dict.fromkeys([*(args.only or []), *args.names])) or list(BENCHMARKS)
    sections = [BENCHMARKS[name](args) for name in names]
    words = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "bench", *words])
    text = report(sections, command, started, time.monotonic() - clock)
    if len(names) < len(BENCHMARKS) and args.output.exists():
        text = keep_other_sections(args.output.read_text(encoding="utf-8"), text)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
