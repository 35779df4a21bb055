"""The synthetic backlog of the stream benchmark: users and items drawn uniformly or Zipf-like."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

TYPES = ("view", "click", "add_to_cart", "purchase", "rating")
TYPE_WEIGHTS = (60, 25, 8, 4, 3)
START = 1_700_000_000.0


def _drawer(rng: random.Random, count: int, skew: float) -> Callable[[], int]:
    """Draws of 0..count-1: uniform when `skew` is 0, else rank r with weight 1 / (r + 1)**skew."""
    if skew <= 0:
        return lambda: rng.randrange(count)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** skew for rank in range(count)))
    ranks = range(count)
    return lambda: rng.choices(ranks, cum_weights=cumulative)[0]


def synthetic_events(
    count: int, users: int, items: int, skew: float = 0.0, seed: int = 7
) -> list[dict[str, Any]]:
    """`count` valid events over `users` users and `items` items, ten per event-time second."""
    rng = random.Random(seed)
    types = rng.choices(TYPES, weights=TYPE_WEIGHTS, k=count)
    user, item = _drawer(rng, users, skew), _drawer(rng, items, skew)
    return [
        {
            "event_id": f"b{n}",
            "user_id": f"u{user()}",
            "item_id": f"i{item()}",
            "type": kind,
            "timestamp": START + n / 10,
            **({"value": float(rng.randint(1, 5))} if kind == "rating" else {}),
        }
        for n, kind in enumerate(types)
    ]
