"""Observing many amounts at once leaves a histogram as observing them one by one does."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

from agents.runtime.metrics import LAG_BUCKETS, observe_all


def _samples(histogram: Histogram) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for metric in histogram.collect()
        for sample in metric.samples
        if not sample.name.endswith("_created")
    ]


def test_observe_all_matches_observing_one_by_one() -> None:
    registry = CollectorRegistry()
    one_by_one = Histogram("one", "one", buckets=LAG_BUCKETS, registry=registry)
    at_once = Histogram("at_once", "at once", buckets=LAG_BUCKETS, registry=registry)
    amounts = [0.0, 0.005, 0.0051, 0.1, 0.1, 0.3, 9.99, 60.0, 61.0, 1e9]
    for amount in amounts:
        one_by_one.observe(amount)
    observe_all(at_once, amounts)
    observe_all(at_once, [])
    expected = [(n.replace("one", "at_once", 1), lb, v) for n, lb, v in _samples(one_by_one)]
    assert _samples(at_once) == expected
    assert dict((lb.get("le"), v) for _, lb, v in _samples(at_once))["0.005"] == 2.0
