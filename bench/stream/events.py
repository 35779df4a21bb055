"""The synthetic events of the stream benchmarks: users and items drawn uniformly or Zipf-like."""

from __future__ import annotations

import argparse
import itertools
import random
from collections.abc import Callable
from typing import Any

from schemas.records import EVENT_TYPES

TYPE_WEIGHTS = (60, 25, 8, 4, 3)
START = 1_700_000_000.0
LATE_S = 3600.0


def _drawer(rng: random.Random, count: int, skew: float) -> Callable[[], int]:
    """Draws of 0..count-1: uniform when `skew` is 0, else rank r with weight 1 / (r + 1)**skew."""
    if skew <= 0:
        return lambda: rng.randrange(count)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** skew for rank in range(count)))
    ranks = range(count)
    return lambda: rng.choices(ranks, cum_weights=cumulative)[0]


def synthetic_events(
    count: int,
    users: int,
    items: int,
    skew: float = 0.0,
    seed: int = 7,
    per_second: float = 10.0,
    late: float = 0.0,
) -> list[dict[str, Any]]:
    """`count` valid events over `users` users and `items` items, `per_second` per event-time
    second; a `late` share of them arrives up to an hour late (event time before its turn)."""
    rng = random.Random(seed)
    types = rng.choices(EVENT_TYPES, weights=TYPE_WEIGHTS, k=count)
    user, item = _drawer(rng, users, skew), _drawer(rng, items, skew)
    events = []
    for n, kind in enumerate(types):
        event: dict[str, Any] = {
            "event_id": f"b{n}",
            "user_id": f"u{user()}",
            "item_id": f"i{item()}",
            "type": kind,
            "timestamp": START + n / per_second,
        }
        if kind == "rating":
            event["value"] = float(rng.randint(1, 5))
        if late and rng.random() < late:
            event["timestamp"] -= rng.uniform(0, LATE_S)
        events.append(event)
    return events


def backlog_options(parser: argparse.ArgumentParser, events: int, users: int, items: int) -> None:
    """--events, --users and --items: the size and key space of a synthetic backlog."""
    parser.add_argument("--events", type=int, default=events, help=f"events ({events})")
    parser.add_argument("--users", type=int, default=users, help=f"distinct user ids ({users})")
    parser.add_argument("--items", type=int, default=items, help=f"distinct item ids ({items})")
