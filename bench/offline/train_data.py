"""Synthetic training sets for bench/offline/train.py, deterministic for a seed.

Item popularity is log-uniform (the item of popularity rank r is drawn with odds about
1/(r+1), so the head carries most events and the tail stays long); each user prefers one
category and keeps a few staples they come back to (a grocery list), and events come in
baskets that share a timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

START = 1_600_000_000.0
DAY = 86_400.0
WORDS = 2_000


@dataclass(frozen=True)
class Shape:
    """Size and habits of one synthetic set: `repeat` is the share of events on a staple,
    `taste` the share drawn from the user's category; `types` are drawn with `odds`."""

    events: int
    items: int
    users: int
    repeat: float
    taste: float
    types: tuple[str, ...]
    odds: tuple[float, ...]
    basket: int = 6
    staples: int = 12
    days: float = 365.0


SHOP = Shape(
    2_000_000,
    1_000_000,
    200_000,
    0.1,
    0.5,
    ("view", "click", "add_to_cart", "purchase"),
    (0.6, 0.25, 0.1, 0.05),
)
SHAPES: dict[str, Shape] = {
    "grocery": Shape(816_000, 22_000, 10_000, 0.45, 0.3, ("purchase",), (1.0,)),
    "catalog-1m": SHOP,
    "events-10m": replace(SHOP, events=10_000_000, users=500_000),
}


def _ranked(rng: np.random.Generator, size: int, count: int) -> np.ndarray:
    """`size` popularity ranks in [0, count), rank r with odds about 1/(r+1)."""
    ranks = np.exp(rng.random(size) * np.log(count + 1.0)) - 1.0
    return np.asarray(np.minimum(ranks.astype(np.int64), count - 1))


def _in_category(rng: np.random.Generator, categories: np.ndarray, shape: Shape) -> np.ndarray:
    """A popularity rank for each draw, among the ranks of its category (rank % categories)."""
    count = _categories(shape)
    per = _ranked(rng, len(categories), shape.items // count)
    return np.asarray(np.minimum(categories + count * per, shape.items - 1))


def _categories(shape: Shape) -> int:
    return max(shape.items // 200, 1)


def _per_user(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    """Events of each user (at least one), heavy-tailed, summing to `shape.events`."""
    weights = rng.lognormal(0.0, 1.0, shape.users)
    extra = rng.multinomial(shape.events - shape.users, weights / weights.sum())
    return np.asarray(extra + 1, dtype=np.int64)


def _item_ranks(rng: np.random.Generator, user: np.ndarray, shape: Shape) -> np.ndarray:
    """Each event's item popularity rank: a staple, the user's category, or anything."""
    taste = rng.integers(0, _categories(shape), shape.users)
    staples = _in_category(rng, np.repeat(taste, shape.staples), shape)
    staples = staples.reshape(shape.users, shape.staples)
    draw = rng.random(len(user))
    ranks = _ranked(rng, len(user), shape.items)
    liked = draw < shape.taste + shape.repeat
    ranks[liked] = _in_category(rng, taste[user[liked]], shape)
    again = draw < shape.repeat
    ranks[again] = staples[user[again], rng.integers(0, shape.staples, int(again.sum()))]
    return ranks


def _timestamps(rng: np.random.Generator, per_user: np.ndarray, shape: Shape) -> np.ndarray:
    """Per user, increasing times over `shape.days`; events of one basket share a time."""
    total = int(per_user.sum())
    starts = np.repeat(np.cumsum(per_user) - per_user, per_user)
    position = np.arange(total) - starts
    baskets = np.repeat((per_user + shape.basket - 1) // shape.basket, per_user)
    offset = rng.random(len(per_user)) * shape.days * DAY / 2
    spacing = np.repeat(shape.days * DAY / 2, total) / baskets
    return np.asarray(START + np.repeat(offset, per_user) + (position // shape.basket) * spacing)


def _order(shape: Shape, seed: int) -> np.ndarray:
    """The item number at each popularity rank."""
    return np.random.default_rng(seed + 2).permutation(shape.items)


def events(shape: Shape, seed: int) -> pl.DataFrame:
    """The events of `shape`, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    per_user = _per_user(rng, shape)
    user = np.repeat(np.arange(shape.users), per_user)
    item = _order(shape, seed)[_item_ranks(rng, user, shape)]
    kinds = np.array(shape.types)[rng.choice(len(shape.types), len(user), p=shape.odds)]
    frame = pl.DataFrame(
        {
            "n": np.arange(len(user)),
            "user": user,
            "item": item,
            "type": kinds,
            "timestamp": _timestamps(rng, per_user, shape),
        }
    )
    return frame.select(
        event_id=pl.format("e{}", "n"),
        user_id=pl.format("u{}", "user"),
        item_id=pl.format("i{}", "item"),
        type=pl.col("type"),
        timestamp=pl.col("timestamp"),
        value=pl.lit(None, dtype=pl.Float64),
    )


def catalog(shape: Shape, seed: int) -> pl.DataFrame:
    """Every item of `shape`: a three-word title, its category and a brand tag."""
    rng = np.random.default_rng(seed + 1)
    words = rng.integers(0, WORDS, size=(shape.items, 3))
    rank = np.empty(shape.items, dtype=np.int64)
    rank[_order(shape, seed)] = np.arange(shape.items)
    frame = pl.DataFrame(
        {
            "n": np.arange(shape.items),
            "a": words[:, 0],
            "b": words[:, 1],
            "c": words[:, 2],
            "category": rank % _categories(shape),
            "brand": rng.integers(0, 500, shape.items),
        }
    )
    return frame.select(
        item_id=pl.format("i{}", "n"),
        title=pl.format("w{} w{} w{}", "a", "b", "c"),
        category=pl.format("c{}", "category"),
        tags=pl.concat_list(pl.format("c{}", "category"), pl.format("brand{}", "brand")),
        price=(pl.col("n") % 97).cast(pl.Float64) + 0.99,
        in_stock=pl.lit(True),
        created_at=pl.lit(START) - (pl.col("n") % 365).cast(pl.Float64) * DAY,
    )


def write(name: str, folder: Path, seed: int) -> tuple[Path, Path]:
    """events.parquet and items.parquet of the shape `name` under `folder` (kept once made)."""
    target = folder / f"{name}-seed{seed}"
    paths = target / "events.parquet", target / "items.parquet"
    if all(path.is_file() for path in paths):
        return paths
    target.mkdir(parents=True, exist_ok=True)
    shape = SHAPES[name]
    catalog(shape, seed).write_parquet(paths[1])
    events(shape, seed).write_parquet(paths[0])
    return paths
