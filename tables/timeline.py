"""An arm's counts over time: pages, items shown, clicks and conversions per time bucket.

Buckets start at multiples of their width since the epoch. The width starts at one minute and
doubles whenever an arm holds more than MAX_BUCKETS buckets, so one record covers any run
length; two timelines merge exactly after both are coarsened to the wider width. The counts are
anonymous totals: erasing a user removes them from the per-user sums, not from these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FIRST_WIDTH_S = 60
MAX_BUCKETS = 96
COUNTS = ("requests", "impressions", "clicks", "conversions")
"""The counts of a bucket, in the order they are stored."""


@dataclass(slots=True)
class Timeline:
    """Counts per bucket of `width_s` seconds, keyed by the bucket's start (epoch seconds)."""

    width_s: int = FIRST_WIDTH_S
    buckets: dict[int, list[int]] = field(default_factory=dict)

    def add(
        self,
        at: float,
        requests: int = 0,
        impressions: int = 0,
        clicks: int = 0,
        conversions: int = 0,
    ) -> None:
        """Count at time `at` (mutates; coarsens past MAX_BUCKETS)."""
        start = int(at // self.width_s) * self.width_s
        counts = self.buckets.setdefault(start, [0, 0, 0, 0])
        for index, value in enumerate((requests, impressions, clicks, conversions)):
            counts[index] += value
        while len(self.buckets) > MAX_BUCKETS:
            self.coarsen(self.width_s * 2)

    def coarsen(self, width_s: int) -> None:
        """Regroup into buckets of `width_s`, a multiple of the current width (mutates)."""
        if width_s <= self.width_s:
            return
        grouped: dict[int, list[int]] = {}
        for start, counts in self.buckets.items():
            into = grouped.setdefault(start // width_s * width_s, [0, 0, 0, 0])
            for index, value in enumerate(counts):
                into[index] += value
        self.width_s, self.buckets = width_s, grouped

    def merge(self, other: Timeline) -> Timeline:
        """The counts of both, at the wider of their widths (neither is changed)."""
        merged = Timeline(self.width_s, {k: list(v) for k, v in self.buckets.items()})
        theirs = Timeline(other.width_s, {k: list(v) for k, v in other.buckets.items()})
        width = max(merged.width_s, theirs.width_s)
        merged.coarsen(width)
        theirs.coarsen(width)
        for start, counts in theirs.buckets.items():
            into = merged.buckets.setdefault(start, [0, 0, 0, 0])
            for index, value in enumerate(counts):
                into[index] += value
        while len(merged.buckets) > MAX_BUCKETS:
            merged.coarsen(merged.width_s * 2)
        return merged

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (bucket starts as text keys)."""
        return {"width_s": self.width_s, "buckets": {str(k): v for k, v in self.buckets.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Timeline:
        """Inverse of `to_json`."""
        buckets = {int(k): [int(x) for x in v] for k, v in data["buckets"].items()}
        return cls(int(data["width_s"]), buckets)


def merge_all(timelines: Iterable[Timeline]) -> Timeline:
    """The counts of every timeline."""
    merged = Timeline()
    for timeline in timelines:
        merged = merged.merge(timeline)
    return merged


def points(timelines: dict[str, Timeline]) -> dict[str, Any]:
    """The variants' timelines on common buckets, oldest first, with running totals: the
    `timeline` part of an experiment's metrics."""
    width = max((t.width_s for t in timelines.values()), default=FIRST_WIDTH_S)
    timelines = {name: t.merge(Timeline(width)) for name, t in timelines.items()}
    starts = sorted({start for t in timelines.values() for start in t.buckets})
    series = {}
    for name, timeline in timelines.items():
        running = [0, 0, 0, 0]
        rows = []
        for start in starts:
            counts = timeline.buckets.get(start, [0, 0, 0, 0])
            running = [a + b for a, b in zip(running, counts, strict=True)]
            rows.append(dict(zip(COUNTS, running, strict=True)))
        series[name] = rows
    return {"bucket_seconds": width, "starts": starts, "cumulative": series}
