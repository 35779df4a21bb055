"""A Redis that accepts connections and never answers costs one timeout, then is bypassed: no
command reaches it again until the back-off has passed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry

from api.metrics import ApiMetrics
from api.redis_guard import RedisGuard, redis_client
from streamrec.errors import RedisUnavailable
from streamrec.settings import Settings
from tests.unit.api.conftest import World, serve

TIMEOUT_S = 0.2


class Silent:
    """A real TCP server that accepts every connection, reads, and never writes a byte."""

    def __init__(self) -> None:
        self.port = 0
        self.received = 0
        """Bytes of commands received so far."""
        self.held: list[asyncio.StreamWriter] = []

    async def swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.held.append(writer)
        while chunk := await reader.read(4096):
            self.received += len(chunk)


@pytest_asyncio.fixture(loop_scope="function")
async def silent() -> AsyncIterator[Silent]:
    """A Redis that hangs: it takes commands and never answers."""
    hanging = Silent()
    server = await asyncio.start_server(hanging.swallow, "127.0.0.1", 0)
    hanging.port = server.sockets[0].getsockname()[1]
    yield hanging
    for writer in hanging.held:
        writer.close()
    server.close()


def _settings(port: int) -> Settings:
    return Settings(
        redis_url=f"redis://127.0.0.1:{port}/0",
        redis_connect_timeout_s=TIMEOUT_S,
        redis_timeout_s=TIMEOUT_S,
        redis_backoff_s=60.0,
    )


@pytest.mark.asyncio(loop_scope="function")
async def test_a_hanging_redis_costs_one_timeout_then_is_bypassed(
    world: World, silent: Silent
) -> None:
    settings = _settings(silent.port)
    redis = redis_client(settings)
    assert redis is not None
    deps = world.deps(settings=settings, redis=redis)
    params = {"user_id": "u"}
    async with serve(deps) as client:
        started = time.perf_counter()
        first = await client.get("/v1/recommendations", params=params)
        first_s = time.perf_counter() - started
        after_first = silent.received
        rest = [await client.get("/v1/recommendations", params=params) for _ in range(5)]
        ready = await client.get("/ready")
    await redis.aclose()
    assert [a.status_code for a in (first, *rest)] == [200] * 6
    assert first_s >= TIMEOUT_S * 0.9, first_s
    assert after_first > 0, "the first request asked Redis"
    assert silent.received == after_first, "later requests bypassed Redis"
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert "bypassed" in ready.json()["reasons"][0]


@pytest.mark.asyncio(loop_scope="function")
async def test_after_the_back_off_one_call_probes_redis_again(silent: Silent) -> None:
    now = [1000.0]
    settings = _settings(silent.port)
    redis = redis_client(settings)
    assert redis is not None
    guard = RedisGuard(
        redis, settings, ApiMetrics(CollectorRegistry(), lambda: "v1"), clock=lambda: now[0]
    )
    with pytest.raises(RedisUnavailable):
        await guard.run("test", lambda r: r.ping())
    asked = silent.received
    with pytest.raises(RedisUnavailable, match="bypassed"):
        await guard.run("test", lambda r: r.ping())
    assert silent.received == asked, "a bypassed call never reaches Redis"
    now[0] += 61.0
    assert guard.problem() is None
    probes = await asyncio.gather(
        guard.run("test", lambda r: r.ping()),
        guard.run("test", lambda r: r.ping()),
        return_exceptions=True,
    )
    await redis.aclose()
    messages = sorted(str(p) for p in probes)
    assert all(isinstance(p, RedisUnavailable) for p in probes)
    assert "being probed" in messages[0] or "being probed" in messages[1]
    assert guard.problem() is not None
