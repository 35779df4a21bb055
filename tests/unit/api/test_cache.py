"""The recommendation cache against a real Redis (a missing Redis fails these tests)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from api.truth import CATALOG_EPOCH, Truth
from models.types import UserView
from streamrec.settings import Settings
from tests.unit.api.conftest import World, serve

REDIS_URL = "redis://127.0.0.1:6379/0"


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


def _cache_hits(metrics: str, result: str) -> float:
    prefix = f'streamrec_cache_requests_total{{result="{result}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


async def test_repeat_request_hits_and_a_version_bump_misses(world: World, redis: Redis) -> None:
    user_id = f"cache-{uuid.uuid4()}"
    world.users[user_id] = UserView(user_id, version=1)
    deps = world.deps(settings=Settings(cache_ttl_s=30.0), redis=redis)
    params: dict[str, str | int] = {"user_id": user_id, "count": 5}
    async with serve(deps) as client:
        first = (await client.get("/v1/recommendations", params=params)).json()
        second = (await client.get("/v1/recommendations", params=params)).json()
        world.users[user_id] = UserView(user_id, version=2)
        await client.get("/v1/recommendations", params=params)
        ready = (await client.get("/ready")).json()
        metrics = (await client.get("/metrics")).text
    assert [i["item_id"] for i in first["items"]] == [i["item_id"] for i in second["items"]]
    assert first["request_id"] != second["request_id"]
    assert _cache_hits(metrics, "hit") == 1.0
    assert _cache_hits(metrics, "miss") == 2.0
    tag = Truth.parse(await redis.get(CATALOG_EPOCH), {}).tag
    one, two = f"rec:{user_id}:1:{tag}:v1:5::", f"rec:{user_id}:2:{tag}:v1:5::"
    assert await redis.exists(one, two) == 2
    ttl = await redis.pttl(two)
    assert 0 < ttl <= 30_000
    assert ready == {"status": "ready", "reasons": []}
    assert len(world.published.on("impressions")) == 3
    await redis.delete(one, two)


async def test_unreachable_redis_still_answers_and_reports_degraded(world: World) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    async with serve(world.deps(redis=dead)) as client:
        answer = await client.get("/v1/recommendations", params={"user_id": "u"})
        ready = await client.get("/ready")
        metrics = (await client.get("/metrics")).text
    await dead.aclose()
    assert answer.status_code == 200
    assert len(answer.json()["items"]) == 10
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert _cache_hits(metrics, "error") >= 1.0
