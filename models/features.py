"""Feature rows for candidates: the one function both ranker training and serving call."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models.bundle import ModelBundle, user_vector
from models.candidates import SOURCES, recent_items
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
)
COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _retrieval_columns(rows: np.ndarray, candidates: Sequence[Candidate]) -> None:
    for r, candidate in enumerate(candidates):
        for source, score in candidate.source_scores.items():
            rows[r, COLUMN[f"score_{source}"]] = score
        rows[r, COLUMN["best_score"]] = candidate.score
        rows[r, COLUMN["n_sources"]] = max(len(candidate.source_scores), 1)


def _model_columns(
    rows: np.ndarray, bundle: ModelBundle, user: UserView, ids: Sequence[str], now: float
) -> None:
    item_rows = np.array([bundle.item_index.get(i, -1) for i in ids], dtype=np.int64)
    known = item_rows >= 0
    popularity = np.zeros(len(ids))
    popularity[known] = np.log1p(bundle.popularity[item_rows[known]])
    rows[:, COLUMN["popularity"]] = popularity
    vector = user_vector(bundle, user, now)
    if vector is not None:
        dots = np.full(len(ids), MISSING)
        dots[known] = bundle.item_factors[item_rows[known]] @ vector
        rows[:, COLUMN["als_dot"]] = dots
    rows[:, COLUMN["content_similarity"]] = _content_similarity(bundle, user, ids)


def _content_similarity(bundle: ModelBundle, user: UserView, ids: Sequence[str]) -> np.ndarray:
    similarity = np.zeros(len(ids))
    recent = [bundle.content_index[i] for i in recent_items(user, 5) if i in bundle.content_index]
    if not recent:
        return similarity
    profile = bundle.content_vectors[recent].mean(axis=0)
    content_rows = np.array([bundle.content_index.get(i, -1) for i in ids], dtype=np.int64)
    known = content_rows >= 0
    similarity[known] = bundle.content_vectors[content_rows[known]] @ profile
    return similarity


def _user_columns(
    rows: np.ndarray, user: UserView, candidates: Sequence[Candidate], now: float
) -> None:
    last_seen: dict[str, float] = {}
    events: dict[str, int] = {}
    for event in user.history:
        last_seen[event.item_id] = max(last_seen.get(event.item_id, -math.inf), event.timestamp)
        events[event.item_id] = events.get(event.item_id, 0) + 1
    for r, candidate in enumerate(candidates):
        anchor = candidate.anchor_item_id
        if anchor is not None and anchor in last_seen:
            rows[r, COLUMN["anchor_age_hours"]] = max(now - last_seen[anchor], 0.0) / 3600.0
        rows[r, COLUMN["user_item_events"]] = events.get(candidate.item_id, 0)
    rows[:, COLUMN["history_length"]] = len(user.history)


def _meta_columns(
    row: np.ndarray, item: ItemMeta | None, user: UserView, total: float, now: float
) -> None:
    if item is None:
        return
    if item.created_at is not None:
        row[COLUMN["item_age_days"]] = max(now - item.created_at, 0.0) / 86400.0
    if total > 0:
        row[COLUMN["category_affinity"]] = user.category_affinity.get(item.category, 0.0) / total
    row[COLUMN["price"]] = MISSING if item.price is None else item.price
    row[COLUMN["in_stock"]] = float(item.in_stock)


def _signal_columns(row: np.ndarray, live: ItemSignals | None, now: float) -> None:
    if live is None:
        return
    for name in SIGNAL_FEATURES:
        row[COLUMN[name]] = getattr(live, name)
    row[COLUMN["ctr_estimate"]] = live.arm_alpha / (live.arm_alpha + live.arm_beta)
    if live.last_event_at is not None:
        row[COLUMN["hours_since_item_event"]] = max(now - live.last_event_at, 0.0) / 3600.0


def empty_rows(count: int) -> np.ndarray:
    """Feature rows before any value is known: scores 0, the rest MISSING where it means so."""
    rows = np.zeros((count, len(FEATURE_NAMES)), dtype=np.float64)
    for name in ("als_dot", "item_age_days", "anchor_age_hours", "hours_since_item_event", "price"):
        rows[:, COLUMN[name]] = MISSING
    rows[:, COLUMN["ctr_estimate"]] = 0.5
    rows[:, COLUMN["in_stock"]] = 1.0
    return rows


def build_features(
    bundle: ModelBundle | None,
    user: UserView,
    candidates: Sequence[Candidate],
    signals: SignalsLookup,
    meta: MetaLookup,
    now: float,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """One row per candidate (columns FEATURE_NAMES), using only what `user`, `signals` and
    `meta` know at `now`; model columns stay MISSING/0 without a bundle."""
    rows = empty_rows(len(candidates))
    ids = [candidate.item_id for candidate in candidates]
    _retrieval_columns(rows, candidates)
    if bundle is not None and candidates:
        _model_columns(rows, bundle, user, ids, now)
    _user_columns(rows, user, candidates, now)
    total_affinity = sum(user.category_affinity.values())
    for r, item_id in enumerate(ids):
        _meta_columns(rows[r], meta(item_id), user, total_affinity, now)
        _signal_columns(rows[r], signals(item_id), now)
    return rows, FEATURE_NAMES
