"""Plain value types shared by training and serving, so both run the same candidate code."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One past interaction of a user, as the candidate and feature code sees it."""

    item_id: str
    type: str
    timestamp: float
    value: float | None = None


@dataclass(frozen=True, slots=True)
class UserView:
    """What is known of a user at a moment: live tables online, the lake before a label offline.

    `interacted` maps item ids to interaction bits (`streamrec.interactions`), oldest first.
    """

    user_id: str
    history: Sequence[HistoryItem] = ()
    purchased: Mapping[str, int] = field(default_factory=dict)
    category_affinity: Mapping[str, float] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    version: int = 0
    opted_out: bool = False
    interacted: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemSignals:
    """Live per-item signals: windowed counts, trend and the Thompson arm."""

    item_id: str
    views_24h: int = 0
    clicks_24h: int = 0
    purchases_24h: int = 0
    events_1h: int = 0
    events_all: int = 0
    trending: float = 0.0
    arm_alpha: float = 1.0
    arm_beta: float = 1.0
    impressions: float = 0.0
    last_event_at: float | None = None


@dataclass(frozen=True, slots=True)
class ItemMeta:
    """Catalog facts about an item that rules and features need."""

    item_id: str
    title: str = ""
    category: str = ""
    tags: Sequence[str] = ()
    price: float | None = None
    in_stock: bool = True
    created_at: float | None = None


@dataclass(slots=True)
class Candidate:
    """An item proposed by one source, with the source's score and the item that led to it."""

    item_id: str
    source: str
    score: float
    anchor_item_id: str | None = None
    source_scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an item is shown: `{"type", "text", "anchor_item_id"}` on the wire."""

    type: str
    text: str
    anchor_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One item of a response page."""

    item_id: str
    score: float
    source: str
    reason: Reason


# Lookups the serving side backs with tables and training backs with lake snapshots.
SignalsLookup = Callable[[str], ItemSignals | None]
MetaLookup = Callable[[str], ItemMeta | None]
