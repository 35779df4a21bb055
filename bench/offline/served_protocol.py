"""Served-path quality: chronological leave-one-out, pages from the serving steps.

Each user's last interaction (by timestamp, ties by event id) is held out. Every earlier event
is folded into the user's table state by `tables.user.apply_interaction`, the fold the worker
runs, and read back through `agents.views.user_view`, as the API reads it. Pages come from
`models.pipeline.recommend` over `offline.served` contexts, so the figures are those of
`GET /v1/recommendations` on the same state and bundle.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from tqdm import tqdm

from agents.views import user_view
from models.bundle import ModelBundle
from models.context import PageQuery, ServingConfig
from models.pipeline import recommend
from models.sources import RECENCY_STEP
from models.types import ItemMeta, UserView
from offline.served import OfflineWorld, context_for
from schemas.validate import ValidEvent
from tables.user import UserState, apply_interaction

Pages = dict[str, list[str]]
CONSUMING = frozenset({"rating", "purchase"})


@dataclass(frozen=True)
class LeaveOneOut:
    """Training events (ordered), each user's held-out item and its time, and the users to
    evaluate."""

    train: pl.DataFrame
    held_out: dict[str, str]
    users: list[str]
    held_at: dict[str, float]


def leave_last_out(events: pl.DataFrame) -> LeaveOneOut:
    """Hold out each user's last event; users with one event are kept for training only.

    Events are ordered as the user table and training order them: by timestamp, simultaneous
    ones by event id (on MovieLens about 4 in 10 users' last rating shares its second with the
    one before)."""
    ordered = events.sort(["user_id", "timestamp", "event_id"]).with_row_index("row")
    last = pl.col("row") == pl.col("row").last().over("user_id")
    enough = pl.len().over("user_id") > 1
    test = ordered.filter(last & enough)
    train = ordered.filter(~(last & enough)).drop("row")
    held = dict(zip(test["user_id"].to_list(), test["item_id"].to_list(), strict=True))
    at = dict(zip(test["user_id"].to_list(), test["timestamp"].to_list(), strict=True))
    return LeaveOneOut(train, held, sorted(held), at)


def fold_users(
    train: pl.DataFrame, meta: Mapping[str, ItemMeta], users: Iterable[str]
) -> dict[str, UserView]:
    """Each user's view after folding their training events, as the API would read it."""
    wanted = set(users)
    states: dict[str, UserState] = {}
    columns = ("event_id", "user_id", "item_id", "type", "timestamp", "value")
    for row in tqdm(
        train.select(columns).iter_rows(named=True), total=train.height, desc="fold", disable=None
    ):
        if row["user_id"] not in wanted:
            continue
        item = meta.get(row["item_id"])
        event = ValidEvent(**row, context=None)
        category = item.category if item is not None else None
        state, _ = apply_interaction(states.get(row["user_id"]), event, category)
        states[row["user_id"]] = state
    views = {user: user_view(user, state.to_json(), None) for user, state in states.items()}
    return {user: view for user, view in views.items() if view is not None}


def served_pages(
    world: OfflineWorld | Callable[[str], OfflineWorld],
    views: Mapping[str, UserView],
    config: ServingConfig,
    k: int,
) -> Pages:
    """Every user's page from the serving pipeline (seeded per user), in `world` or in the
    world it gives for the user."""
    pages: Pages = {}
    world_of = (lambda _: world) if isinstance(world, OfflineWorld) else world
    for user, view in tqdm(views.items(), desc="pages", disable=None):
        seed = zlib.crc32(user.encode())
        ctx = context_for(world_of(user), view, config, PageQuery(count=k), seed)
        pages[user] = [item.item_id for item in recommend(ctx)]
    return pages


def consumed_items(train: pl.DataFrame) -> dict[str, frozenset[str]]:
    """Per user, the items they rated or bought in the training events."""
    grouped = (
        train.filter(pl.col("type").is_in(list(CONSUMING)))
        .group_by("user_id")
        .agg(pl.col("item_id").unique())
    )
    return {user: frozenset(items) for user, items in grouped.iter_rows()}


def ranked_pages(
    bundle: ModelBundle,
    users: Iterable[str],
    scores_of: Callable[[str], np.ndarray | None],
    seen: Mapping[str, frozenset[str]],
    k: int,
) -> Pages:
    """Top-k of a per-user score vector over the bundle's items, seen items excluded; users
    without scores get the most popular unseen items."""
    pages: Pages = {}
    for user in users:
        scores = scores_of(user)
        scores = bundle.log_popularity.copy() if scores is None else scores.astype(np.float64)
        banned = bundle.item_rows(seen.get(user, frozenset()))
        scores[banned] = -np.inf
        top = np.argpartition(-scores, k)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        pages[user] = [bundle.item_names[row] for row in top.tolist() if scores[row] > -np.inf]
    return pages


def transition_scores(
    bundle: ModelBundle, views: Mapping[str, UserView], last: int = 5
) -> Callable[[str], np.ndarray | None]:
    """Scores from the learned transitions of the user's `last` distinct recent items."""

    def scores(user: str) -> np.ndarray | None:
        view = views.get(user)
        if view is None:
            return None
        recent = list(dict.fromkeys(h.item_id for h in view.history))[:last]
        total = np.zeros(len(bundle.item_names))
        for position, item in enumerate(recent):
            row = bundle.item_index.get(item)
            if row is None:
                continue
            rows, found = bundle.next_items[row], bundle.next_scores[row]
            known = rows >= 0
            np.add.at(total, rows[known], found[known] * RECENCY_STEP**position)
        return total + 1e-9 * bundle.log_popularity

    return scores


def page_metrics(
    pages: Pages,
    held_out: Mapping[str, str],
    consumed: Mapping[str, frozenset[str]],
    category: Callable[[str], str],
    catalog_size: int,
    k: int,
) -> dict[str, float]:
    """HR@k, NDCG@k, share of consumed items on pages, catalogue coverage and the largest
    category share of a page (mean and worst)."""
    hits, gains, consumed_shown, shown, largest = 0, 0.0, 0, 0, []
    distinct: set[str] = set()
    for user, page in pages.items():
        target = held_out[user]
        if target in page[:k]:
            hits += 1
            gains += 1.0 / math.log2(page.index(target) + 2)
        mine = consumed.get(user, frozenset())
        consumed_shown += sum(item in mine for item in page)
        shown += len(page)
        distinct.update(page)
        if page:
            counts = Counter(category(item) for item in page)
            largest.append(max(counts.values()) / len(page))
    users = max(len(pages), 1)
    return {
        "users": float(len(pages)),
        "hr": hits / users,
        "ndcg": gains / users,
        "consumed_share": consumed_shown / max(shown, 1),
        "coverage": len(distinct) / max(catalog_size, 1),
        "category_share_mean": float(np.mean(largest)) if largest else 0.0,
        "category_share_max": max(largest, default=0.0),
    }
