"""The join-storm benchmark's Markdown section."""

from __future__ import annotations

from bench.joinstorm.run import Case, StormResult


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _int(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _row(case: Case) -> str:
    if case.unavailable:
        cells = f"{case.server} | {case.nodes} | {_int(case.asked)}"
        return f"| {cells} | unavailable: {case.unavailable} | | | | | | | |"
    notes = "; ".join(case.notes + [f"{k} x{v}" for k, v in case.failures.items()])
    return (
        f"| {case.server} | {case.nodes} | {_int(case.viewers)} | {_int(case.joined)} "
        f"| **{_s(case.all_joined_s)}** | {_s(case.join_p50_s)} / {_s(case.join_p99_s)} "
        f"| {_s(case.all_upgraded_s)} | {_s(case.upgrade_p50_s)} / {_s(case.upgrade_p99_s)} "
        f"| {case.server_cpu:.0f} % | {_us(case.cpu_per_join_us)} | {notes} |"
    )


def markdown(result: StormResult) -> str:
    """The section: how it was run, then one row per storm."""
    plan = result.plan
    inflight = (
        "all at once"
        if not plan.inflight
        else f"each with at most {plan.inflight} handshakes under way, below the kernel's "
        "default accept queue of 4 096 (past it SYNs are dropped and retried after 1, 3, 7 s)"
    )
    return (
        "## Join storm\n\n"
        "A node died and its websocket viewers reconnect to the others at once: every viewer "
        "connects, upgrades, sends `join` (with `after`: the last event it saw) and waits for "
        f"`joined`, in one room holding {plan.history} chat messages, started together by "
        f"{plan.processes} generator processes ({inflight}; `python -m bench.joinstorm.run`, "
        "plain sockets on one epoll loop each). Targets: 10 000 viewers all joined within 5 s "
        "on one node, 20 000 within 10 s on two nodes with Redis. The reference is one Node.js "
        "`ws` process with no application logic (no history, no store, no counts); one "
        "process holds at most RLIMIT_NOFILE connections, so it is capped there. Times are "
        "seconds from the storm's start; **all joined** is when the last viewer got "
        "`joined`; upgrade is the handshake's answer (101), the connect time. Server CPU: % "
        "of one core over the storm (nodes and Redis together), and per viewer joined.\n\n"
        "| server | nodes | viewers | joined | all joined (s) | join p50 / p99 (s) "
        "| all upgraded (s) | upgrade p50 / p99 (s) | server CPU | CPU µs/join | notes |\n"
        "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |\n"
        + "\n".join(_row(case) for case in result.cases)
        + f"\n\n({result.seconds / 60:.1f} min.)\n"
    )
