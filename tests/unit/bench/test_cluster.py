"""The two-node fan-out benchmark's pure parts: the redis-server command and the scaling ratio."""

from __future__ import annotations

from pathlib import Path

from bench.fanout.cluster import ClusterPlan, ClusterResult, Scaling, markdown, scaling
from bench.fanout.run import Cell, ServerResult
from bench.fanout.servers import Torget, redis_args


def test_redis_args_bind_loopback_and_keep_data_in_the_directory(tmp_path: Path) -> None:
    """The bench's redis-server listens on 127.0.0.1 only, on the given port, append-only with
    an fsync per write, its files in the given directory."""
    args = redis_args("/usr/bin/redis-server", 6400, tmp_path)
    assert args[0] == "/usr/bin/redis-server"
    pairs = dict(zip(args[1::2], args[2::2], strict=True))
    assert pairs["--port"] == "6400"
    assert pairs["--bind"] == "127.0.0.1"
    assert pairs["--dir"] == str(tmp_path)
    assert (pairs["--appendonly"], pairs["--appendfsync"], pairs["--save"]) == ("yes", "always", "")
    assert pairs["--logfile"] == str(tmp_path / "redis.log")


def test_two_node_deployment_measures_each_node_and_its_redis(tmp_path: Path) -> None:
    """A two-node Torget is named torget-2 and needs no Redis URL up front (it starts its own)."""
    deployment = Torget(tmp_path, nodes=2)
    assert deployment.name == "torget-2"
    assert deployment.parts == []
    assert Torget(tmp_path).name == "torget"


def cell(server: str, p99: float, cpu: float, parts: dict[str, tuple[float, int]]) -> Cell:
    """A finished run of 10 000 viewers at 100 msg/s, everything delivered."""
    return Cell(server, 10_000, 10_000, 100, sent=1000, expected=10**7, received=10**7,
                p99_ms=p99, server_cpu=cpu, parts=parts)  # fmt: skip


def test_scaling_pairs_runs_of_the_same_n_and_rate() -> None:
    """The ratios compare two nodes with one at the same N: p99, busiest node, all CPU."""
    one = cell("torget", 400, 80, {})
    many = cell("torget-2", 200, 100, {"node 1": (45, 1), "node 2": (40, 1), "redis": (15, 1)})
    other_rate = Cell("torget-2", 10_000, 10_000, 500)
    rows = scaling([one], [many, other_rate])
    assert rows == [Scaling(10_000, 100, one, many)]
    row = rows[0]
    assert (row.p99_ratio, row.busiest_node_cpu, row.delivered_ratio) == (0.5, 45, 1.0)
    assert row.node_cpu_ratio == 45 / 80
    assert row.total_cpu_ratio == 100 / 80
    text = markdown(
        ClusterResult(ClusterPlan(), ServerResult("torget", [one]),
                      ServerResult("torget-2", [many]), reused=True, seconds=60, nofile=20000)
    )  # fmt: skip
    assert "| 10 000 | 100 | 400 | 200 | 0.50 | 0.56 | 1.25 | 1.000 |" in text
    assert "| 10 000 | 100 | 45 % / 0 MiB | 40 % / 0 MiB | 15 % / 0 MiB |" in text
