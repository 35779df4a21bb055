"""Lake snapshots at a moment: user views, item signals and catalog lookups, from events before it.

Everything here filters `timestamp < at` first, so nothing at or after `at` can leak in.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from models.types import HistoryItem, ItemMeta, ItemSignals, UserView
from models.weights import EventWeighting
from offline.etl import weight_expr
from streamrec.errors import ModelFitError
from streamrec.interactions import CONSUMED_CAP, DISLIKE_RATING, DISLIKED, HISTORY_SIZE, TYPE_BITS

HOUR = 3600.0
DAY = 86400.0


def meta_lookup(items: pl.DataFrame | None) -> dict[str, ItemMeta]:
    """ItemMeta per item id from the catalog frame."""
    if items is None:
        return {}
    table: dict[str, ItemMeta] = {}
    for row in items.iter_rows(named=True):
        table[str(row["item_id"])] = ItemMeta(
            item_id=str(row["item_id"]),
            title=row.get("title") or "",
            category=row.get("category") or "",
            tags=tuple(row.get("tags") or ()),
            price=row.get("price"),
            in_stock=bool(row.get("in_stock", True) if row.get("in_stock") is not None else True),
            created_at=row.get("created_at"),
        )
    return table


def before(events: pl.DataFrame, at: float) -> pl.LazyFrame:
    """Events strictly before `at`."""
    return events.lazy().filter(pl.col("timestamp") < at)


def signals_snapshot(events: pl.DataFrame, at: float) -> dict[str, ItemSignals]:
    """ItemSignals per item as the item tables would have held them at `at`."""
    recent = pl.col("timestamp") >= at - DAY
    week = (pl.col("timestamp") >= at - 8 * DAY) & ~recent
    frame = (
        before(events, at)
        .group_by("item_id")
        .agg(
            views_24h=(recent & (pl.col("type") == "view")).sum(),
            clicks_24h=(recent & (pl.col("type") == "click")).sum(),
            purchases_24h=(recent & (pl.col("type") == "purchase")).sum(),
            events_1h=(pl.col("timestamp") >= at - HOUR).sum(),
            events_24h=recent.sum(),
            events_week=week.sum(),
            events_all=pl.len(),
            last_event_at=pl.col("timestamp").max(),
        )
        .with_columns(trending=pl.col("events_24h") / (1.0 + pl.col("events_week") / 7.0))
        .collect()
    )
    names = ("views_24h", "clicks_24h", "purchases_24h", "events_1h", "events_all")
    return {
        row["item_id"]: ItemSignals(
            item_id=row["item_id"],
            **{name: int(row[name]) for name in names},
            trending=float(row["trending"]),
            last_event_at=float(row["last_event_at"]),
        )
        for row in frame.iter_rows(named=True)
    }


def trending_items(signals: dict[str, ItemSignals], limit: int = 200) -> list[str]:
    """Item ids by trend, then all-time volume, best first."""
    ranked = sorted(signals.values(), key=lambda s: (-s.trending, -s.events_all, s.item_id))
    return [s.item_id for s in ranked[:limit]]


def _affinities(frame: pl.LazyFrame, meta: dict[str, ItemMeta]) -> dict[str, dict[str, float]]:
    if not meta:
        return {}
    categories = pl.DataFrame(
        {"item_id": list(meta), "category": [m.category for m in meta.values()]}
    ).lazy()
    summed = (
        frame.join(categories, on="item_id")
        .filter(pl.col("category") != "")
        .group_by(["user_id", "category"])
        .agg(pl.col("weight").sum())
        .collect()
    )
    result: dict[str, dict[str, float]] = {}
    for user_id, category, weight in summed.iter_rows():
        result.setdefault(user_id, {})[category] = float(weight)
    return result


def _interacted(frame: pl.LazyFrame, cap: int, dislike_rating: float) -> dict[str, dict[str, int]]:
    """Per user, interaction bits per item as the user table folds them: least recently touched
    first, the last `cap` items, DISLIKED when a latest rating of the item is low."""
    rating = pl.col("type") == "rating"
    low = rating & (pl.col("value") <= dislike_rating)
    latest_low = pl.col("timestamp").filter(low).max() == pl.col("timestamp").filter(rating).max()
    grouped = (
        frame.with_columns(
            bit=pl.col("type").replace_strict(TYPE_BITS, default=0, return_dtype=pl.Int64)
        )
        .group_by(["user_id", "item_id"])
        .agg(
            bits=pl.col("bit").unique().sum(),
            touched=pl.col("timestamp").max(),
            disliked=latest_low.fill_null(False),
        )
        .with_columns(bits=pl.col("bits") | pl.when("disliked").then(DISLIKED).otherwise(0))
        .sort(["user_id", "touched", "item_id"])
        .group_by("user_id", maintain_order=True)
        .agg(pl.col("item_id").tail(cap), pl.col("bits").tail(cap))
        .collect()
    )
    return {user: dict(zip(items, bits, strict=True)) for user, items, bits in grouped.iter_rows()}


def user_views(
    events: pl.DataFrame,
    user_ids: Iterable[str],
    at: float,
    meta: dict[str, ItemMeta],
    weighting: EventWeighting,
    history_size: int = HISTORY_SIZE,
    *,
    consumed_cap: int = CONSUMED_CAP,
    dislike_rating: float = DISLIKE_RATING,
) -> dict[str, UserView]:
    """UserView per user from their events before `at`: last `history_size` events, purchases,
    counts by type, category affinity (weighted and decayed to `at`) and, from all their
    events, the interaction bits of their last `consumed_cap` items."""
    wanted = pl.Series("user_id", list(user_ids), dtype=pl.String)
    frame = (
        before(events, at)
        .filter(pl.col("user_id").is_in(wanted.implode()))
        .with_columns(weight=weight_expr(weighting, pl.lit(at)))
    )
    grouped = (
        frame.sort(["user_id", "timestamp", "event_id"])
        .group_by("user_id")
        .agg(
            items=pl.col("item_id").tail(history_size),
            types=pl.col("type").tail(history_size),
            times=pl.col("timestamp").tail(history_size),
            values=pl.col("value").tail(history_size),
            bought=pl.col("item_id").filter(pl.col("type") == "purchase"),
            all_types=pl.col("type"),
        )
        .collect()
    )
    affinities = _affinities(frame, meta)
    interacted = _interacted(frame, consumed_cap, dislike_rating)
    views: dict[str, UserView] = {}
    for row in grouped.iter_rows(named=True):
        history = [
            HistoryItem(i, t, ts, v)
            for i, t, ts, v in zip(
                row["items"], row["types"], row["times"], row["values"], strict=True
            )
        ]
        views[row["user_id"]] = UserView(
            user_id=row["user_id"],
            history=history,
            purchased=_counts(row["bought"]),
            category_affinity=affinities.get(row["user_id"], {}),
            counts=_counts(row["all_types"]),
            interacted=interacted.get(row["user_id"], {}),
        )
    return views


def _counts(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def assert_no_leakage(
    views: dict[str, UserView], signals: dict[str, ItemSignals], at: float
) -> None:
    """Refuse a training set whose features could see events at or after `at`."""
    for view in views.values():
        if any(event.timestamp >= at for event in view.history):
            raise ModelFitError(f"leakage: user {view.user_id} has history at or after the cut")
    for item in signals.values():
        if item.last_event_at is not None and item.last_event_at >= at:
            raise ModelFitError(f"leakage: item {item.item_id} has signals at or after the cut")
