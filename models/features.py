"""Feature rows for candidates: the one function both ranker training and serving call."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter

import numpy as np

from models.bundle import ModelBundle, rows_of
from models.candidates import SOURCES, CandidateSet
from models.feature_stats import BLEND_ALS, ranks, reference_size, standardised
from models.fold import UserFold, fold_user
from models.similarity import content_similarity, history_similarity
from models.types import Candidate, ItemMeta, ItemSignals, MetaLookup, SignalsLookup, UserView

MISSING = -1.0
SCORE_FEATURES: tuple[str, ...] = tuple(f"score_{source}" for source in SOURCES)
SIGNAL_FEATURES: tuple[str, ...] = (
    "views_24h",
    "clicks_24h",
    "purchases_24h",
    "events_1h",
    "events_all",
    "trending",
    "impressions",
)
FEATURE_NAMES: tuple[str, ...] = (
    *SCORE_FEATURES,
    "best_score",
    "n_sources",
    "als_dot",
    "popularity",
    "item_age_days",
    "category_affinity",
    "anchor_age_hours",
    "user_item_events",
    *SIGNAL_FEATURES,
    "ctr_estimate",
    "hours_since_item_event",
    "price",
    "in_stock",
    "history_length",
    "content_similarity",
    "history_similarity",
    "ease_score",
    "ease_rank",
    "als_rank",
    "known_items",
    "ease_z",
    "als_z",
    "ease_als_blend",
    "sequence_score",
    "sequence_rank",
    "sequence_z",
)
MISSING_FIRST: tuple[str, ...] = (
    "als_dot",
    "item_age_days",
    "anchor_age_hours",
    "hours_since_item_event",
    "price",
    "ease_rank",
    "als_rank",
    "sequence_rank",
)
COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
SCORE_COLUMNS = [COLUMN[name] for name in SCORE_FEATURES]
SIGNAL_COLUMNS = [COLUMN[name] for name in SIGNAL_FEATURES]
ITEM_FIELDS: tuple[str, ...] = (
    "created_at",
    "price",
    "in_stock",
    *SIGNAL_FEATURES,
    "arm_alpha",
    "arm_beta",
    "last_event_at",
)
FIELD = {name: i for i, name in enumerate(ITEM_FIELDS)}
META_VALUES = attrgetter("created_at", "price", "in_stock")
SIGNAL_VALUES = attrgetter(*ITEM_FIELDS[3:])
UNKNOWN_ITEM = ItemMeta("", category="\x00unknown")
"""Stands in for an item the catalog lacks: its columns are the defaults of a missing item."""
NO_SIGNALS = ItemSignals("")
"""Stands in for an item without live signals: zero counts, a flat arm, no last event."""


@dataclass(frozen=True)
class ItemColumns:
    """Raw item-level values (ITEM_FIELDS, NaN for None) and categories of many items.

    Serving holds one built by the catalog sweep and indexes it per request; training builds
    one per call from its lookups. Either way `build_features` turns the same raw values into
    the same feature columns.
    """

    index: dict[str, int]
    values: np.ndarray
    categories: list[str]

    def rows(self, item_ids: Sequence[str]) -> np.ndarray:
        """Row of each id, -1 for ids this snapshot does not hold."""
        return rows_of(self.index, item_ids)


def item_values(
    items: Sequence[ItemMeta | None], found: Sequence[ItemSignals | None]
) -> tuple[np.ndarray, list[str]]:
    """Raw values (ITEM_FIELDS) and categories of items from their catalog rows and live
    signals (None: unknown)."""
    metas = [UNKNOWN_ITEM if item is None else item for item in items]
    lives = [NO_SIGNALS if live is None else live for live in found]
    values = np.empty((len(metas), len(ITEM_FIELDS)), dtype=np.float64)
    if len(metas):
        values[:, :3] = np.array(list(map(META_VALUES, metas)), dtype=np.float64)
        values[:, 3:] = np.array(list(map(SIGNAL_VALUES, lives)), dtype=np.float64)
    return values, [item.category for item in metas]


def item_columns(
    item_ids: Sequence[str],
    items: Sequence[ItemMeta | None],
    found: Sequence[ItemSignals | None],
) -> ItemColumns:
    """Raw values of each item from its catalog row and live signals (None: unknown)."""
    values, categories = item_values(items, found)
    index = {item_id: row for row, item_id in enumerate(item_ids)}
    return ItemColumns(index, values, categories)


def _looked_up(
    item_ids: Sequence[str], signals: SignalsLookup, meta: MetaLookup, held: ItemColumns | None
) -> tuple[np.ndarray, list[str]]:
    """Raw values and categories of `item_ids`, from `held` where it has them."""
    if held is None:
        fresh = item_columns(item_ids, list(map(meta, item_ids)), list(map(signals, item_ids)))
        return fresh.values, fresh.categories
    rows = held.rows(item_ids)
    values = held.values[rows]
    categories = list(map(held.categories.__getitem__, rows.tolist()))
    absent = np.flatnonzero(rows < 0).tolist()
    if absent:
        ids = [item_ids[r] for r in absent]
        fresh = item_columns(ids, list(map(meta, ids)), list(map(signals, ids)))
        values[absent] = fresh.values
        for position, row in enumerate(absent):
            categories[row] = fresh.categories[position]
    return values, categories


def _retrieval_columns(rows: np.ndarray, candidates: CandidateSet) -> None:
    present = ~np.isnan(candidates.source_scores)
    rows[:, SCORE_COLUMNS] = np.where(present, candidates.source_scores, 0.0)
    rows[:, COLUMN["best_score"]] = candidates.scores
    rows[:, COLUMN["n_sources"]] = np.maximum(present.sum(axis=1), 1)


def _model_columns(
    rows: np.ndarray, bundle: ModelBundle, user: UserView, chosen: CandidateSet, fold: UserFold
) -> None:
    ids, reference = chosen.ids, reference_size(bundle)
    item_rows = rows_of(bundle.item_index, ids) if chosen.rows is None else chosen.rows
    known = item_rows >= 0
    rows[known, COLUMN["popularity"]] = bundle.log_popularity[item_rows[known]]
    vector = fold.vector
    if vector is not None:
        dots = np.full(len(ids), MISSING)
        dots[known] = bundle.item_factors[item_rows[known]] @ vector
        rows[:, COLUMN["als_dot"]] = dots
    rows[:, COLUMN["content_similarity"]] = content_similarity(bundle, user, ids, item_rows)
    found = fold.ease
    rows[:, COLUMN["history_similarity"]] = history_similarity(bundle, user, item_rows, found)
    if found is not None:
        scores = np.zeros(len(ids))
        scores[known] = found.scores[item_rows[known]]
        rows[:, COLUMN["ease_score"]] = scores
        rows[:, COLUMN["ease_rank"]] = ranks(scores, reference)
        rows[:, COLUMN["known_items"]] = len(found.history)
    rows[:, COLUMN["als_rank"]] = ranks(rows[:, COLUMN["als_dot"]], reference)
    _blend_columns(rows, reference)
    if fold.sequence is not None:
        _sequence_columns(rows, fold.sequence.scores, item_rows, reference)


def _blend_columns(rows: np.ndarray, reference: int | None) -> None:
    """Each candidate's EASE and ALS scores standardised over this user's candidates (a tree
    cannot rescale per user) and their weighted sum."""
    ease = standardised(rows[:, COLUMN["ease_score"]], reference)
    als = standardised(rows[:, COLUMN["als_dot"]], reference)
    rows[:, COLUMN["ease_z"]] = ease
    rows[:, COLUMN["als_z"]] = als
    rows[:, COLUMN["ease_als_blend"]] = ease + BLEND_ALS * als


def _sequence_columns(
    rows: np.ndarray, scores: np.ndarray, item_rows: np.ndarray, reference: int | None
) -> None:
    """Each candidate's score as the user's next item, its rank and z-score among the user's
    candidates."""
    known = item_rows >= 0
    values = np.zeros(len(item_rows))
    values[known] = scores[item_rows[known]]
    rows[:, COLUMN["sequence_score"]] = values
    rows[:, COLUMN["sequence_rank"]] = ranks(values, reference)
    rows[:, COLUMN["sequence_z"]] = standardised(values, reference)


def _age(times: np.ndarray, now: float, unit: float) -> np.ndarray:
    """Age of each time in `unit` seconds (never negative), MISSING where there is no time."""
    age = np.maximum(now - times, 0.0) / unit
    return np.where(np.isnan(times), MISSING, age)


def _user_columns(rows: np.ndarray, user: UserView, candidates: CandidateSet, now: float) -> None:
    last_seen: dict[str | None, float] = {}
    events: dict[str, int] = {}
    for event in user.history:
        last_seen[event.item_id] = max(last_seen.get(event.item_id, -math.inf), event.timestamp)
        events[event.item_id] = events.get(event.item_id, 0) + 1
    if last_seen:
        seen = np.array(list(map(last_seen.get, candidates.anchors, repeat(None))), np.float64)
        rows[:, COLUMN["anchor_age_hours"]] = _age(seen, now, 3600.0)
        counts = map(events.get, candidates.ids, repeat(0))
        rows[:, COLUMN["user_item_events"]] = np.fromiter(counts, np.float64, len(candidates))
    rows[:, COLUMN["history_length"]] = len(user.history)


def _item_columns(
    rows: np.ndarray, values: np.ndarray, categories: list[str], user: UserView, now: float
) -> None:
    rows[:, COLUMN["item_age_days"]] = _age(values[:, FIELD["created_at"]], now, 86400.0)
    total = sum(user.category_affinity.values())
    if total > 0:
        affinity = map(user.category_affinity.get, categories, repeat(0.0))
        rows[:, COLUMN["category_affinity"]] = np.fromiter(affinity, np.float64, len(rows)) / total
    price = values[:, FIELD["price"]]
    rows[:, COLUMN["price"]] = np.where(np.isnan(price), MISSING, price)
    rows[:, COLUMN["in_stock"]] = values[:, FIELD["in_stock"]]
    rows[:, SIGNAL_COLUMNS] = values[:, [FIELD[name] for name in SIGNAL_FEATURES]]
    alpha, beta = values[:, FIELD["arm_alpha"]], values[:, FIELD["arm_beta"]]
    rows[:, COLUMN["ctr_estimate"]] = alpha / (alpha + beta)
    last = values[:, FIELD["last_event_at"]]
    rows[:, COLUMN["hours_since_item_event"]] = _age(last, now, 3600.0)


def empty_rows(count: int) -> np.ndarray:
    """Feature rows before any value is known: scores 0, the rest MISSING where it means so
    (stored column by column: every step fills whole columns, and the ranker reads them so)."""
    rows = np.zeros((count, len(FEATURE_NAMES)), dtype=np.float64, order="F")
    for name in MISSING_FIRST:
        rows[:, COLUMN[name]] = MISSING
    rows[:, COLUMN["ctr_estimate"]] = 0.5
    rows[:, COLUMN["in_stock"]] = 1.0
    return rows


def build_features(
    bundle: ModelBundle | None,
    user: UserView,
    candidates: Sequence[Candidate] | CandidateSet,
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
    *,
    items: ItemColumns | None = None,
    looked_up: tuple[np.ndarray, list[str]] | None = None,
    fold: UserFold | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """One row per candidate (columns FEATURE_NAMES), using only what `user`, `signals` and
    `meta` know at `now`; model columns stay MISSING/0 without a bundle. `items` is a
    snapshot of the same lookups (serving's catalog sweep) read instead of them where it
    holds the item; `looked_up` the candidates' raw values (ITEM_FIELDS) and categories
    when the caller already read them, one row per candidate; `fold` the user's vector and
    EASE scores when the caller has them."""
    chosen = candidates if isinstance(candidates, CandidateSet) else CandidateSet.of(candidates)
    rows = empty_rows(len(chosen))
    if not len(chosen):
        return rows, FEATURE_NAMES
    _retrieval_columns(rows, chosen)
    if bundle is not None:
        fold = fold_user(bundle, user, now) if fold is None else fold
        _model_columns(rows, bundle, user, chosen, fold)
    _user_columns(rows, user, chosen, now)
    values, categories = looked_up or _looked_up(chosen.ids, signals, meta, items)
    _item_columns(rows, values, categories, user, now)
    return rows, FEATURE_NAMES
