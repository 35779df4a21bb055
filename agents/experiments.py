"""`tally_experiments`: impressions feed item arms and the experiment tallies; the user actor
credits clicks and conversions (`agents.tallies`)."""

from __future__ import annotations

from typing import Any

from faust.types import EventT

from agents.app import Worker
from agents.dead_letters import decode_json, emit_dead_letter
from agents.keys import check_key
from agents.runtime.batching import BatchWindow, take_batches
from agents.runtime.context import SignalBatch
from agents.runtime.metrics import EVENTS_PROCESSED
from agents.runtime.transaction import Runtime
from agents.tallies import Tallies
from schemas.validate_impression import parse_impression
from streamrec import topics
from streamrec.errors import InvalidRecord

BATCH_SIZE = 1000


def impression_signal_id(request_id: str, item_id: str) -> str:
    """The stable id of one served item's impression signal (the same on every redelivery)."""
    return f"imp:{request_id}:{item_id}"


async def apply_impressions(
    runtime: Runtime, partitions: int, tallies: Tallies, batch: list[EventT[Any]]
) -> int:
    """Item signals and experiment tallies of a batch of impressions."""
    transaction = runtime.transaction()
    impressions = []
    for event in batch:
        try:
            impression = parse_impression(decode_json(event.value))
            check_key(event.key, impression.user_id, "user_id")
        except (ValueError, InvalidRecord) as error:
            emit_dead_letter(transaction, event, str(error))
            continue
        impressions.append(impression)
    tallies.impressions(transaction, impressions)
    signals = SignalBatch(partitions)
    for impression in impressions:
        for item in impression.items:
            signal_id = impression_signal_id(impression.request_id, item.item_id)
            signals.add([item.item_id, signal_id, "impression", impression.timestamp, 1])
    signals.emit(transaction, topics.ITEM_SIGNALS)
    await transaction.commit()
    EVENTS_PROCESSED.labels(topics.IMPRESSIONS, "impression").inc(len(impressions))
    return len(impressions)


def install(worker: Worker, tallies: Tallies) -> None:
    """Register `tally_experiments` on the worker's app."""
    partitions = worker.settings.partitions

    @worker.app.agent(worker.topics.impressions)
    async def tally_experiments(stream: Any) -> None:
        """Each served page: impressions for item arms, exposure for its experiments' variants."""
        async for batch in take_batches(stream, BATCH_SIZE, BatchWindow()):
            async with tallies.lock:
                await apply_impressions(worker.runtime, partitions, tallies, list(batch))
