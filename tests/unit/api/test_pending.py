"""Read your writes: a purchase accepted by this worker leaves the next page at once."""

from __future__ import annotations

from api.pending import PendingPurchases
from models.types import UserView
from streamrec.interactions import PURCHASE, VIEW
from tests.unit.api.conftest import NOW, World, serve


def _page(body: dict[str, object]) -> set[str]:
    items = body["items"]
    assert isinstance(items, list)
    return {entry["item_id"] for entry in items}


async def test_a_purchase_leaves_the_next_page_before_the_state_shows_it(world: World) -> None:
    world.users["buyer"] = UserView("buyer", version=4)
    params: dict[str, str | int] = {"user_id": "buyer", "count": 100}
    async with serve(world.deps()) as client:
        before = _page((await client.get("/v1/recommendations", params=params)).json())
        event = {"user_id": "buyer", "item_id": "crime-6", "type": "purchase", "timestamp": NOW}
        assert (await client.post("/v1/events", json=event)).status_code == 202
        after = _page((await client.get("/v1/recommendations", params=params)).json())
    assert "crime-6" in before
    assert "crime-6" not in after and "crime-5" in after


async def test_a_view_changes_nothing_until_the_state_does(world: World) -> None:
    world.users["viewer"] = UserView("viewer", version=1)
    params: dict[str, str | int] = {"user_id": "viewer", "count": 100}
    async with serve(world.deps()) as client:
        event = {"user_id": "viewer", "item_id": "crime-6", "type": "view", "timestamp": NOW}
        assert (await client.post("/v1/events", json=event)).status_code == 202
        after = _page((await client.get("/v1/recommendations", params=params)).json())
    assert "crime-6" in after


def test_pending_purchases_end_once_the_state_lists_them_or_they_expire() -> None:
    now = [0.0]
    pending = PendingPurchases(ttl_s=30.0, clock=lambda: now[0])
    pending.add("u", "a")
    pending.add("u", "b")
    user, items = pending.overlay(UserView("u", purchased={"b": 1}))
    assert items == ("a",) and set(user.purchased) == {"a", "b"}
    now[0] = 31.0
    assert pending.overlay(UserView("u")) == (UserView("u"), ())


def test_pending_purchases_mark_their_items_as_bought_in_the_consumed_set() -> None:
    pending = PendingPurchases()
    pending.add("u", "a")

    user, _ = pending.overlay(UserView("u", interacted={"a": VIEW, "b": VIEW}))

    assert list(user.interacted.items()) == [("b", VIEW), ("a", VIEW | PURCHASE)]


def test_pending_purchases_keep_only_the_most_recent_users() -> None:
    pending = PendingPurchases(max_users=2)
    for user_id in ("u1", "u2", "u3"):
        pending.add(user_id, "a")
    assert pending.overlay(UserView("u1"))[1] == ()
    assert pending.overlay(UserView("u3"))[1] == ("a",)
