"""POST /v1/events."""

from __future__ import annotations

from streamrec.errors import BrokerError
from tests.unit.api.conftest import World, serve


def _event(user: str = "u1", item: str = "crime-1", kind: str = "view") -> dict[str, object]:
    return {"user_id": user, "item_id": item, "type": kind, "timestamp": 1_700_000_000}


async def test_one_event_is_published_keyed_by_user_and_accepted(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/events", json={**_event(), "event_id": "e-1"})
    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1}
    [(key, value)] = world.published.on("events")
    assert key == "u1"
    assert value is not None
    assert (value["event_id"], value["item_id"], value["type"]) == ("e-1", "crime-1", "view")


async def test_a_batch_keeps_each_users_order(world: World) -> None:
    batch = [_event("a", "crime-1"), _event("b", "drama-1"), _event("a", "crime-2")]
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/events", json={"events": batch})
    assert answer.json() == {"accepted": 3}
    published = world.published.on("events")
    assert [v["item_id"] for k, v in published if k == "a" and v] == ["crime-1", "crime-2"]
    assert len(published) == 3


async def test_any_invalid_event_rejects_the_batch_with_per_index_errors(world: World) -> None:
    batch = [_event(), {**_event(), "type": "like"}, _event(), {**_event(), "item_id": ""}]
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/events", json={"events": batch})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "unprocessable"
    assert [(e["index"], e["field"]) for e in error["details"]["errors"]] == [
        (1, "type"),
        (3, "item_id"),
    ]
    assert world.published == []


async def test_malformed_json_is_a_400_not_a_500(world: World) -> None:
    async with serve(world.deps()) as client:
        broken = await client.post(
            "/v1/events", content=b"{not json", headers={"content-type": "application/json"}
        )
        empty = await client.post("/v1/events")
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "bad_request"
    assert empty.status_code == 400


async def test_wrong_shapes_are_422_and_publish_nothing(world: World) -> None:
    bodies: list[object] = [[1, 2], {"events": "x"}, {"events": []}, {"events": [_event()] * 1001}]
    async with serve(world.deps()) as client:
        statuses = [(await client.post("/v1/events", json=body)).status_code for body in bodies]
    assert statuses == [422, 422, 422, 422]
    assert world.published == []


async def test_broker_failure_is_a_503_with_retry_after(world: World) -> None:
    world.published.fail = ConnectionError("broker down")
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/events", json=_event())
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == BrokerError.code
    assert answer.headers["retry-after"] == "1"
