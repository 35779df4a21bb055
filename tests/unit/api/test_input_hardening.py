"""Every input is applied or refused with a 4xx naming the field; nothing half-written."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api.deps import ServingDeps
from models.types import ItemMeta
from schemas.text import TEXT_RULE
from tests.unit.api.conftest import NOW, World, auth_settings, serve

EVENT: dict[str, Any] = {"user_id": "u1", "item_id": "crime-1", "type": "view", "timestamp": NOW}
LONE = "\\ud800"  # JSON text of a lone UTF-16 surrogate


async def _post_raw(client: httpx.AsyncClient, path: str, text: str) -> httpx.Response:
    return await client.post(
        path, content=text.encode(), headers={"content-type": "application/json"}
    )


def _with(field: str, raw_value: str, record: dict[str, Any] = EVENT) -> str:
    """JSON of `record` with `field` set to raw JSON text (escapes kept as written)."""
    body = json.dumps({k: v for k, v in record.items() if k != field})
    return body[:-1] + f', "{field}": {raw_value}}}'


def _field_errors(answer: httpx.Response) -> list[tuple[Any, str, str]]:
    errors = answer.json()["error"]["details"]["errors"]
    return [(e["index"], e["field"], e["rule"]) for e in errors]


@pytest.mark.parametrize(
    ("field", "raw_value"),
    [
        ("user_id", f'"{LONE}"'),
        ("item_id", '"a\\u0000b"'),
        ("event_id", '"e\\u001b[31m"'),
        ("user_id", f'"ok{LONE}"'),
    ],
)
async def test_an_event_string_with_a_lone_surrogate_or_control_character_is_a_422(
    world: World, field: str, raw_value: str
) -> None:
    async with serve(world.deps()) as client:
        answer = await _post_raw(client, "/v1/events", _with(field, raw_value))
    assert answer.status_code == 422
    assert _field_errors(answer) == [(0, field, TEXT_RULE)]
    assert world.published == []


async def test_context_values_and_keys_are_checked_too(world: World) -> None:
    async with serve(world.deps()) as client:
        value = await _post_raw(client, "/v1/events", _with("context", '{"device": "a\\u0007"}'))
        key = await _post_raw(client, "/v1/events", _with("context", f'{{"{LONE}": "x"}}'))
    assert _field_errors(value) == [(0, "context.device", TEXT_RULE)]
    assert key.status_code == 422
    assert key.json()["error"]["details"]["errors"][0]["field"] == "context.\\ud800"


async def test_a_batch_whose_last_event_is_bad_publishes_nothing(world: World) -> None:
    good = [json.dumps({**EVENT, "user_id": f"u{n}"}) for n in range(5)]
    bad = _with("item_id", f'"crime{LONE}"')
    async with serve(world.deps()) as client:
        answer = await _post_raw(client, "/v1/events", f'{{"events": [{", ".join([*good, bad])}]}}')
    assert answer.status_code == 422
    assert _field_errors(answer) == [(5, "item_id", TEXT_RULE)]
    assert world.published == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (f'{{"title": "Bad{LONE}"}}', "title"),
        ('{"category": "a\\u0000"}', "category"),
        ('{"title": "two\\nlines"}', "title"),
        ('{"tags": ["fine", "bell\\u0007"]}', "tags[1]"),
        ('{"tags": "fine|bell\\u0007"}', "tags[1]"),
    ],
)
async def test_item_text_with_control_characters_is_a_422_naming_the_field(
    world: World, body: str, field: str
) -> None:
    async with serve(world.deps()) as client:
        answer = await client.put(
            "/v1/items/new-1", content=body.encode(), headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422
    assert _field_errors(answer) == [(0, field, TEXT_RULE)]
    assert world.published == []


async def test_free_text_may_hold_a_tab(world: World) -> None:
    async with serve(world.deps()) as client:
        answer = await client.put("/v1/items/new-1", json={"title": "Name\tYear"})
    assert answer.status_code == 202


async def test_experiment_and_user_strings_are_checked(world: World) -> None:
    variants = '[{"name": "a"}, {"name": "b", "config": {"' + LONE + '": 1}}]'
    async with serve(world.deps()) as client:
        description = await _post_raw(
            client,
            "/v1/experiments",
            f'{{"id": "x", "description": "{LONE}", "variants": {variants}}}',
        )
        config_key = await _post_raw(
            client, "/v1/experiments", f'{{"id": "y", "variants": {variants}}}'
        )
        user = await client.delete("/v1/users/a%00b")
    assert description.status_code == 422
    assert description.json()["error"]["details"]["field"] == "description"
    assert config_key.status_code == 422
    assert config_key.json()["error"]["details"]["field"] == "variants[1].config.\\ud800"
    assert user.status_code == 422
    assert user.json()["error"]["details"] == {"field": "user_id", "rule": TEXT_RULE}
    assert world.published == []


async def test_put_replaces_the_row_and_patch_changes_only_the_fields_given(world: World) -> None:
    world.catalog["crime-1"] = ItemMeta("crime-1", "Heat", "crime", ("crime", "1995"), 9.5)
    async with serve(world.deps()) as client:
        patched = await client.patch("/v1/items/crime-1", json={"in_stock": False, "price": None})
        replaced = await client.put("/v1/items/crime-1", json={"in_stock": False})
    assert (patched.status_code, replaced.status_code) == (202, 202)
    [(_, after_patch), (_, after_put)] = world.published.on("items")
    assert after_patch is not None and after_put is not None
    assert (after_patch["title"], after_patch["category"], after_patch["tags"]) == (
        "Heat",
        "crime",
        ["crime", "1995"],
    )
    assert (after_patch["in_stock"], after_patch["price"]) == (False, None)
    assert (after_put["title"], after_put["category"], after_put["tags"]) == ("", "", [])
    assert after_put["in_stock"] is False


async def test_patch_refuses_unknown_items_unknown_fields_and_bad_values(world: World) -> None:
    async with serve(world.deps()) as client:
        unknown_item = await client.patch("/v1/items/nothing", json={"in_stock": False})
        typo = await client.patch("/v1/items/crime-1", json={"in_stok": False})
        bad = await client.patch("/v1/items/crime-1", json={"price": -3})
        array = await client.patch("/v1/items/crime-1", json=[1])
    assert unknown_item.status_code == 404
    assert typo.status_code == 422 and typo.json()["error"]["details"]["field"] == "in_stok"
    assert bad.status_code == 422 and _field_errors(bad) == [(0, "price", "must not be negative")]
    assert array.status_code == 422
    assert world.published == []


@pytest.mark.parametrize(
    ("value", "status"),
    [(0, 422), (0.4, 422), (0.5, 202), (4.5, 202), (5, 202), (5.5, 422), (10, 422)],
)
async def test_ratings_must_lie_on_the_configured_scale(
    world: World, value: float, status: int
) -> None:
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/events", json={**EVENT, "type": "rating", "value": value})
    assert answer.status_code == status
    if status == 422:
        assert _field_errors(answer) == [(0, "value", "must be a rating from 0.5 to 5")]


async def test_the_rating_scale_is_a_setting(world: World) -> None:
    deps = world.deps(settings=auth_settings(auth=False, rating_min=1, rating_max=10))
    async with serve(deps) as client:
        seven = await client.post("/v1/events", json={**EVENT, "type": "rating", "value": 7})
        half = await client.post("/v1/events", json={**EVENT, "type": "rating", "value": 0.5})
        spec = (await client.get("/openapi.json")).json()
    assert (seven.status_code, half.status_code) == (202, 422)
    rating = spec["components"]["schemas"]["Interaction"]["then"]["properties"]["value"]
    assert (rating["minimum"], rating["maximum"]) == (1, 10)


@pytest.mark.parametrize(
    ("timestamp", "status"),
    [
        (NOW + 3600, 202),
        (NOW + 86_400, 202),
        (NOW + 86_401, 422),
        ((NOW + 86_401) * 1000, 422),
        (99_999_999_999_999, 422),
        ("2100-01-01T00:00:00Z", 422),
    ],
)
async def test_times_more_than_a_day_ahead_are_refused(
    world: World, timestamp: float | str, status: int
) -> None:
    async with serve(world.deps()) as client:
        answer = await client.post("/v1/events", json={**EVENT, "timestamp": timestamp})
    assert answer.status_code == status
    if status == 422:
        assert _field_errors(answer)[0][1] == "timestamp"


@pytest.mark.parametrize("stamp", [{}, {"timestamp": None}], ids=["absent", "null"])
async def test_an_event_without_a_timestamp_happened_when_it_was_received(
    world: World, stamp: dict[str, None]
) -> None:
    deps: ServingDeps = world.deps(clock=lambda: NOW + 12.5)
    async with serve(deps) as client:
        answer = await client.post(
            "/v1/events", json={"user_id": "u", "item_id": "i", "type": "view", **stamp}
        )
    assert answer.status_code == 202
    [(_, value)] = world.published.on("events")
    assert value is not None and value["timestamp"] == NOW + 12.5


async def test_numbers_too_large_for_a_float_or_a_string_are_refused_not_a_500(
    world: World,
) -> None:
    huge = "9" * 400
    async with serve(world.deps()) as client:
        timestamp = await _post_raw(client, "/v1/events", _with("timestamp", huge))
        value = await _post_raw(client, "/v1/events", _with("value", huge))
        price = await client.put(
            "/v1/items/x",
            content=f'{{"price": {huge}}}'.encode(),
            headers={"content-type": "application/json"},
        )
        digits = await _post_raw(client, "/v1/events", _with("user_id", "1" * 5000))
    assert [a.status_code for a in (timestamp, value, price)] == [422, 422, 422]
    assert [e[1] for a in (timestamp, value, price) for e in _field_errors(a)] == [
        "timestamp",
        "value",
        "price",
    ]
    assert digits.status_code == 400
    assert world.published == []
