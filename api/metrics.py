"""Prometheus metrics of the API, all registered on the registry the worker passes in."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ActiveModelCollector(Collector):
    """`streamrec_active_model{version=...} 1`, read from the holder at scrape time."""

    def __init__(self, version: Callable[[], str]) -> None:
        self._version = version

    def collect(self) -> Iterator[Metric]:
        """Yield the gauge of the version active right now."""
        gauge = GaugeMetricFamily(
            "streamrec_active_model", "The model version serving requests", labels=["version"]
        )
        gauge.add_metric([self._version()], 1.0)
        yield gauge


class ApiMetrics:
    """Latency per route and per pipeline stage, cache, forwarding and rate-limit counters."""

    def __init__(self, registry: CollectorRegistry, active_version: Callable[[], str]) -> None:
        self.registry = registry
        self.request_seconds = Histogram(
            "streamrec_http_request_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.stage_seconds = Histogram(
            "streamrec_stage_seconds",
            "Latency of one serving stage (candidates, features, ranking, rules)",
            ["stage"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self.cache = Counter(
            "streamrec_cache_requests",
            "Recommendation cache lookups",
            ["result"],
            registry=registry,
        )
        self.forwarded = Counter(
            "streamrec_forwarded_requests",
            "Requests forwarded to the owning worker",
            ["route"],
            registry=registry,
        )
        self.redis_errors = Counter(
            "streamrec_redis_errors", "Redis calls that failed", ["use"], registry=registry
        )
        self.rate_limited = Counter(
            "streamrec_rate_limited_requests",
            "Requests refused by the rate limiter",
            registry=registry,
        )
        self.published = Counter(
            "streamrec_published_records",
            "Records the API published",
            ["topic"],
            registry=registry,
        )
        registry.register(ActiveModelCollector(active_version))
        self._stages: dict[str, Histogram] = {}
        self._requests: dict[tuple[str, str, str], Histogram] = {}

    def observe_stage(self, stage: str, seconds: float) -> None:
        """Record one stage latency (the pipeline's observer callback); each stage's child
        histogram is looked up once (`labels` validates and locks on every call)."""
        child = self._stages.get(stage)
        if child is None:
            child = self._stages.setdefault(stage, self.stage_seconds.labels(stage=stage))
        child.observe(seconds)

    def observe_request(self, route: str, method: str, status: str, seconds: float) -> None:
        """Record one request's latency (each route, method and status's child kept)."""
        key = (route, method, status)
        child = self._requests.get(key)
        if child is None:
            labelled = self.request_seconds.labels(route=route, method=method, status=status)
            child = self._requests.setdefault(key, labelled)
        child.observe(seconds)
