"""Direct delivery: fetched messages reach their streams without four tasks per message.

faust-streaming's drain loop (`Consumer._drain_messages`) awaits `wait_first(callback(message),
suspend_flow.wait())` for every message: four tasks (the delivery, the suspend flag, the
consumer's stopped and crashed flags) and an `asyncio.wait`, 16% of a do-nothing agent's samples
in a py-spy profile. A delivery can only wait when the conductor is resubscribing, flow control
is suspended, the producer buffer is over its limit or a stream's queue for the partition is
full. This loop awaits the delivery directly when none of those holds, so it completes without
yielding, and otherwise waits as Faust does, so a suspended flow still abandons a blocked
delivery. A full queue is refilled once it has drained to a low-water mark. Throughout a
rebalance and its recovery every message takes Faust's path: recovery seeks the stream
partitions back to their committed offsets and then clears the stream queues, and a burst of
direct deliveries inside that window left a restarted worker fetching nothing more (3 of 14
recovery runs after SIGKILL; 0 of 8 with Faust's path everywhere; 15 of 15 passed with Faust's
path during rebalances). Everything else (read offsets, gaps, commit_every, yielding every 100
messages) is Faust 0.15's loop unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.transport import consumer as faust_consumer

YIELD_EVERY = 100
# A full queue is refilled once it has drained to this share of its size, checked every nap.
ROOM_SHARE = 0.75
ROOM_NAP_S = 0.002


class Readiness:
    """Whether a message of a partition can be delivered without waiting."""

    def __init__(self, consumer: Any) -> None:
        app = consumer.app
        self._lock = app.topics._tp_to_callback_lock
        self._channels_of = app.topics._tp_index
        self._app, self._flow_control, self._buffer = app, app.flow_control, app.producer.buffer
        self._suspended = consumer.suspend_flow.is_set
        self._stopped = consumer._stopped.is_set
        # ProducerBuffer.size reads app.conf on every call; the setting never changes.
        threaded = app.conf.producer_threaded
        self._buffered = (lambda: self._buffer.size) if threaded else self._buffer.pending.qsize

    def flowing(self) -> bool:
        """Neither rebalancing (nor recovering), suspended, resubscribing nor over the producer
        buffer's limit."""
        if self._app.rebalancing or self._suspended() or self._lock.locked():
            return False
        if not self._flow_control.is_active():
            return False
        return bool(self._buffered() <= self._buffer.max_messages)

    def crowded(self, tp: Any) -> bool:
        """Whether a queue this partition feeds is above its low-water mark."""
        return any(
            channel.queue.qsize() > channel.queue.maxsize * ROOM_SHARE
            for channel in self._channels_of.get(tp, ())
            if channel.queue.maxsize
        )

    def full(self, tp: Any) -> bool:
        """Whether a queue this partition feeds is full."""
        return any(channel.queue.full() for channel in self._channels_of.get(tp, ()))

    async def make_room(self, tp: Any) -> None:
        """While the flow runs, nap until the partition's queues are below the low-water mark, so
        they refill in runs of a quarter of their size instead of one wait per message."""
        while self.flowing() and self.crowded(tp) and not self._stopped():
            await asyncio.sleep(ROOM_NAP_S)


async def deliver(self: Any, ready: Readiness, tp: Any, message: Any) -> None:
    """Deliver one fetched message as Faust's loop does, directly when nothing can block it."""
    offset, read = message.offset, self._read_offset[tp]
    if read is not None and offset < read:
        return  # already delivered
    if read and offset - read > 1 and self.app.topics.acks_enabled_for(message.topic):
        await self._add_gap(tp, read + 1, offset)
    if self._commit_every is not None and self._n_acked >= self._commit_every:
        self._n_acked = 0
        await self.commit()
    if ready.full(tp):
        await ready.make_room(tp)
        direct = ready.flowing() and not ready.full(tp)
    else:
        direct = ready.flowing()
    if direct:
        await self.callback(message)
    else:
        await self.wait_first(self.callback(message), self.suspend_flow.wait())
    self._read_offset[tp] = offset


async def drain_messages(self: Any, fetcher: Any) -> None:
    """Faust's drain loop, delivering directly when nothing can make the delivery wait."""
    consumer_should_stop, fetcher_should_stop = self._stopped.is_set, fetcher._stopped.is_set
    ready = Readiness(self)
    since_yield = 0
    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            self.diag.set_flag(faust_consumer.CONSUMER_FETCHING)
            batch = self.getmany(timeout=1.0)
            await self.sleep(0)  # getmany can return at once, again and again
            if self.should_stop:
                continue
            async for tp, message in batch:
                since_yield += 1
                if since_yield > YIELD_EVERY:
                    await asyncio.sleep(0)
                    since_yield = 0
                await deliver(self, ready, tp, message)
            self.diag.unset_flag(faust_consumer.CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if not self.transport.app.should_stop:
            raise
        self.log.info("Broker stopped consumer, shutting down...")
    except asyncio.CancelledError:
        if not self.transport.app.should_stop:
            raise
        self.log.info("Consumer shutting down for user cancel.")
    except Exception as error:
        self.log.exception("Drain messages raised: %r", error)
        raise
    finally:
        self.diag.unset_flag(faust_consumer.CONSUMER_FETCHING)


def patch_direct_delivery() -> None:
    """Replace faust-streaming's drain loop with `drain_messages`."""
    faust_consumer.Consumer._drain_messages = drain_messages  # type: ignore[method-assign]
