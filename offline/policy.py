"""The catalogue's repeat rate and the consumption policy training recommends for it.

The recommendation lands in the manifest as `policy`; `models.consumption.resolve` reads it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from models.consumption import DEFAULT_CONSUMED

REBUY_REPEAT_RATE = 0.2
"""Repeat rate from which purchases may come back ("buy it again"): at one positive interaction
in five going to an item the user already liked, people plainly return to the same items, as with
groceries; films and books, watched or read once, stay near zero."""
LIKED_RATING = 4.0
POSITIVE_TYPES: tuple[str, ...] = ("purchase", "click", "add_to_cart")


def positive(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Purchases, clicks, adds to cart and ratings of at least LIKED_RATING."""
    liked = (pl.col("type") == "rating") & (pl.col("value").fill_null(0.0) >= LIKED_RATING)
    return frame.filter(pl.col("type").is_in(POSITIVE_TYPES) | liked)


def repeat_rates(events: pl.DataFrame | pl.LazyFrame) -> tuple[float, float]:
    """(share of positive interactions with an item the user had a positive interaction with
    before, share of purchases of an item the user had bought before); 0 without any."""
    counts = (
        positive(events.lazy())
        .select(
            positives=pl.len(),
            pairs=pl.struct("user_id", "item_id").n_unique(),
            purchases=(pl.col("type") == "purchase").sum(),
            bought_pairs=pl.struct("user_id", "item_id")
            .filter(pl.col("type") == "purchase")
            .n_unique(),
        )
        .collect()
        .row(0, named=True)
    )
    return (
        _share(counts["positives"] - counts["pairs"], counts["positives"]),
        _share(counts["purchases"] - counts["bought_pairs"], counts["purchases"]),
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def recommend_policy(events: pl.DataFrame | pl.LazyFrame) -> dict[str, Any]:
    """`{"consumed_types", "rebuy", "repeat_rate", "purchase_repeat_rate"}` for the manifest."""
    repeat_rate, purchase_repeat_rate = repeat_rates(events)
    return {
        "consumed_types": sorted(DEFAULT_CONSUMED),
        "rebuy": repeat_rate >= REBUY_REPEAT_RATE,
        "repeat_rate": round(repeat_rate, 6),
        "purchase_repeat_rate": round(purchase_repeat_rate, 6),
    }
