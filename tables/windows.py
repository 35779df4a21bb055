"""Sliding-window counters by event time, kept as fixed rings of time buckets.

Approximation: a window of span S with buckets of width W counts the S/W buckets ending with
the bucket that holds `now`, so it covers between S - W and S seconds back (the current bucket
is partial). With the defaults the error is at most 1 min for "5m", 5 min for "1h" and 1 h for
"24h". Events newer than `now` are not counted. An event older than the ring (more than S
behind the newest event seen) is dropped, so the ring's content depends only on the set of
events, never on their arrival order. Asking about a `now` earlier than the newest event sees
only the buckets still held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.records import EVENT_TYPES
from streamrec.errors import BadRequest, InvalidRecord

MINUTE = 60.0
TYPE_INDEX: dict[str, int] = {name: index for index, name in enumerate(EVENT_TYPES)}
N_TYPES = len(EVENT_TYPES)


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A sliding window: its name, span and bucket width in seconds, and its rows' place."""

    name: str
    span: float
    width: float
    n_buckets: int
    offset: int
    zeros: tuple[int, ...] = field(repr=False, compare=False, default=())


def _layout(*windows: tuple[str, float, float]) -> tuple[WindowSpec, ...]:
    specs, offset = [], 0
    for name, span, width in windows:
        n_buckets = round(span / width)
        zeros = (0,) * (n_buckets * N_TYPES)
        specs.append(WindowSpec(name, span, width, n_buckets, offset, zeros))
        offset += n_buckets * N_TYPES
    return tuple(specs)


WINDOWS: tuple[WindowSpec, ...] = _layout(
    ("5m", 5 * MINUTE, MINUTE),
    ("1h", 60 * MINUTE, 5 * MINUTE),
    ("24h", 24 * 60 * MINUTE, 60 * MINUTE),
)
WINDOW_BY_NAME: dict[str, WindowSpec] = {spec.name: spec for spec in WINDOWS}
WINDOW_NAMES: tuple[str, ...] = (*WINDOW_BY_NAME, "all")
_ZERO_ROW = (0,) * N_TYPES
N_CELLS = sum(spec.n_buckets for spec in WINDOWS) * N_TYPES


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


def _empty_heads() -> list[int]:
    return [-1] * len(WINDOWS)


def _empty_cells() -> list[int]:
    return [0] * N_CELLS


@dataclass(slots=True)
class WindowCounts:
    """Every window's ring of buckets in one flat list of counts.

    Window w keeps its newest `n_buckets` buckets, `heads[w]` being the newest bucket index
    (-1 when empty); bucket index i of window w holds N_TYPES counts starting at
    `offset + (i % n_buckets) * N_TYPES`.
    """

    heads: list[int] = field(default_factory=_empty_heads)
    cells: list[int] = field(default_factory=_empty_cells)

    def add(self, timestamp: float, type_position: int, count: int = 1) -> None:
        """Count an event in every window, advancing rings it is the newest of (mutates)."""
        heads, cells = self.heads, self.cells
        for position, spec in enumerate(WINDOWS):
            index = int(timestamp // spec.width)
            head = heads[position]
            if index > head:
                self._advance(spec, head, index)
                heads[position] = index
            elif index <= head - spec.n_buckets:
                continue
            cells[spec.offset + (index % spec.n_buckets) * N_TYPES + type_position] += count

    def _advance(self, spec: WindowSpec, head: int, index: int) -> None:
        n_buckets, cells = spec.n_buckets, self.cells
        if index - head >= n_buckets:
            cells[spec.offset : spec.offset + n_buckets * N_TYPES] = spec.zeros
            return
        for stale in range(head + 1, index + 1):
            start = spec.offset + (stale % n_buckets) * N_TYPES
            cells[start : start + N_TYPES] = _ZERO_ROW

    def per_type(self, spec: WindowSpec, now: float) -> list[int]:
        """Events of each type (in EVENT_TYPES order) in the window ending at `now`."""
        n_buckets, head = spec.n_buckets, self.heads[WINDOWS.index(spec)]
        current = int(now // spec.width)
        totals = [0] * N_TYPES
        for index in range(max(current, head) - n_buckets + 1, min(current, head) + 1):
            start = spec.offset + (index % n_buckets) * N_TYPES
            for position, count in enumerate(self.cells[start : start + N_TYPES]):
                totals[position] += count
        return totals

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form: {"heads": [int per window], "cells": [int, ...]}."""
        return {"heads": self.heads.copy(), "cells": self.cells.copy()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowCounts:
        """Inverse of `to_json` (copies the lists)."""
        return cls(heads=list(data["heads"]), cells=list(data["cells"]))
