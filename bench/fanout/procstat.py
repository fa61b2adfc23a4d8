"""CPU time and memory of a process, read from ``/proc`` (Linux)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (``utime + stime`` of /proc/<pid>/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size (``VmRSS`` of /proc/<pid>/status) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def machine_ticks() -> tuple[int, int, int]:
    """(busy, softirq, total) clock ticks of all cores since boot (first line of /proc/stat).

    Busy counts user, nice, system, irq, softirq and steal time: loopback TCP work done in
    softirq is charged to no process, so this shows what the per-process figures miss.
    """
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    return busy, softirq, busy + idle + iowait


def total_cpu(pids: Iterable[int]) -> float:
    """CPU seconds of several processes together (a gone process counts nothing)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            total += cpu_seconds(pid)
    return total


def total_rss(pids: Iterable[int]) -> int:
    """RSS of several processes together, in bytes."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            total += rss_bytes(pid)
    return total
