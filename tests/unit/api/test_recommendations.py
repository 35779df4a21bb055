"""GET /v1/recommendations and GET /v1/items/{item_id}/similar."""

from __future__ import annotations

from collections import Counter

import httpx

from api.app import create_app
from models.types import HistoryItem, ItemSignals, UserView
from streamrec.errors import NotReady
from tests.unit.api.conftest import NOW, World, serve


async def test_unknown_user_gets_cold_start_results_not_404(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "stranger"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["user_id"] == "stranger"
    assert body["model_version"] == "v1"
    assert body["experiment"] is None
    assert len(body["items"]) == 10
    assert all(i["reason"]["text"] for i in body["items"])


async def test_purchased_item_is_filtered(world: World) -> None:
    world.users["buyer"] = UserView("buyer", purchased={"crime-7": 1}, version=3)
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "buyer", "count": 100})
    served = {i["item_id"] for i in answer.json()["items"]}
    assert "crime-7" not in served
    assert "crime-6" in served


async def test_excluded_and_category_parameters_are_honoured(world: World) -> None:
    params: dict[str, str | int] = {
        "user_id": "u",
        "count": 5,
        "exclude": "drama-7,drama-6",
        "category": "drama",
    }
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/recommendations", params=params)
    served = [i["item_id"] for i in answer.json()["items"]]
    assert len(served) == 5
    assert all(i.startswith("drama-") for i in served)
    assert {"drama-7", "drama-6"}.isdisjoint(served)


async def test_a_page_holds_at_most_half_of_one_category_by_default(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "u"})
    categories = Counter(i["item_id"].split("-")[0] for i in answer.json()["items"])
    assert categories["crime"] == 5
    assert max(categories.values()) <= 5


async def test_history_anchors_the_reason(world: World) -> None:
    world.users["fan"] = UserView("fan", history=(HistoryItem("horror-1", "view", NOW - 5),))
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "fan"})
    reasons = [i["reason"] for i in answer.json()["items"]]
    assert {
        "type": "because_you_viewed",
        "text": "Because you viewed Horror 1",
        "anchor_item_id": "horror-1",
    } in reasons


async def test_a_parameter_the_route_does_not_take_is_422(world: World) -> None:
    async with serve(world.deps()) as client:
        typo = await client.get("/v1/recommendations", params={"user_id": "u", "cout": "5"})
        nameless = await client.get("/v1/recommendations?user_id=u&=null")
        similar = await client.get("/v1/items/drama-1/similar", params={"limit": 4})
    assert [typo.status_code, nameless.status_code, similar.status_code] == [422, 422, 422]
    assert typo.json()["error"]["details"]["field"] == "cout"
    assert nameless.json()["error"]["details"]["field"] == "(empty name)"


async def test_count_outside_one_to_a_hundred_is_422(world: World) -> None:
    async with serve(world.deps()) as client:
        answers = [
            await client.get("/v1/recommendations", params={"user_id": "u", "count": c})
            for c in ("0", "101", "ten", "99999999999999999999")
        ]
        missing = await client.get("/v1/recommendations")
    assert [a.status_code for a in answers] == [422, 422, 422, 422]
    assert answers[0].json()["error"]["details"] == {
        "field": "count",
        "rule": "must be between 1 and 100",
    }
    assert missing.status_code == 422
    assert missing.json()["error"]["details"]["field"] == "user_id"


async def test_the_impression_is_published_with_positions_and_sources(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "u", "count": 4})
    body = answer.json()
    [(key, impression)] = world.published.on("impressions")
    assert key == "u"
    assert impression is not None
    assert impression["request_id"] == body["request_id"]
    assert impression["model_version"] == "v1"
    assert [i["item_id"] for i in impression["items"]] == [i["item_id"] for i in body["items"]]
    assert [i["position"] for i in impression["items"]] == [0, 1, 2, 3]
    assert all(i["source"] for i in impression["items"])


async def test_experiment_variant_is_stable_and_reported(world: World) -> None:
    experiment = {"id": "exp1", "variants": [{"name": "control"}, {"name": "treatment"}]}
    async with serve(world.deps()) as client:
        assert (await client.post("/v1/experiments", json=experiment)).status_code == 201
        first = [
            (await client.get("/v1/recommendations", params={"user_id": f"u{n}"})).json()
            for n in range(20)
        ]
        again = [
            (await client.get("/v1/recommendations", params={"user_id": f"u{n}"})).json()
            for n in range(20)
        ]
    variants = [b["experiment"]["variant"] for b in first]
    assert variants == [b["experiment"]["variant"] for b in again]
    assert set(variants) == {"control", "treatment"}
    assert all(b["experiments"][0]["layer"] == "default" for b in first)
    impressions = world.published.on("impressions")
    assert all(i["experiment_id"] == "exp1" for _, i in impressions if i)
    assert all(i["experiments"][0]["run_id"] for _, i in impressions if i)


async def test_hot_swap_lets_an_in_flight_request_finish_on_the_old_version(
    world: World,
) -> None:
    signals = dict(world.signals)

    def swapping_signals(item_id: str) -> ItemSignals | None:
        if world.holder.current().version == "v1":
            world.holder.swap(None, "v2")
        return signals.get(item_id)

    async with serve(world.deps(signals=swapping_signals)) as client:
        during = await client.get("/v1/recommendations", params={"user_id": "u"})
        after = await client.get("/v1/recommendations", params={"user_id": "u"})
    assert during.json()["model_version"] == "v1"
    assert after.json()["model_version"] == "v2"
    versions = [i["model_version"] for _, i in world.published.on("impressions") if i]
    assert versions == ["v1", "v2"]


async def test_requests_for_remote_users_are_forwarded_to_the_owner(world: World) -> None:
    owner = World()
    owner.holder.swap(None, "owner-v")
    owner_app = create_app(owner.deps())
    forwarder = httpx.AsyncClient(transport=httpx.ASGITransport(app=owner_app))
    deps = world.deps(owner=lambda user: "http://owner.test", http=forwarder)
    async with serve(deps) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "far", "count": 3})
        metrics = (await client.get("/metrics")).text
    await forwarder.aclose()
    assert answer.status_code == 200
    assert answer.json()["model_version"] == "owner-v"
    assert len(answer.json()["items"]) == 3
    assert 'streamrec_forwarded_requests_total{route="/v1/recommendations"} 1.0' in metrics
    assert world.published.on("impressions") == []
    assert len(owner.published.on("impressions")) == 1


async def test_rebalancing_owner_lookup_is_a_503_with_retry_after(world: World) -> None:
    def rebalancing(user_id: str) -> str | None:
        raise NotReady("partitions are being reassigned", {"retry_after": 2})

    async with serve(world.deps(owner=rebalancing)) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "u"})
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "not_ready"
    assert answer.headers["retry-after"] == "2"


async def test_similar_items_share_the_category(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.get("/v1/items/drama-1/similar", params={"count": 4})
        unknown = await client.get("/v1/items/nope/similar")
    items = answer.json()["items"]
    assert len(items) == 4
    assert all(i["item_id"].startswith("drama-") for i in items)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
