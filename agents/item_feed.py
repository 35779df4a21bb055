"""Every worker reads the whole item-summaries topic (no group, no partition ownership) into one
complete map of item states; serving reads item signals only from it, so a page and an item's
view are the same whichever worker computes them and however many workers run.

Each item's owner publishes its summary after every batch that changed it (`agents.items`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.app import Worker
from agents.metrics import ITEM_SUMMARIES_HELD, ITEM_SUMMARIES_READ
from agents.views import signals_of
from models.types import ItemSignals
from streamrec.kafka import keep_reading, read_whole
from tables.summaries import ItemSummaries

log = logging.getLogger(__name__)
RETRY_S = 2.0


class ItemFeed:
    """This worker's complete map of item summaries, and the signals serving reads from it."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.topic: str = worker.topics.item_summaries.get_topic_name()
        self.summaries = ItemSummaries()
        self.positions: dict[int, int] = {}
        self.caught_up = asyncio.Event()
        """Set once the map holds every summary the topic held when this worker started."""

    def signals(self, item_id: str) -> ItemSignals | None:
        """The item's live counters, trend and arm, whichever worker owns it."""
        return signals_of(item_id, self.summaries.state(item_id))

    async def follow(self) -> None:
        """Fold the topic from its start, then every new summary; reconnect after a failure."""
        await self.worker.topics.item_summaries.maybe_declare()
        await keep_reading("item summaries", self._follow, RETRY_S)

    async def _follow(self) -> None:
        await read_whole(
            self.worker.settings,
            self.topic,
            lambda partition: self.positions.get(partition, 0),
            self._apply,
            self._loaded,
        )

    async def _apply(self, partition: int, records: list[Any]) -> None:
        summaries = self.summaries
        for record in records:
            key = record.key.decode() if record.key is not None else ""
            try:
                summaries.apply(key, record.value)
            except (ValueError, TypeError, KeyError) as error:
                log.error("skipping an undecodable item summary of %r: %r", key, error)
        self.positions[partition] = records[-1].offset + 1
        ITEM_SUMMARIES_READ.inc(len(records))
        ITEM_SUMMARIES_HELD.set(len(summaries))

    def _loaded(self) -> None:
        if not self.caught_up.is_set():
            self.caught_up.set()
            log.info("item summaries loaded: %d items", len(self.summaries))
