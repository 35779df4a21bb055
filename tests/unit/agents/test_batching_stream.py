"""take_batches delivers every event, in batches, whether the agent was idle or busy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import faust

from agents.runtime.batching import BatchWindow, take_batches


async def test_an_idle_agent_gets_each_event_that_arrives_after_it_went_quiet() -> None:
    app = faust.App("batching-test", broker="kafka://127.0.0.1:1", store="memory://")
    topic = app.topic("events", value_type=bytes, value_serializer="raw")
    batches: list[list[Any]] = []

    @app.agent(topic)
    async def collect(stream: Any) -> None:
        async for batch in take_batches(stream, 10, BatchWindow()):
            batches.append([event.value for event in batch])

    def delivered() -> list[Any]:
        return [value for batch in batches for value in batch]

    async with collect.test_context() as agent:
        await agent.put(b"first")
        await _until(lambda: len(delivered()) == 1)
        await agent.put(b"second")
        await agent.put(b"third")
        await _until(lambda: len(delivered()) == 3)
    assert delivered() == [b"first", b"second", b"third"]


async def _until(done: Callable[[], bool], limit_s: float = 30.0) -> None:
    """Wait (without asserting how long) until `done()`; give up after `limit_s`."""
    async with asyncio.timeout(limit_s):
        while not done():
            await asyncio.sleep(0.005)
