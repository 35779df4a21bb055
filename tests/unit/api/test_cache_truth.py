"""The cache never serves a page older than a catalog, consent or erasure change (real Redis)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from agents.invalidation import Invalidator
from api.truth import CATALOG_EPOCH, Truth, user_mark
from models.types import HistoryItem, UserView
from streamrec.settings import Settings
from tests.unit.api.conftest import NOW, World, serve

REDIS_URL = "redis://127.0.0.1:6379/0"
PAGE = "/v1/recommendations"


@pytest_asyncio.fixture(loop_scope="function")
async def redis() -> AsyncIterator[Redis]:
    """A client of the local Redis; fails loudly when Redis is not running."""
    client = Redis.from_url(REDIS_URL, socket_timeout=1.0)
    try:
        await client.ping()
    except Exception as error:
        await client.aclose()
        pytest.fail(f"Redis at {REDIS_URL} is required for the cache tests: {error}")
    yield client
    await client.aclose()


def _settings() -> Settings:
    return Settings(cache_ttl_s=30.0, redis_timeout_s=2.0, redis_connect_timeout_s=2.0)


def _ids(answer: dict[str, object]) -> list[str]:
    items = answer["items"]
    assert isinstance(items, list)
    return [i["item_id"] for i in items]


def _fan(world: World) -> str:
    """A user whose history makes crime items anchor the page."""
    user_id = f"truth-{uuid.uuid4()}"
    history = tuple(HistoryItem(f"crime-{n}", "purchase", NOW - 100 + n) for n in range(3))
    world.users[user_id] = UserView(
        user_id, history=history, version=3, purchased={h.item_id: 1 for h in history}
    )
    return user_id


async def test_out_of_stock_leaves_the_next_page(world: World, redis: Redis) -> None:
    user_id = _fan(world)
    params = {"user_id": user_id, "count": 10}
    async with serve(world.deps(settings=_settings(), redis=redis)) as client:
        first = _ids((await client.get(PAGE, params=params)).json())
        gone = first[0]
        world.catalog[gone] = replace(world.catalog[gone], in_stock=False)
        answer = await client.patch(f"/v1/items/{gone}", json={"in_stock": False})
        second = _ids((await client.get(PAGE, params=params)).json())
    assert answer.status_code == 202
    assert gone in first and gone not in second


async def test_deleted_item_leaves_the_next_page_when_a_worker_applies_it(
    world: World, redis: Redis
) -> None:
    user_id = _fan(world)
    params = {"user_id": user_id, "count": 10}
    invalidator = Invalidator(redis, backoff_s=1.0)
    async with serve(world.deps(settings=_settings(), redis=redis)) as client:
        first = _ids((await client.get(PAGE, params=params)).json())
        cached = _ids((await client.get(PAGE, params=params)).json())
        gone = first[0]
        del world.catalog[gone]  # the worker's catalog applied the tombstone
        invalidator.catalog_changed()
        await invalidator.flush()
        second = _ids((await client.get(PAGE, params=params)).json())
    assert first == cached
    assert gone not in second


async def test_opt_out_is_honoured_before_the_worker_applies_it(world: World, redis: Redis) -> None:
    user_id = _fan(world)
    params = {"user_id": user_id, "count": 10}
    async with serve(world.deps(settings=_settings(), redis=redis)) as client:
        await client.get(PAGE, params=params)
        answer = await client.put(f"/v1/users/{user_id}/consent", json={"opted_out": True})
        page = (await client.get(PAGE, params=params)).json()
    assert answer.status_code == 202
    reasons = {i["reason"]["anchor_item_id"] for i in page["items"]}
    assert reasons == {None}
    mark = Truth.parse(await redis.get(CATALOG_EPOCH), await redis.hgetall(user_mark(user_id)))
    assert mark.command == "opt_out" and mark.user_generation == 1
    await redis.delete(user_mark(user_id))


async def test_erasure_is_honoured_on_the_next_request(world: World, redis: Redis) -> None:
    user_id = _fan(world)
    params = {"user_id": user_id, "count": 10}
    async with serve(world.deps(settings=_settings(), redis=redis)) as client:
        before = (await client.get(PAGE, params=params)).json()
        answer = await client.delete(f"/v1/users/{user_id}")
        after = (await client.get(PAGE, params=params)).json()
        world.users.pop(user_id)  # the worker applied the erasure (tombstones)
        await Invalidator(redis, backoff_s=1.0).flush()
        later = (await client.get(PAGE, params=params)).json()
    assert answer.status_code == 202
    assert any(i["reason"]["anchor_item_id"] for i in before["items"])
    assert all(i["reason"]["anchor_item_id"] is None for i in after["items"])
    assert _ids(after) == _ids(later)
    await redis.delete(user_mark(user_id))


async def test_events_after_the_erasure_personalise_again() -> None:
    history = (HistoryItem("drama-1", "view", NOW + 5),)
    user = UserView("u", history=history, version=1)
    assert Truth(command="erase", command_at=NOW).overlay(user) is user
    erased = Truth(command="erase", command_at=NOW + 10).overlay(user)
    assert erased.history == () and erased.version == 0


async def test_model_activation_changes_the_key(world: World, redis: Redis) -> None:
    user_id = _fan(world)
    params = {"user_id": user_id, "count": 10}
    async with serve(world.deps(settings=_settings(), redis=redis)) as client:
        first = (await client.get(PAGE, params=params)).json()
        world.holder.swap(None, "v2")
        second = (await client.get(PAGE, params=params)).json()
    assert (first["model_version"], second["model_version"]) == ("v1", "v2")
    keys = [k async for k in redis.scan_iter(match=f"rec:{user_id}:*")]
    assert len(keys) == 2
    await redis.delete(*keys)
