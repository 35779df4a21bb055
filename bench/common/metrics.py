"""Samples of a Prometheus text (a worker's or a server's /metrics), by name and label."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Labels and value of every sample called `name` (counters end in `_total`)."""
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels`."""
    return sum(
        value
        for found, value in samples(text, name)
        if all(found.get(key) == wanted for key, wanted in labels.items())
    )


def by_label(text: str, name: str, label: str) -> dict[str, float]:
    """The samples called `name`, summed per value of `label`."""
    values: dict[str, float] = {}
    for found, value in samples(text, name):
        if label in found:
            values[found[label]] = values.get(found[label], 0.0) + value
    return values


def histogram_totals(text: str, name: str, label: str) -> dict[str, tuple[float, float]]:
    """(count, sum) of histogram `name` per value of `label`."""
    counts, sums = by_label(text, f"{name}_count", label), by_label(text, f"{name}_sum", label)
    return {value: (count, sums.get(value, 0.0)) for value, count in counts.items()}


def buckets(text: str, name: str) -> dict[float, float]:
    """Cumulative counts of histogram `name`, by upper bound (summed over other labels)."""
    return {float(bound): count for bound, count in by_label(text, f"{name}_bucket", "le").items()}


def quantile(cumulative: dict[float, float], q: float) -> float:
    """The q-quantile of a cumulative histogram, interpolated linearly inside its bucket."""
    bounds = sorted(cumulative)
    target = q * cumulative[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        if cumulative[bound] >= target:
            if bound == float("inf"):
                return lower
            share = (target - below) / max(cumulative[bound] - below, 1e-9)
            return lower + share * (bound - lower)
        lower, below = bound, cumulative[bound]
    return lower
