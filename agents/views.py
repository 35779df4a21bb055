"""Table rows turned into the value types the API and models read (no writes here)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from agents.runtime.tables import Tables
from models.types import HistoryItem, ItemMeta, ItemSignals, UserView
from tables.consent import ConsentState
from tables.item import ItemState, arm_params, trending_score
from tables.user import UserState
from tables.windows import type_index, window_spec

DAY, HOUR = window_spec("24h"), window_spec("1h")
VIEW, CLICK, PURCHASE = type_index("view"), type_index("click"), type_index("purchase")


def user_view(
    user_id: str, state: dict[str, Any] | None, consent: dict[str, Any] | None
) -> UserView | None:
    """A user's live state as a UserView; None when nothing is known of the user."""
    opted_out = bool(consent and ConsentState.from_json(consent).opted_out)
    if not state:
        return UserView(user_id=user_id, opted_out=True) if opted_out else None
    user = UserState.from_json(state)
    return UserView(
        user_id=user_id,
        history=tuple(
            HistoryItem(e.item_id, e.type, e.timestamp, e.value) for e in reversed(user.history)
        ),
        purchased=user.purchased,
        category_affinity=user.affinity,
        counts=user.counts,
        version=user.version,
        opted_out=opted_out,
        interacted=user.interacted,
    )


def item_signals(
    item_id: str, state: dict[str, Any] | None, now: float | None = None
) -> ItemSignals | None:
    """An item's live counters, trend and arm as ItemSignals."""
    if not state:
        return None
    item = ItemState.from_json(state)
    now = time.time() if now is None else now
    alpha, beta = arm_params(item, now)
    day = item.windows.per_type(DAY, now)
    return ItemSignals(
        item_id=item_id,
        views_24h=day[VIEW],
        clicks_24h=day[CLICK],
        purchases_24h=day[PURCHASE],
        events_1h=sum(item.windows.per_type(HOUR, now)),
        events_all=sum(item.counts.values()),
        trending=trending_score(item, now),
        arm_alpha=alpha,
        arm_beta=beta,
        impressions=item.impressions,
        last_event_at=item.last_event_at,
    )


def item_meta(item_id: str, entry: dict[str, Any] | None) -> ItemMeta | None:
    """A catalog row as ItemMeta; None for unknown or deleted items."""
    if not entry:
        return None
    return ItemMeta(
        item_id=item_id,
        title=entry.get("title", ""),
        category=entry.get("category", ""),
        tags=tuple(entry.get("tags") or ()),
        price=entry.get("price"),
        in_stock=bool(entry.get("in_stock", True)),
        created_at=entry.get("created_at"),
    )


class TableReaders:
    """The worker's local tables read as the value types the API serves."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def user(self, user_id: str) -> UserView | None:
        """The user's live state."""
        tables = self.tables
        return user_view(user_id, tables.user_state.get(user_id), tables.user_consent.get(user_id))

    def signals(self, item_id: str) -> ItemSignals | None:
        """The item's live counters."""
        return item_signals(item_id, self.tables.item_state.get(item_id))

    def meta(self, item_id: str) -> ItemMeta | None:
        """The item's catalog row (global table)."""
        return item_meta(item_id, self.tables.catalog.get(item_id))

    def catalog_items(self) -> Iterator[ItemMeta]:
        """Every catalog item."""
        for item_id, entry in self.tables.catalog.items():
            meta = item_meta(item_id, entry)
            if meta is not None:
                yield meta

    def catalog_ids(self) -> Iterator[str]:
        """Every catalog item id."""
        yield from self.tables.catalog.keys()
