"""Fixes for measured defects of the embedded broker and faust-streaming (notes/faust-on-tansu.md).

Each fix is applied once by `apply(settings)`; the first two have tests that fail without them:
- true_highwaters: Tansu answers ListOffsets(LATEST) with the base offset of the last record
  batch + 1, so Faust's changelog recovery stops short; a Fetch carries the true high watermark.
- fast_fetch: Faust hard-codes fetch_max_wait_ms=1500 for its worker consumer, and Tansu holds
  every fetch for half of it even when data arrives; the wait comes from STREAMREC_FETCH_WAIT_MS
  instead, always short. An idle worker would then fetch every few milliseconds (a third of a
  core for broker and worker together), so fetches rest on the client instead: once nothing was
  fetched or published for STREAMREC_IDLE_AFTER_S, up to STREAMREC_IDLE_FETCH_INTERVAL_MS between
  fetches, ended at once by records or by a publish of this process (`fetch_pace`).
  The worker consumer and the followers `paced()` rest; aiokafka's Fetcher runs each fetch as
  `_proc_fetch_request`, which the rest follows.
- commit_before_revoke: faust-streaming drops its acked offsets before the commit on revoke
  (faust-streaming issue #502); commit them first so a rebalance replays few processed events.
  Replays are harmless either way (the user gate drops a seen event_id); the rebalance test
  checks that each event is applied once across the group.
- direct_delivery: faust-streaming's drain loop spends four tasks on every message; deliver
  directly when nothing can make the delivery wait (agents/runtime/patches/delivery.py).
- keep_recovered_deliveries: at the end of recovery faust-streaming cleared the stream queues
  after events had been delivered into them, and a restarted worker could skip those events
  (agents/runtime/patches/recovery.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiokafka
from aiokafka.consumer import fetcher as aiokafka_fetcher
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from agents.runtime.patches import check_versions
from agents.runtime.patches.delivery import patch_direct_delivery
from agents.runtime.patches.fetch_pace import FetchPace
from agents.runtime.patches.recovery import patch_keep_recovered_deliveries
from streamrec.kafka import true_highwaters
from streamrec.settings import Settings

log = logging.getLogger(__name__)
_applied: set[str] = set()
_pace: FetchPace | None = None
"""The process's fetch pace, once fast_fetch is applied."""
# Draining and then committing on revoke each get this share of the session timeout (which is
# also the rebalance timeout, within which every member must rejoin), and at least the floor.
REVOKE_BUDGET_SHARE = 0.15
REVOKE_BUDGET_FLOOR_S = 0.8


def _patch_highwaters(settings: Settings) -> None:
    thread_cls = faust_aiokafka.AIOKafkaConsumerThread
    original = thread_cls._highwaters

    async def _highwaters(self: Any, partitions: list[TP]) -> Mapping[TP, int]:
        listed = await original(self, partitions)
        if self.consumer.in_transaction:
            return listed
        fixed = await true_highwaters(settings.bootstrap_servers, listed)
        return {TP(tp.topic, tp.partition): offset for tp, offset in fixed.items()}

    thread_cls._highwaters = _highwaters  # type: ignore[method-assign]


def _patch_fetch_wait(settings: Settings) -> None:
    global _pace
    pace = FetchPace(settings.idle_fetch_interval_ms / 1000, settings.idle_after_s)
    thread_cls = faust_aiokafka.AIOKafkaConsumerThread
    original = thread_cls._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = settings.fetch_wait_ms
        return _paced_once_started(consumer, pace)

    thread_cls._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
    _rest_between_fetches()
    _wake_on_publish(pace)
    _pace = pace


PACE = "_streamrec_pace"


def paced(consumer: aiokafka.AIOKafkaConsumer) -> aiokafka.AIOKafkaConsumer:
    """Let a started consumer's fetches rest while the process is idle (with fast_fetch)."""
    if _pace is not None:
        setattr(consumer._fetcher, PACE, _pace)
    return consumer


