"""Catalog upserts and deletions, user history, consent and erasure."""

from __future__ import annotations

from models.types import HistoryItem, UserView
from tests.unit.api.conftest import NOW, World, serve


async def test_put_item_publishes_the_upsert_keyed_by_the_path_id_whatever_the_body_says(
    world: World,
) -> None:
    async with serve(world.deps()) as client:
        answer = await client.put("/v1/items/new-1", json={"title": "New", "category": "drama"})
        await client.put("/v1/items/new-2", json={"item_id": "other"})
    assert answer.status_code == 202
    [(key, value), (other_key, other)] = world.published.on("items")
    assert key == "new-1"
    assert value is not None
    assert (value["item_id"], value["title"], value["category"]) == ("new-1", "New", "drama")
    assert (other_key, other and other["item_id"]) == ("new-2", "new-2")


async def test_batch_of_items_is_all_or_nothing(world: World) -> None:
    good = [{"item_id": "a"}, {"item_id": "b", "price": 3}]
    async with serve(world.deps()) as client:
        bad = await client.post("/v1/items", json={"items": [*good, {"item_id": "c", "price": -1}]})
        assert world.published == []
        ok = await client.post("/v1/items", json={"items": good})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["errors"] == [
        {"index": 2, "field": "price", "rule": "must not be negative"}
    ]
    assert ok.json() == {"accepted": 2}
    assert [k for k, _ in world.published.on("items")] == ["a", "b"]


async def test_delete_item_publishes_a_tombstone(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.delete("/v1/items/crime-1")
    assert answer.status_code == 202
    assert world.published == [("items", "crime-1", None)]


async def test_history_lists_the_users_interactions_newest_first(world: World) -> None:
    world.users["u"] = UserView(
        "u", history=(HistoryItem("a", "view", NOW - 10), HistoryItem("b", "click", NOW - 5))
    )
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/users/u/history")
        unknown = await client.get("/v1/users/nobody/history")
    assert [i["item_id"] for i in answer.json()["items"]] == ["b", "a"]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


async def test_consent_change_publishes_a_user_command(world: World) -> None:
    async with serve(world.deps()) as client:
        out = await client.put("/v1/users/u/consent", json={"opted_out": True})
        back = await client.put("/v1/users/u/consent", json={"opted_out": False})
        wrong = await client.put("/v1/users/u/consent", json={"opted_out": "yes"})
    assert (out.status_code, back.status_code, wrong.status_code) == (202, 202, 422)
    commands = [(k, v["command"]) for k, v in world.published.on("users") if v]
    assert commands == [("u", "opt_out"), ("u", "opt_in")]


async def test_erase_publishes_an_erase_command(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.delete("/v1/users/u")
    assert answer.json() == {"user_id": "u", "erased": True}
    [(key, value)] = world.published.on("users")
    assert (key, value and value["command"]) == ("u", "erase")


async def test_opted_out_user_gets_non_personalised_results(world: World) -> None:
    history = (HistoryItem("horror-1", "view", NOW - 5),)
    world.users["private"] = UserView("private", history=history, opted_out=True)
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "private"})
    assert all(i["reason"]["anchor_item_id"] is None for i in answer.json()["items"])
