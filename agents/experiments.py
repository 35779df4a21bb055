"""`tally_experiments`: impressions feed item arms and per-variant tallies of experiments."""

from __future__ import annotations

import json
from typing import Any

from faust.types import EventT

from agents.app import Worker
from agents.context import SignalBatch, write
from agents.dead_letters import decode_json, send_dead_letter
from agents.metrics import EVENTS_PROCESSED
from agents.table_batch import kafka_producer
from schemas.records import Impression
from streamrec import topics
from tables.experiments import VariantTally, tally_event, tally_impression


def impression_signal_id(request_id: str, item_id: str) -> str:
    """The stable id of one served item's impression signal (the same on every redelivery)."""
    return f"imp:{request_id}:{item_id}"


async def forward_impression(worker: Worker, event: EventT[Any], impression: Impression) -> None:
    """Send a served page's impressions to its items and, in an experiment, to its variant."""
    signals = SignalBatch(worker.settings.partitions)
    for item in impression.items:
        signal_id = impression_signal_id(impression.request_id, item.item_id)
        signals.add([item.item_id, signal_id, "impression", impression.timestamp, 1])
    await signals.send(kafka_producer(worker.app), worker.topics.item_signals.get_topic_name())
    if not impression.experiment_id or not impression.variant:
        return
    user_experiments = worker.tables.user_experiments
    assigned = dict(user_experiments.get(impression.user_id) or {})
    new_user = impression.experiment_id not in assigned
    if new_user:
        assigned[impression.experiment_id] = impression.variant
        write(user_experiments, impression.user_id, assigned, event)
    update = {"kind": "impression", "n_items": len(impression.items), "new_user": new_user}
    await worker.topics.tally_updates.send(
        key=f"{impression.experiment_id}|{impression.variant}", value=json.dumps(update).encode()
    )


def fold_tally(tally: VariantTally | None, update: dict[str, Any]) -> VariantTally:
    """Apply one tally update (an impression page or a click/conversion)."""
    if update["kind"] == "impression":
        return tally_impression(tally, int(update["n_items"]), bool(update["new_user"]))
    return tally_event(tally, str(update["kind"]))


def install(worker: Worker) -> None:
    """Register `tally_experiments` and `count_variant_tallies` on the worker's app."""
    dead_letters, tallies = worker.topics.dead_letters, worker.tables.variant_tallies

    @worker.app.agent(worker.topics.impressions)
    async def tally_experiments(stream: Any) -> None:
        """Each served page: impressions for item arms, exposure and users for its variant."""
        async for event in stream.events():
            try:
                impression = Impression.from_data(decode_json(event.value))
            except (ValueError, KeyError, TypeError) as error:
                await send_dead_letter(dead_letters, event, f"impression: {error!r}")
                continue
            await forward_impression(worker, event, impression)
            EVENTS_PROCESSED.labels(topics.IMPRESSIONS, "impression").inc()

    @worker.app.agent(worker.topics.tally_updates)
    async def count_variant_tallies(stream: Any) -> None:
        """Impressions, clicks, conversions and users per (experiment, variant)."""
        async for event in stream.events():
            current = tallies.get(event.key)
            try:
                tally = fold_tally(
                    VariantTally.from_json(current) if current else None, decode_json(event.value)
                )
            except (ValueError, KeyError, TypeError) as error:
                await send_dead_letter(dead_letters, event, f"tally update: {error!r}")
                continue
            write(tallies, event.key, tally.to_json(), event)
