"""Training builds the consumed set of a user view exactly as the user table folds it."""

from __future__ import annotations

import numpy as np
import polars as pl

from models.weights import EventWeighting
from offline.views import user_views
from streamrec.interactions import DISLIKED, RATING, VIEW
from tables.user import UserState, apply_interaction
from tests.unit.tables.factories import event

TYPES = ("view", "click", "add_to_cart", "purchase", "rating")


def random_events(count: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(TYPES, count)
    return pl.DataFrame(
        {
            "event_id": [f"e{n:04d}" for n in range(count)],
            "user_id": rng.choice(["u1", "u2"], count).tolist(),
            "item_id": [f"i{n}" for n in rng.integers(0, 30, count)],
            "type": kinds.tolist(),
            "timestamp": rng.integers(0, 400, count).astype(float).tolist(),
            "value": [float(rng.integers(1, 6)) if k == "rating" else None for k in kinds],
        },
        schema_overrides={"value": pl.Float64},
    )


def folded(events: pl.DataFrame, user: str, cap: int) -> UserState:
    state: UserState | None = None
    ordered = events.filter(pl.col("user_id") == user).sort(["timestamp", "item_id"])
    for row in ordered.iter_rows(named=True):
        interaction = event(
            row["event_id"], row["timestamp"], row["type"], row["item_id"], row["value"], user
        )
        state, _ = apply_interaction(state, interaction, None, consumed_cap=cap)
    assert state is not None
    return state


def test_the_offline_consumed_set_equals_the_online_fold_in_time_order() -> None:
    events = random_events(600)
    views = user_views(events, ["u1", "u2"], 1e9, {}, EventWeighting())
    for user in ("u1", "u2"):
        online = folded(events, user, 5000).interacted
        assert list(views[user].interacted.items()) == list(online.items())


def test_over_the_cap_training_keeps_the_same_items_as_the_online_fold() -> None:
    events = random_events(600)
    views = user_views(events, ["u1", "u2"], 1e9, {}, EventWeighting(), consumed_cap=12)
    for user in ("u1", "u2"):
        assert list(views[user].interacted) == list(folded(events, user, 12).interacted)


def test_the_consumed_set_uses_every_event_before_the_cut_not_only_the_history() -> None:
    events = pl.DataFrame(
        {
            "event_id": ["a", "b", "c", "d"],
            "user_id": ["u1"] * 4,
            "item_id": ["i1", "i2", "i3", "i4"],
            "type": ["rating", "view", "view", "view"],
            "timestamp": [1.0, 2.0, 3.0, 9.0],
            "value": [1.0, None, None, None],
        }
    )

    view = user_views(events, ["u1"], 5.0, {}, EventWeighting(), history_size=1)["u1"]

    assert [entry.item_id for entry in view.history] == ["i3"]
    assert view.interacted == {"i1": RATING | DISLIKED, "i2": VIEW, "i3": VIEW}
