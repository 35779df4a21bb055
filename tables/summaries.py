"""Every item's latest summary, folded from the whole item-summaries topic on each worker.

Each item's summaries come from the worker that owns its partition, in order; after a move the
next owner continues from the state the last one wrote. A summary whose `applied` is below the
one held (a late write of a previous owner) is ignored, so the map depends only on the set of
summaries read, never on how they interleave. Values stay encoded until read: a worker holds
one summary per catalog item, and serving reads few of them at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import orjson

from schemas.records import ItemSummary
from tables.item import ItemState, state_of_summary

log = logging.getLogger(__name__)

APPLIED = b'{"applied":'


def _applied(value: bytes) -> int:
    """The summary's `applied`, read from its first field when it comes first."""
    if value.startswith(APPLIED):
        return int(value[len(APPLIED) : value.index(b",", len(APPLIED))])
    applied = orjson.loads(value)["applied"]
    if not isinstance(applied, int):
        raise TypeError("item summary: applied must be an integer")
    return applied


class ItemSummaries:
    """item_id -> (applied, encoded ItemSummary): the newest summary of every item."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[int, bytes]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._held

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def apply(self, item_id: str, value: bytes | None) -> bool:
        """Fold one record (None: forget the item); False when an older summary was ignored.
        Raises ValueError or TypeError when the value has no `applied`; the rest is decoded
        when read."""
        if value is None:
            self._held.pop(item_id, None)
            return True
        applied = _applied(value)
        held = self._held.get(item_id)
        if held is not None and held[0] > applied:
            return False
        self._held[item_id] = (applied, value)
        return True

    def summary(self, item_id: str) -> ItemSummary | None:
        """The item's newest summary (None when no summary was read)."""
        held = self._held.get(item_id)
        return None if held is None else ItemSummary.loads(held[1])

    def state(self, item_id: str) -> ItemState | None:
        """The item state its newest summary describes (None when no summary was read, or
        when it cannot be decoded)."""
        try:
            summary = self.summary(item_id)
            return None if summary is None else state_of_summary(summary)
        except (ValueError, TypeError, KeyError) as error:
            log.error("undecodable summary of item %r: %r", item_id, error)
            return None
