"""Prometheus metrics of the worker's actors."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import Counter, Gauge, Histogram

from agents.runtime.patches import access

EVENTS_PROCESSED = Counter(
    "streamrec_events_processed_total", "Records applied by the actors", ["topic", "type"]
)
DUPLICATES_DROPPED = Counter(
    "streamrec_duplicate_events_total", "Events dropped because their event_id was applied"
)
DEAD_LETTERS = Counter(
    "streamrec_dead_letters_total", "Records sent to dead-letters", ["source_topic"]
)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.5, 1, 2.5, 5, 10, 60)
"""Seconds; fine around the 100 ms freshness target so its p99 is read, not guessed."""
APPLY_LAG = Histogram(
    "streamrec_event_apply_lag_seconds",
    "Event time to the moment the user's state applied it",
    buckets=LAG_BUCKETS,
)
TABLE_KEYS = Gauge("streamrec_table_keys", "Keys held in local table partitions", ["table"])
CONSUMER_LAG = Gauge(
    "streamrec_consumer_lag", "Records behind the high watermark", ["topic", "partition"]
)
AGENT_CPU = Counter(
    "streamrec_agent_cpu_seconds_total",
    "CPU time of the actors' own batch work (decode, fold, encode, write), by agent",
    ["agent"],
)


def observe_all(histogram: Histogram, amounts: Sequence[float]) -> None:
    """Observe many amounts of an unlabelled histogram at once, leaving its buckets and sum as
    `observe` would (which takes a lock and walks the buckets for every amount)."""
    if not amounts:
        return
    bounds = access.bucket_bounds(histogram)
    counts = Tally(bisect_left(bounds, amount) for amount in amounts)
    access.observe_counts(histogram, counts, sum(amounts))
