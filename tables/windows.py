"""Sliding-window counters by event time, kept as fixed rings of time buckets.

Approximation: a window of span S with buckets of width W counts the S/W buckets ending with
the bucket that holds `now`, so it covers between S - W and S seconds back (the current bucket
is partial). With the defaults the error is at most 1 min for "5m", 5 min for "1h" and 1 h for
"24h". Events newer than `now` are not counted. An event older than the ring (more than S
behind the newest event seen) is dropped, so the ring's content depends only on the set of
events, never on their arrival order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.records import EVENT_TYPES
from streamrec.errors import BadRequest, InvalidRecord

MINUTE = 60.0
TYPE_INDEX: dict[str, int] = {name: index for index, name in enumerate(EVENT_TYPES)}
N_TYPES = len(EVENT_TYPES)


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A sliding window: its name, span and bucket width in seconds."""

    name: str
    span: float
    width: float

    @property
    def n_buckets(self) -> int:
        """How many buckets the window sums."""
        return round(self.span / self.width)


WINDOWS: tuple[WindowSpec, ...] = (
    WindowSpec("5m", 5 * MINUTE, MINUTE),
    WindowSpec("1h", 60 * MINUTE, 5 * MINUTE),
    WindowSpec("24h", 24 * 60 * MINUTE, 60 * MINUTE),
)
WINDOW_BY_NAME: dict[str, WindowSpec] = {spec.name: spec for spec in WINDOWS}
WINDOW_NAMES: tuple[str, ...] = (*WINDOW_BY_NAME, "all")


def type_index(event_type: str) -> int:
    """Position of an event type in the counter rows (raises InvalidRecord if unknown)."""
    index = TYPE_INDEX.get(event_type)
    if index is None:
        raise InvalidRecord("type", f"must be one of {', '.join(EVENT_TYPES)}")
    return index


def window_spec(window: str) -> WindowSpec:
    """The spec of a named sliding window (raises BadRequest if unknown)."""
    spec = WINDOW_BY_NAME.get(window)
    if spec is None:
        raise BadRequest(f"window must be one of {', '.join(WINDOW_NAMES)}", {"window": window})
    return spec


@dataclass(slots=True)
class BucketRing:
    """Counts per event type in the newest `n_buckets` buckets, `head` being the newest index.

    `counts` is flat: the row of bucket index i starts at (i % n_buckets) * N_TYPES.
    """

    head: int
    counts: list[int]

    @classmethod
    def empty(cls, spec: WindowSpec) -> BucketRing:
        """A ring with no events."""
        return cls(head=-1, counts=[0] * (spec.n_buckets * N_TYPES))

    def add(self, spec: WindowSpec, timestamp: float, type_position: int, count: int = 1) -> None:
        """Count an event; advances the ring when it is the newest (mutates the ring)."""
        n_buckets = spec.n_buckets
        index = int(timestamp // spec.width)
        if index > self.head:
            self._advance(index, n_buckets)
        elif index <= self.head - n_buckets:
            return
        self.counts[(index % n_buckets) * N_TYPES + type_position] += count

    def _advance(self, index: int, n_buckets: int) -> None:
        counts = self.counts
        if index - self.head >= n_buckets:
            counts[:] = [0] * len(counts)
        else:
            for stale in range(self.head + 1, index + 1):
                start = (stale % n_buckets) * N_TYPES
                counts[start : start + N_TYPES] = [0] * N_TYPES
        self.head = index

    def total(self, spec: WindowSpec, type_position: int, now: float) -> int:
        """Events of one type in the window ending at `now`."""
        n_buckets = spec.n_buckets
        newest = min(int(now // spec.width), self.head)
        oldest = max(int(now // spec.width) - n_buckets + 1, self.head - n_buckets + 1)
        return sum(
            self.counts[(index % n_buckets) * N_TYPES + type_position]
            for index in range(oldest, newest + 1)
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form: {"head": int, "counts": [int, ...]}."""
        return {"head": self.head, "counts": self.counts.copy()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BucketRing:
        """Inverse of `to_json` (copies the counts list)."""
        return cls(head=data["head"], counts=list(data["counts"]))
