"""Direct delivery only skips Faust's wait when nothing could make a delivery wait."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from mode.utils.queues import FlowControlEvent

from agents.runtime.patches.delivery import ROOM_SHARE, Readiness

TP = ("events", 0)
QUEUE_SIZE = 100


def consumer_with_queue(queue: asyncio.Queue[int]) -> Any:
    """The parts of a Faust consumer that `Readiness` reads, as real asyncio objects."""
    topics = SimpleNamespace(
        _tp_to_callback_lock=asyncio.Lock(), _tp_index={TP: [SimpleNamespace(queue=queue)]}
    )
    app = SimpleNamespace(
        rebalancing=False,
        topics=topics,
        flow_control=FlowControlEvent(initially_suspended=False),
        producer=SimpleNamespace(buffer=SimpleNamespace(pending=asyncio.Queue(), max_messages=100)),
        conf=SimpleNamespace(producer_threaded=False),
    )
    return SimpleNamespace(app=app, suspend_flow=asyncio.Event(), _stopped=asyncio.Event())


def fill(queue: asyncio.Queue[int], count: int) -> None:
    for n in range(count):
        queue.put_nowait(n)


async def test_a_running_flow_with_room_delivers_directly() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(QUEUE_SIZE)
    ready = Readiness(consumer_with_queue(queue))
    fill(queue, QUEUE_SIZE - 1)
    assert ready.flowing()
    assert not ready.full(TP)
    assert not ready.full(("events", 7))  # a partition no stream reads


@pytest.mark.parametrize(
    "cause", ["rebalancing", "suspended", "flow_control", "resubscribing", "producer"]
)
async def test_anything_that_could_make_a_delivery_wait_stops_the_direct_path(cause: str) -> None:
    consumer = consumer_with_queue(asyncio.Queue(QUEUE_SIZE))
    ready = Readiness(consumer)
    if cause == "rebalancing":
        consumer.app.rebalancing = True
    elif cause == "suspended":
        consumer.suspend_flow.set()
    elif cause == "flow_control":
        consumer.app.flow_control.suspend()
    elif cause == "resubscribing":
        await consumer.app.topics._tp_to_callback_lock.acquire()
    else:
        fill(consumer.app.producer.buffer.pending, 101)
    assert not ready.flowing()


async def test_a_full_queue_is_refilled_only_once_it_has_drained_to_the_low_water_mark() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(QUEUE_SIZE)
    ready = Readiness(consumer_with_queue(queue))
    fill(queue, QUEUE_SIZE)
    assert ready.full(TP)

    async def stream() -> None:
        while True:
            await queue.get()
            await asyncio.sleep(0.0002)

    reader = asyncio.create_task(stream())
    await asyncio.wait_for(ready.make_room(TP), timeout=5)
    reader.cancel()
    assert queue.qsize() <= QUEUE_SIZE * ROOM_SHARE
    assert not ready.crowded(TP)


async def test_waiting_for_room_ends_when_the_flow_is_suspended() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue(QUEUE_SIZE)
    consumer = consumer_with_queue(queue)
    ready = Readiness(consumer)
    fill(queue, QUEUE_SIZE)
    waiting = asyncio.create_task(ready.make_room(TP))
    await asyncio.sleep(0.02)
    assert not waiting.done()
    consumer.suspend_flow.set()
    await asyncio.wait_for(waiting, timeout=1)
    assert queue.full()  # nothing drained: it returned because the flow stopped
