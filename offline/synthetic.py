"""Synthetic events with planted structure, for tests and benchmarks without a dataset.

Users of group g only touch items of block g; every user meets item `g-first` and then, as
the very next event, `g-second` (a planted "what comes next" pair).
"""

from __future__ import annotations

import numpy as np
import polars as pl

TYPES: tuple[str, ...] = ("view", "click", "add_to_cart", "purchase")
TYPE_ODDS: tuple[float, ...] = (0.6, 0.25, 0.1, 0.05)
START = 1_700_000_000.0


def item_id(group: int, index: int) -> str:
    """Name of item `index` of block `group`."""
    return f"g{group}-i{index}"


def planted_pair(group: int) -> tuple[str, str]:
    """The items of block `group` where the first is always followed by the second."""
    return item_id(group, 0), item_id(group, 1)


def blocks(
    groups: int = 3,
    users_per_group: int = 40,
    items_per_group: int = 30,
    events_per_user: int = 25,
    days: float = 30.0,
    seed: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(events, items) with block structure and the planted pairs."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str, float]] = []
    for group in range(groups):
        first, second = planted_pair(group)
        for u in range(users_per_group):
            user = f"u{group}-{u}"
            times = np.sort(START + rng.uniform(0, days * 86400.0, events_per_user))
            picks = rng.integers(2, items_per_group, events_per_user)
            kinds = rng.choice(len(TYPES), events_per_user, p=TYPE_ODDS)
            plant_at = int(rng.integers(0, events_per_user - 1))
            for e in range(events_per_user):
                item = item_id(group, int(picks[e]))
                if e == plant_at:
                    item = first
                elif e == plant_at + 1:
                    item = second
                rows.append((user, item, TYPES[int(kinds[e])], float(times[e])))
    events = pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "type": [r[2] for r in rows],
            "timestamp": [r[3] for r in rows],
            "value": [None] * len(rows),
        },
        schema_overrides={"value": pl.Float64},
    )
    return events, catalog(groups, items_per_group)


def catalog(groups: int, items_per_group: int) -> pl.DataFrame:
    """Items whose category and tags name their block."""
    ids = [item_id(g, i) for g in range(groups) for i in range(items_per_group)]
    return pl.DataFrame(
        {
            "item_id": ids,
            "title": [f"item {i} of block {i.split('-')[0]}" for i in ids],
            "category": [f"block{i.split('-')[0]}" for i in ids],
            "tags": [[f"tag{i.split('-')[0]}", "shared"] for i in ids],
            "price": [10.0 + n % 7 for n in range(len(ids))],
            "in_stock": [True] * len(ids),
            "created_at": [START - 86400.0 * (n % 50) for n in range(len(ids))],
        }
    )
