"""Live figures of one worker read from its Prometheus registry, over a short sliding window.

Counters and histograms only ever grow, so a figure "now" is the difference between the
registry read at this call and the oldest reading kept (at most WINDOW_S old): events per
second, freshness (event time to applied) and recommendation latency percentiles, cache hit
rate. Gauges (consumer lag) are read as they are.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from prometheus_client import CollectorRegistry

from streamrec import topics

WINDOW_S = 30.0
MIN_SPACING_S = 0.5
EVENTS_TOTAL = "streamrec_events_processed_total"
APPLY_LAG = "streamrec_event_apply_lag_seconds"
REQUEST_SECONDS = "streamrec_http_request_seconds"
CACHE_TOTAL = "streamrec_cache_requests_total"
CONSUMER_LAG = "streamrec_consumer_lag"
RECOMMENDATIONS_ROUTE = "/v1/recommendations"
Buckets = dict[float, float]


@dataclass(frozen=True)
class Reading:
    """Cumulative values of the registry at one moment."""

    at: float
    events: float = 0.0
    cache_hits: float = 0.0
    cache_lookups: float = 0.0
    freshness: Buckets = field(default_factory=dict)
    latency: Buckets = field(default_factory=dict)
    consumer_lag: float = 0.0


def _add(buckets: Buckets, bound: str, value: float) -> None:
    upper = math.inf if bound == "+Inf" else float(bound)
    buckets[upper] = buckets.get(upper, 0.0) + value


def read_registry(registry: CollectorRegistry, at: float) -> Reading:
    """One reading of the figures the console shows."""
    values = {"events": 0.0, "hits": 0.0, "lookups": 0.0, "lag": 0.0}
    freshness: Buckets = {}
    latency: Buckets = {}
    for metric in registry.collect():
        for sample in metric.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == EVENTS_TOTAL and labels.get("topic") == topics.EVENTS:
                values["events"] += value
            elif name == CACHE_TOTAL and labels.get("result") in ("hit", "miss"):
                values["lookups"] += value
                values["hits"] += value if labels["result"] == "hit" else 0.0
            elif name == CONSUMER_LAG:
                values["lag"] += value
            elif name == f"{APPLY_LAG}_bucket":
                _add(freshness, labels["le"], value)
            elif name == f"{REQUEST_SECONDS}_bucket" and _is_served_page(labels):
                _add(latency, labels["le"], value)
    return Reading(
        at, values["events"], values["hits"], values["lookups"], freshness, latency, values["lag"]
    )


def _is_served_page(labels: dict[str, str]) -> bool:
    return labels.get("route") == RECOMMENDATIONS_ROUTE and labels.get("status") == "200"


def quantile(buckets: Buckets, q: float) -> float | None:
    """The q-quantile of cumulative histogram buckets (linear within a bucket), None if empty,
    infinity when it lies beyond the last finite bound."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for upper in bounds:
        count = buckets[upper]
        if count >= rank:
            if math.isinf(upper):
                return math.inf
            share = (rank - below) / (count - below) if count > below else 1.0
            return lower + (upper - lower) * share
        lower, below = upper, count
    return lower


def _delta(now: Buckets, then: Buckets) -> Buckets:
    return {bound: value - then.get(bound, 0.0) for bound, value in now.items()}


def _percentiles(name: str, buckets: Buckets, figures: dict[str, object]) -> None:
    """`<name>_p50_ms` and `_p99_ms`; one beyond the last bound is that bound, listed in
    `at_least` (for example replayed old events, hours behind)."""
    finite = [bound for bound in buckets if not math.isinf(bound)]
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        key = f"{name}_{label}_ms"
        value = quantile(buckets, q)
        if value is not None and math.isinf(value):
            value = max(finite, default=0.0)
            cast(list[str], figures["at_least"]).append(key)
        figures[key] = None if value is None else round(value * 1000.0, 2)


def compare(now: Reading, then: Reading) -> dict[str, object]:
    """Rates and percentiles between two readings."""
    span = max(now.at - then.at, 1e-9)
    lookups = now.cache_lookups - then.cache_lookups
    hits = now.cache_hits - then.cache_hits
    figures: dict[str, object] = {
        "window_s": round(span, 2),
        "events_per_s": round((now.events - then.events) / span, 2),
        "events_applied": now.events,
        "consumer_lag": now.consumer_lag,
        "cache_hit_rate": round(hits / lookups, 4) if lookups > 0 else None,
        "at_least": [],
    }
    _percentiles("freshness", _delta(now.freshness, then.freshness), figures)
    _percentiles("recommendation", _delta(now.latency, then.latency), figures)
    return figures


class StatsWindow:
    """Readings of the last WINDOW_S seconds; each call compares now with the oldest kept."""

    def __init__(
        self, registry: CollectorRegistry, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._readings: deque[Reading] = deque([read_registry(registry, clock())])

    def figures(self) -> dict[str, object]:
        """The live figures over the window ending now."""
        now = read_registry(self._registry, self._clock())
        while len(self._readings) > 1 and now.at - self._readings[1].at >= WINDOW_S:
            self._readings.popleft()
        figures = compare(now, self._readings[0])
        if now.at - self._readings[-1].at >= MIN_SPACING_S:
            self._readings.append(now)
        return figures
