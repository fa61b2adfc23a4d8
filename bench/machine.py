"""Describe the machine a benchmark ran on, as a Markdown block for ``BENCHMARKS.md``."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (or what the platform module knows)."""
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def memory_bytes() -> int | None:
    """Total RAM in bytes from ``/proc/meminfo``, or None when it cannot be read."""
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            fields = line.split()
            return int(fields[1]) * 1024  # reported in kB
    return None


def os_name() -> str:
    """The distribution's pretty name and the kernel release."""
    pretty = ""
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            pretty = line.partition("=")[2].strip().strip('"')
    kernel = f"{platform.system()} {platform.release()}"
    return f"{pretty} ({kernel})" if pretty else kernel


def describe_machine(now: datetime | None = None) -> str:
    """A Markdown block naming the CPU, cores, RAM, OS, Python and date of this run."""
    ram = memory_bytes()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count() or '?'}"
    if usable is not None and usable != os.cpu_count():
        cores += f" ({usable} usable by this process)"
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("CPU", cpu_model()),
        ("Cores", cores),
        ("RAM", f"{ram / 2**30:.1f} GiB" if ram is not None else "unknown"),
        ("OS", os_name()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Date", when),
    ]
    lines = ["| Machine | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) + "\n"