def _paced_once_started(
    consumer: aiokafka.AIOKafkaConsumer, pace: FetchPace
) -> aiokafka.AIOKafkaConsumer:
    started = consumer.start

    async def start() -> None:
        await started()
        setattr(consumer._fetcher, PACE, pace)

    consumer.start = start  # type: ignore[method-assign]
    return consumer


def _rest_between_fetches() -> None:
    """A Fetcher given a FetchPace rests after each fetch as the pace says."""
    fetcher_cls = aiokafka_fetcher.Fetcher
    original = fetcher_cls._proc_fetch_request

    async def _proc_fetch_request(self: Any, assignment: Any, node_id: Any, request: Any) -> bool:
        got: bool = await original(self, assignment, node_id, request)
        pace: FetchPace | None = getattr(self, PACE, None)
        if pace is not None:
            try:
                await pace.rest(got)
            except asyncio.CancelledError:  # closed or unassigned: as the original, no error
                return False
        return got

    fetcher_cls._proc_fetch_request = _proc_fetch_request  # type: ignore[method-assign]


def _wake_on_publish(pace: FetchPace) -> None:
    """Every record this process publishes ends the rests (its consumers may read it next)."""
    producer_cls = aiokafka.AIOKafkaProducer
    send, send_batch = producer_cls.send, producer_cls.send_batch

    async def woken_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        pace.wake()
        return await send(self, *args, **kwargs)

    async def woken_send_batch(self: Any, *args: Any, **kwargs: Any) -> Any:
        pace.wake()
        return await send_batch(self, *args, **kwargs)

    producer_cls.send = woken_send  # type: ignore[method-assign]
    producer_cls.send_batch = woken_send_batch  # type: ignore[method-assign]


def revoke_budget_s(settings: Settings) -> float:
    """Seconds each of the drain and the commit may take when partitions are revoked."""
    return max(settings.session_timeout_s * REVOKE_BUDGET_SHARE, REVOKE_BUDGET_FLOOR_S)


async def _drain_and_commit(consumer: Any, revoked: set[TP], budget: float) -> None:
    """Drop buffered events nobody started, finish the started ones, commit what was acked.

    Cleared events are never acked, so the commit stops before them and the next owner gets
    them; the commit runs even when the drain overruns, so a slow drain replays little.
    """
    consumer.stop_flow()
    consumer.app.flow_control.suspend()
    consumer.app.flow_control.clear()
    try:
        await asyncio.wait_for(consumer.wait_empty(), timeout=budget)
    except TimeoutError:
        log.warning("events still in progress after %.1f s of revoke; committing the acked", budget)
    await asyncio.wait_for(consumer.commit(revoked), timeout=budget)


def _patch_commit_before_revoke(settings: Settings) -> None:
    consumer_cls = faust_consumer.Consumer
    original = consumer_cls.on_partitions_revoked
    budget = revoke_budget_s(settings)

    async def on_partitions_revoked(self: Any, revoked: set[TP]) -> None:
        try:
            await _drain_and_commit(self, revoked, budget)
        except Exception as error:  # a failed early commit must not break the rebalance
            log.warning("commit before revoke failed: %r", error)
        await original(self, revoked)

    consumer_cls.on_partitions_revoked = on_partitions_revoked  # type: ignore[method-assign]


FIXES: dict[str, Callable[[Settings], None]] = {
    "true_highwaters": _patch_highwaters,
    "fast_fetch": _patch_fetch_wait,
    "commit_before_revoke": _patch_commit_before_revoke,
    "direct_delivery": lambda _settings: patch_direct_delivery(),
    "keep_recovered_deliveries": lambda _settings: patch_keep_recovered_deliveries(),
}


def apply(settings: Settings, names: Iterable[str] | None = None) -> list[str]:
    """Apply the named fixes (default: those STREAMREC_BROKER_FIXES names) once per process."""
    selected = list(settings.broker_fix_names) if names is None else list(names)
    if selected:
        check_versions()
    done = []
    for name in selected:
        if name not in _applied:
            FIXES[name](settings)
            _applied.add(name)
            done.append(name)
    return done
