"""Train/serve parity: the offline evaluator and the HTTP API serve the same page for the same
folded state, bundle and seed (exploration off)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.views import user_view
from api.model_holder import ModelHolder
from models.context import CANDIDATE_LIMIT, PageQuery, ServingConfig
from models.pipeline import recommend
from models.types import UserView
from offline.served import context_for, world_at
from offline.synthetic import blocks
from offline.train import FittedModel, TrainParams, fit
from offline.views import signals_snapshot
from streamrec.settings import Settings
from tables.user import UserState, apply_interaction
from tests.unit.api.conftest import World, serve

PARAMS = TrainParams(
    factors=8, iterations=6, retriever="exact", similar_top=30, ranker_iterations=20, ranker_seeds=1
)


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    events, items = blocks(groups=3, users_per_group=20, items_per_group=15)
    return fit(events, items, PARAMS, progress=False)


def _folded(fitted: FittedModel) -> dict[str, dict[str, Any]]:
    """Each user's table state after folding a fixed event list through the worker's fold."""
    states: dict[str, UserState] = {}
    events = fitted.events.sort("timestamp").tail(400)
    for row in events.iter_rows(named=True):
        item = fitted.meta.get(row["item_id"])
        event = _Event(row["event_id"], row["item_id"], row["type"], row["timestamp"], row["value"])
        state, _ = apply_interaction(states.get(row["user_id"]), event, item and item.category)
        states[row["user_id"]] = state
    newcomer = [_Event("n1", "g1-i3", "view", 1.0, None), _Event("n2", "g1-i4", "rating", 2.0, 5.0)]
    for event in newcomer:
        states["newcomer"], _ = apply_interaction(states.get("newcomer"), event, "g1")
    return {user: state.to_json() for user, state in states.items()}


class _Event:
    def __init__(
        self, event_id: str, item_id: str, type: str, timestamp: float, value: float | None
    ) -> None:
        self.event_id, self.item_id, self.type = event_id, item_id, type
        self.timestamp, self.value = timestamp, value


async def test_the_api_serves_the_page_the_offline_evaluator_computes(fitted: FittedModel) -> None:
    states = _folded(fitted)
    now = float(fitted.events["timestamp"].max()) + 1.0  # type: ignore[arg-type]
    signals = signals_snapshot(fitted.events, now)
    world = World(catalog=dict(fitted.meta), signals=dict(signals))
    holder = ModelHolder(lambda version: None)  # type: ignore[arg-type, return-value]
    holder.swap(fitted.bundle, "v-parity")

    def users(user_id: str) -> UserView | None:
        return user_view(user_id, states.get(user_id), None)

    deps = world.deps(
        settings=Settings(redis_url="", exploration_slots=0),
        users=users,
        models=holder,
        clock=lambda: now,
    )
    offline = world_at(fitted.bundle, signals, fitted.meta, now, CANDIDATE_LIMIT)
    config = ServingConfig(exploration_slots=0)
    async with serve(deps) as client:
        for user in [*sorted(states)[:: max(1, len(states) // 5)], "newcomer"]:
            view = users(user)
            assert view is not None and view.history
            expected = recommend(context_for(offline, view, config, PageQuery(count=10)))
            answer = await client.get("/v1/recommendations", params={"user_id": user})
            served = [item["item_id"] for item in answer.json()["items"]]
            assert len(served) == 10
            assert served == [item.item_id for item in expected], user
            reasons = [item["reason"] for item in answer.json()["items"]]
            assert reasons == [
                {
                    "type": r.reason.type,
                    "text": r.reason.text,
                    "anchor_item_id": r.reason.anchor_item_id,
                }
                for r in expected
            ]
