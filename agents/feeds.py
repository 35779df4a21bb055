"""Topics every worker reads whole (no group, no partition ownership) into complete local maps:
item summaries and the catalog. Serving reads items only from these maps, so a page and an
item's view are the same whichever worker computes them and however many workers run.

Each item's owner publishes its summary after every batch that changed it (`agents.items`),
and writes catalog rows to the catalog table, whose changelog every worker folds here: Faust
keeps a global table's standby partitions only as they were at startup (faust-streaming issue
283), so its table alone holds just the rows of the partitions the worker owns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from agents.app import Worker
from agents.invalidation import Invalidator
from agents.runtime.consumers import paced
from agents.runtime.metrics import ITEM_SUMMARIES_HELD, ITEM_SUMMARIES_READ
from agents.views import item_meta, signals_of
from models.types import ItemMeta, ItemSignals
from streamrec.kafka import keep_reading, read_whole
from tables.summaries import ItemSummaries

log = logging.getLogger(__name__)
RETRY_S = 2.0
Fold = Callable[[str, bytes | None], Any]


class TopicFeed:
    """One topic read whole from its start, each record folded by `fold(key, value)`;
    `folded(count)` runs after each fetched batch."""

    def __init__(
        self, worker: Worker, topic: Any, what: str, fold: Fold, folded: Callable[[int], None]
    ) -> None:
        self.worker, self.topic, self.what = worker, topic, what
        self.fold, self.folded = fold, folded
        self.positions: dict[int, int] = {}
        self.caught_up = asyncio.Event()
        """Set once every record the topic held when this worker started is folded."""

    async def follow(self) -> None:
        """Fold the topic from its start, then every new record; reconnect after a failure."""
        await self.topic.maybe_declare()
        await keep_reading(self.what, self._follow, RETRY_S)

    async def _follow(self) -> None:
        await read_whole(
            self.worker.settings,
            self.topic.get_topic_name(),
            lambda partition: self.positions.get(partition, 0),
            self._apply,
            self._loaded,
            paced,
        )

    async def _apply(self, partition: int, records: list[Any]) -> None:
        for record in records:
            key = record.key.decode() if record.key is not None else ""
            try:
                self.fold(key, record.value)
            except (ValueError, TypeError, KeyError) as error:
                log.error("%s: skipping an undecodable record of %r: %r", self.what, key, error)
        self.positions[partition] = records[-1].offset + 1
        self.folded(len(records))

    def _loaded(self) -> None:
        if not self.caught_up.is_set():
            self.caught_up.set()
            log.info("%s loaded", self.what)


class ItemFeed:
    """Every item's newest summary, and the signals serving reads from them."""

    def __init__(self, worker: Worker) -> None:
        self.summaries = ItemSummaries()
        self.feed = TopicFeed(
            worker, worker.topics.item_summaries, "item summaries", self.summaries.apply, self._read
        )

    def signals(self, item_id: str) -> ItemSignals | None:
        """The item's live counters, trend and arm, whichever worker owns it."""
        return signals_of(item_id, self.summaries.state(item_id))

    def _read(self, count: int) -> None:
        ITEM_SUMMARIES_READ.inc(count)
        ITEM_SUMMARIES_HELD.set(len(self.summaries))


class CatalogFeed:
    """Every catalog row (the catalog table's changelog, all partitions), as JSON bytes, and
    each row read as ItemMeta once until it changes (pages read it for every candidate)."""

    def __init__(self, worker: Worker, invalidator: Invalidator) -> None:
        self.rows: dict[str, bytes] = {}
        self.metas: dict[str, ItemMeta] = {}
        self.feed = TopicFeed(
            worker,
            worker.tables.catalog.changelog_topic,
            "the catalog",
            self._fold,
            lambda _count: invalidator.catalog_changed(),
        )

    def _fold(self, item_id: str, value: bytes | None) -> None:
        self.metas.pop(item_id, None)
        if value is None:
            self.rows.pop(item_id, None)
        else:
            self.rows[item_id] = value

    def entry(self, item_id: str) -> dict[str, Any] | None:
        """The item's catalog row as stored (None: unknown or deleted)."""
        raw = self.rows.get(item_id)
        return None if raw is None else dict(orjson.loads(raw))

    def meta(self, item_id: str) -> ItemMeta | None:
        """The item's catalog row as ItemMeta."""
        meta = self.metas.get(item_id)
        if meta is None:
            meta = item_meta(item_id, self.entry(item_id))
            if meta is not None:  # unknown ids are not remembered: anyone can ask for any id
                self.metas[item_id] = meta
        return meta

    def ids(self) -> Iterator[str]:
        """Every catalog item id in id order (pools break ties by it, so it must not depend on
        which partition's rows arrived first), as the catalog was when the walk started."""
        yield from sorted(self.rows)

    def items(self) -> Iterator[ItemMeta]:
        """Every catalog item (as the catalog was when the walk started)."""
        for item_id in self.ids():
            meta = self.meta(item_id)
            if meta is not None:
                yield meta
