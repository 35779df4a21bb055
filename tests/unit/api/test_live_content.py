"""An item PUT after training gets a content vector at the next refresh: it then has learned
content neighbours and shows among the similar items of the catalog items it resembles."""

from __future__ import annotations

import polars as pl
import pytest

from agents.views import item_meta
from models.bundle import ModelBundle
from models.content_live import content_neighbours
from models.serving import similar_items
from models.types import HistoryItem, UserView
from offline.train import TrainParams, fit
from schemas.validate import parse_item
from tables.catalog import apply_upsert
from tests.unit.api.conftest import NOW, World, serve

PARAMS = TrainParams(factors=4, iterations=3, retriever="exact", ranker=False, content_dims=8)
NEW = "drama-new"
TWIN = "drama-1"
"""The catalog item whose category, tags and title the new item shares."""


def trained_on(world: World) -> ModelBundle:
    """A version trained on the world's catalog, with events on crime and comedy items only
    (drama items are cold: content vectors, no learned item neighbours)."""
    watched = [i for i in world.catalog if i.startswith(("crime", "comedy"))]
    rows = [(f"u{u}", watched[(u + n) % len(watched)]) for u in range(12) for n in range(6)]
    events = pl.DataFrame(
        {
            "event_id": [f"e{n}" for n in range(len(rows))],
            "user_id": [user for user, _ in rows],
            "item_id": [item for _, item in rows],
            "type": ["click"] * len(rows),
            "timestamp": [NOW - 86_400.0 + n for n in range(len(rows))],
            "value": [None] * len(rows),
        },
        schema_overrides={"value": pl.Float64},
    )
    items = pl.DataFrame(
        {
            "item_id": list(world.catalog),
            "title": [m.title for m in world.catalog.values()],
            "category": [m.category for m in world.catalog.values()],
            "tags": [list(m.tags) for m in world.catalog.values()],
        }
    )
    return fit(events, items, PARAMS, progress=False).bundle


def fold_catalog(world: World) -> None:
    """What `maintain_catalog` does with the published upserts."""
    for key, value in world.published.on("items"):
        assert key is not None and value is not None
        entry = apply_upsert(None, parse_item(value), NOW)
        meta = item_meta(key, None if entry is None else entry.to_json())
        assert meta is not None
        world.catalog[key] = meta


@pytest.fixture
def trained(world: World) -> ModelBundle:
    bundle = trained_on(world)
    world.holder.swap(bundle, "v1")
    return bundle


async def test_a_new_item_gets_content_neighbours_after_the_refresh(
    world: World, trained: ModelBundle
) -> None:
    deps = world.deps()
    twin = world.catalog[TWIN]
    body = {"title": twin.title, "category": twin.category, "tags": list(twin.tags)}
    async with serve(deps) as client:
        assert (await client.put(f"/v1/items/{NEW}", json=body)).status_code == 202
        fold_catalog(world)
        before_new = (await client.get(f"/v1/items/{NEW}/similar")).json()["items"]
        before_twin = (await client.get(f"/v1/items/{TWIN}/similar")).json()["items"]
        assert deps.live_content.refresh([trained], world.catalog.keys, world.catalog.get) == 1
        after_new = (await client.get(f"/v1/items/{NEW}/similar")).json()["items"]
        after_twin = (await client.get(f"/v1/items/{TWIN}/similar")).json()["items"]
    assert NEW not in [i["item_id"] for i in before_twin]
    overlap = similar_items(None, NEW, world.catalog.get, world.catalog.values, 10)
    assert before_new == [{"item_id": i, "score": s} for i, s in overlap], "catalog overlap"
    live = deps.live_content.for_bundle(trained)
    ids, scores = content_neighbours(trained, live, NEW, 10)
    expected = [
        {"item_id": i, "score": round(float(s), 6)} for i, s in zip(ids, scores, strict=True)
    ]
    assert after_new == [e for e in expected if e["score"] > 0]
    assert after_new[0]["item_id"] == TWIN and after_new[0]["score"] == pytest.approx(1.0)
    assert after_twin[0] == {"item_id": NEW, "score": pytest.approx(1.0)}


async def test_a_new_item_is_a_content_candidate_next_to_an_item_the_user_viewed(
    world: World, trained: ModelBundle
) -> None:
    deps = world.deps()
    twin = world.catalog[TWIN]
    world.users["viewer"] = UserView("viewer", history=(HistoryItem(TWIN, "view", NOW - 60),))
    body = {"title": twin.title, "category": twin.category, "tags": list(twin.tags)}
    async with serve(deps) as client:
        await client.put(f"/v1/items/{NEW}", json=body)
        fold_catalog(world)
        deps.live_content.refresh([trained], world.catalog.keys, world.catalog.get)
        params = {"user_id": "viewer", "count": 20}
        page = (await client.get("/v1/recommendations", params=params)).json()
    shown = {i["item_id"]: i["reason"] for i in page["items"]}
    assert NEW in shown and shown[NEW]["anchor_item_id"] == TWIN
