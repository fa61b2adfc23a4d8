"""Prometheus metrics of one node: HTTP traffic and the programme's sessions by state."""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from studio.states import SessionState
from web.errors import Handler


class Metrics:
    """A registry of its own per application (so several apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "torget_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "torget_http_request_duration_seconds",
            "Time to answer HTTP requests, by route.",
            ["route"],
            registry=self.registry,
        )
        self.sessions = Gauge(
            "torget_sessions",
            "Sessions in the programme, by lifecycle state.",
            ["state"],
            registry=self.registry,
        )
        self.scheduler_steps = Counter(
            "torget_scheduler_steps",
            "Lifecycle steps the scheduler applied, by event.",
            ["event"],
            registry=self.registry,
        )

    def set_session_states(self, states: list[SessionState]) -> None:
        """Record how many sessions are in each state."""
        counts = Tally(states)
        for state in SessionState:
            self.sessions.labels(state.value).set(counts.get(state, 0))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)

    def middleware(self) -> Middleware:
        """Count and time every request by its route pattern (not its raw path)."""

        @web.middleware
        async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                info = request.match_info.route.resource
                route = info.canonical if info is not None else "unmatched"
                self.requests.labels(route, request.method, str(status)).inc()
                self.latency.labels(route).observe(time.perf_counter() - started)

        return measure


IngestSample = tuple[str, int | None, float | None, float | None]


class MediaCollector:
    """Ingest health and restream gauges, read from the media plane at each scrape.

    ``ingests`` yields (session id, bit rate, fps, seconds since the last keyframe) per
    connected publish on this node; ``restreams`` counts destinations per state; ``dropped``
    yields (session id, renditions dropped for overload) per connected publish.
    """

    def __init__(
        self,
        ingests: Callable[[], Iterable[IngestSample]],
        restreams: Callable[[], Mapping[str, int]],
        dropped: Callable[[], Iterable[tuple[str, int]]] = list,
    ) -> None:
        self._ingests = ingests
        self._restreams = restreams
        self._dropped = dropped

    def collect(self) -> Iterator[Metric]:
        """The gauges as they are now."""
        bitrate = GaugeMetricFamily(
            "torget_ingest_bitrate_bits_per_second",
            "Bit rate a publisher sends, over the last seconds, by session.",
            labels=["session"],
        )
        fps = GaugeMetricFamily(
            "torget_ingest_fps",
            "Frames per second a publisher sends, by session.",
            labels=["session"],
        )
        keyframe = GaugeMetricFamily(
            "torget_ingest_seconds_since_keyframe",
            "Seconds since a publisher's last keyframe, by session.",
            labels=["session"],
        )
        for session_id, bits, rate, since in self._ingests():
            if bits is not None:
                bitrate.add_metric([session_id], bits)
            if rate is not None:
                fps.add_metric([session_id], rate)
            if since is not None:
                keyframe.add_metric([session_id], since)
        pushes = GaugeMetricFamily(
            "torget_restream_destinations",
            "Restream destinations pushed from this node, by state.",
            labels=["state"],
        )
        for state, count in self._restreams().items():
            pushes.add_metric([state], count)
        ladder = GaugeMetricFamily(
            "torget_ladder_dropped_renditions",
            "Renditions dropped because ffmpeg could not keep up with the ladder, by session.",
            labels=["session"],
        )
        for session_id, count in self._dropped():
            ladder.add_metric([session_id], count)
        yield from (bitrate, fps, keyframe, pushes, ladder)
