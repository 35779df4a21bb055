"""Train/test splits of an event log for offline evaluation: temporal and RecBole's protocol.

Events are a Polars frame with at least user_id, item_id, type, timestamp and value.
A positive interaction is a click, add_to_cart or purchase, or a rating of at least
`min_rating` (views are never relevant). Every split returns the training events, the
relevant (user, item) pairs of the test part, the pairs to exclude from ranking, and the
catalog ranked over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from streamrec.errors import ModelFitError

PROTOCOLS: tuple[str, ...] = ("temporal", "recbole")
POSITIVE_TYPES: tuple[str, ...] = ("click", "add_to_cart", "purchase")
PAIR = ("user_id", "item_id")


@dataclass(frozen=True)
class Split:
    """Training events, relevant test pairs, pairs excluded at ranking and the catalog."""

    protocol: str
    train: pl.DataFrame
    test: pl.DataFrame
    exclude: pl.DataFrame
    items: list[str]
    params: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """Sizes of the split, for reports."""
        return {
            "train_events": self.train.height,
            "train_users": self.train["user_id"].n_unique(),
            "test_pairs": self.test.height,
            "test_users": self.test["user_id"].n_unique(),
            "catalog_items": len(self.items),
        }


def positive(min_rating: float) -> pl.Expr:
    """True for interactions that count as relevant."""
    rating_ok = (pl.col("type") == "rating") & (pl.col("value") >= min_rating)
    return pl.col("type").is_in(POSITIVE_TYPES) | rating_ok.fill_null(False)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _require_rows(frame: pl.DataFrame, what: str) -> None:
    if frame.is_empty():
        raise ModelFitError(f"the split leaves no {what}")


def default_cutoff(events: pl.DataFrame, train_share: float = 0.8) -> float:
    """The time by which `train_share` of the events had happened (those go to training)."""
    times = events["timestamp"].sort()
    position = min(math.ceil(train_share * times.len()), times.len() - 1)
    return float(times[position])


def temporal_split(
    events: pl.DataFrame,
    *,
    cutoff: float | None = None,
    train_share: float = 0.8,
    min_rating: float = 3.0,
) -> Split:
    """Train on events before the cutoff, test on later positives of users seen in training."""
    if cutoff is None:
        cutoff = default_cutoff(events, train_share)
    train = events.filter(pl.col("timestamp") < cutoff)
    _require_rows(train, "training events before the cutoff")
    seen = train.select(PAIR).unique()
    test = (
        events.filter((pl.col("timestamp") >= cutoff) & positive(min_rating))
        .select(PAIR)
        .unique()
        .join(seen.select("user_id").unique(), on="user_id", how="semi")
        .join(seen, on=list(PAIR), how="anti")
        .sort(PAIR)
    )
    _require_rows(test, "test user with a new positive item after the cutoff")
    params = {
        "cutoff": _iso(cutoff),
        "train_share": f"{train_share:g} of events before the cutoff",
        "relevant": f"positive test items not seen in training (rating >= {min_rating:g})",
        "exclude": "items the user interacted with in training",
    }
    return Split("temporal", train, test, seen, _catalog(events), params)


def _catalog(events: pl.DataFrame) -> list[str]:
    return sorted(events["item_id"].unique().to_list())


def k_core(pairs: pl.DataFrame, core: int) -> pl.DataFrame:
    """Drop users and items with fewer than `core` interactions until none is left."""
    while True:
        before = pairs.height
        pairs = pairs.filter(
            (pl.len().over("user_id") >= core) & (pl.len().over("item_id") >= core)
        )
        if pairs.height == before:
            return pairs


def split_counts(total: int, ratios: tuple[float, float, float]) -> tuple[int, int, int]:
    """Train, valid and test sizes of one user's group, as RecBole's RS split computes them."""
    counts = [int(ratio * total) for ratio in ratios]
    counts[0] = total - sum(counts[1:])
    for i in range(1, len(ratios)):
        if counts[0] <= 1:
            break
        if 0 < ratios[-i] * total < 1:
            counts[-i] += 1
            counts[0] -= 1
    return counts[0], counts[1], counts[2]


def _assign_parts(
    pairs: pl.DataFrame, ratios: tuple[float, float, float], seed: int
) -> pl.DataFrame:
    shuffled = pairs.sample(fraction=1.0, shuffle=True, seed=seed)
    sizes = shuffled.group_by("user_id").len("n")
    bounds = pl.DataFrame(
        [(n, *split_counts(n, ratios)) for n in sizes["n"].unique().to_list()],
        schema=["n", "n_train", "n_valid", "n_test"],
        orient="row",
    ).cast(pl.UInt32)
    position = pl.int_range(pl.len()).over("user_id").cast(pl.UInt32)
    part = (
        pl.when(pl.col("position") < pl.col("n_train"))
        .then(pl.lit("train"))
        .when(pl.col("position") < pl.col("n_train") + pl.col("n_valid"))
        .then(pl.lit("valid"))
        .otherwise(pl.lit("test"))
    )
    return (
        shuffled.with_columns(position=position)
        .join(sizes.with_columns(pl.col("n").cast(pl.UInt32)), on="user_id")
        .join(bounds, on="n")
        .with_columns(part=part)
        .drop("position", "n", "n_train", "n_valid", "n_test")
    )


def recbole_split(
    events: pl.DataFrame,
    *,
    seed: int = 2020,
    min_rating: float = 3.0,
    core: int = 10,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> Split:
    """RecBole's general-recommendation protocol: filter, k-core, random 8:1:1 split per user."""
    pairs = (
        events.filter(positive(min_rating))
        .sort("timestamp")
        .unique(subset=list(PAIR), keep="first", maintain_order=True)
    )
    pairs = k_core(pairs, core)
    _require_rows(pairs, f"interactions after {core}-core filtering")
    parts = _assign_parts(pairs, ratios, seed)
    train = parts.filter(pl.col("part") == "train").drop("part")
    exclude = parts.filter(pl.col("part") != "test").select(PAIR)
    test = parts.filter(pl.col("part") == "test").select(PAIR).sort(PAIR)
    params = {
        "filter": f"positive interactions only (rating >= {min_rating:g}, val_interval [3,inf))",
        "core": f"{core}-core on users and items, iterated to a fixed point",
        "split": f"RS {list(ratios)}, order RO, group_by user, seed {seed}",
        "relevant": "the user's test part",
        "exclude": "the user's train and valid items (RecBole's test-phase history mask)",
        "trained_on": "train part only",
    }
    return Split("recbole", train, test, exclude, _catalog(pairs), params)


def split_events(events: pl.DataFrame, protocol: str, *, seed: int = 2020) -> Split:
    """The split named by `protocol` (one of PROTOCOLS)."""
    if protocol == "temporal":
        return temporal_split(events)
    if protocol == "recbole":
        return recbole_split(events, seed=seed)
    raise ValueError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
