"""Per-user state: recent history, counters, decayed category affinity, purchases, the items
the user interacted with, dedupe ids.

`apply_interaction` mutates and returns the state it is given (a new one when given None), or
returns it untouched when the event_id was already applied. Replaying the same events in any
order gives the same history, counters, purchases, last_seen and version; affinity scores agree
up to float rounding. Deduplication remembers the last `dedupe_size` applied event_ids (by
arrival), so a retry arriving after that many newer events would count again.

History rows are kept as the JSON lists they are stored as ([timestamp, event_id, item_id,
type, value], oldest first) and are never modified in place, so loading and storing a state
copies only the outer list; `UserState.history` gives them as named tuples for readers.

`interacted` maps item ids to the bits of the interaction types the user had with them (see
`streamrec.interactions`), least recently touched first, at most `consumed_cap` ids. DISLIKED
follows the item's latest rating by event time (ties: any low rating wins), kept in `rated_at`.
Below the cap both are order independent; over it, which ids stay depends on arrival order, and
an id dropped and touched again starts from that event alone.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from streamrec.interactions import (
    CONSUMED_CAP,
    DEDUPE_WINDOW,
    DISLIKE_RATING,
    DISLIKED,
    HISTORY_SIZE,
    TYPE_BITS,
)
from tables.decay import DAY, add_decayed, decayed_to
from tables.dedupe import RecentIds

AFFINITY_HALF_LIFE = 7 * DAY
EVENT_WEIGHTS: dict[str, float] = {"view": 1.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0}
# A rating weighs its value times this: on a 1-5 scale, 5 stars weigh like a purchase.
RATING_WEIGHT_PER_POINT = 1.6


class EventFields(Protocol):
    """What the folds read of an event: an `Interaction` or any lighter validated record."""

    @property
    def event_id(self) -> str: ...
    @property
    def item_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def value(self) -> float | None: ...


class HistoryEntry(NamedTuple):
    """One interaction in the short-term history; sorts by (timestamp, event_id)."""

    timestamp: float
    event_id: str
    item_id: str
    type: str
    value: float | None


HistoryRow = list[Any]


def _row_key(row: HistoryRow) -> tuple[float, str]:
    return row[0], row[1]


@dataclass(slots=True)
class UserState:
    """Everything the online path knows about one user.

    Affinity scores are expressed at `affinity_at` (see `category_affinity` for scores at a
    given time); `interacted` holds interaction bits per item, `rated_at` the event time of the
    latest rating of each of those items that has one; `recent_ids` is the deduplication window.
    """

    rows: list[HistoryRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    affinity: dict[str, float] = field(default_factory=dict)
    affinity_at: float = 0.0
    purchased: dict[str, int] = field(default_factory=dict)
    interacted: dict[str, int] = field(default_factory=dict)
    rated_at: dict[str, float] = field(default_factory=dict)
    last_seen: float | None = None
    version: int = 0
    recent_ids: RecentIds = field(default_factory=RecentIds)

    @property
    def history(self) -> list[HistoryEntry]:
        """The short-term history, oldest first."""
        return list(map(HistoryEntry._make, self.rows))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (fresh containers; safe to keep while the state changes)."""
        return {
            "history": self.rows.copy(),
            "counts": self.counts.copy(),
            "affinity": self.affinity.copy(),
            "affinity_at": self.affinity_at,
            "purchased": self.purchased.copy(),
            "interacted": self.interacted.copy(),
            "rated_at": self.rated_at.copy(),
            "last_seen": self.last_seen,
            "version": self.version,
            "recent_event_ids": self.recent_ids.text,
            "recent_count": self.recent_ids.count,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserState:
        """Inverse of `to_json` (copies the containers it may change)."""
        return cls(
            rows=list(data["history"]),
            counts=dict(data["counts"]),
            affinity=dict(data["affinity"]),
            affinity_at=data["affinity_at"],
            purchased=dict(data["purchased"]),
            interacted=dict(data.get("interacted", {})),
            rated_at=dict(data.get("rated_at", {})),
            last_seen=data["last_seen"],
            version=data["version"],
            recent_ids=RecentIds(data["recent_event_ids"], data["recent_count"]),
        )


def event_weight(event_type: str, value: float | None) -> float:
    """Affinity weight of one event: view 1, click 2, add_to_cart 4, purchase 8, rating scaled."""
    if event_type == "rating":
        return max(value if value is not None else 1.0, 0.0) * RATING_WEIGHT_PER_POINT
    return EVENT_WEIGHTS.get(event_type, 0.0)


def apply_interaction(
    state: UserState | None,
    event: EventFields,
    category: str | None,
    *,
    history_size: int = HISTORY_SIZE,
    dedupe_size: int = DEDUPE_WINDOW,
    affinity_half_life: float = AFFINITY_HALF_LIFE,
    consumed_cap: int = CONSUMED_CAP,
    dislike_rating: float = DISLIKE_RATING,
) -> tuple[UserState, bool]:
    """Fold one event into the user's state; False (state untouched) for a seen event_id."""
    state = UserState() if state is None else state
    event_id = event.event_id
    if event_id in state.recent_ids:
        return state, False
    state.recent_ids.remember(event_id, dedupe_size)
    event_type, item_id, timestamp = event.type, event.item_id, event.timestamp
    _insert_row(state.rows, [timestamp, event_id, item_id, event_type, event.value], history_size)
    state.counts[event_type] = state.counts.get(event_type, 0) + 1
    if event_type == "purchase":
        state.purchased[item_id] = state.purchased.get(item_id, 0) + 1
    _touch(state, event, consumed_cap, dislike_rating)
    if category:
        weight = event_weight(event_type, event.value)
        state.affinity_at = add_decayed(
            state.affinity, state.affinity_at, category, weight, timestamp, affinity_half_life
        )
    if state.last_seen is None or timestamp > state.last_seen:
        state.last_seen = timestamp
    state.version += 1
    return state, True


def _touch(state: UserState, event: EventFields, cap: int, dislike_rating: float) -> None:
    """Set the event's bit on its item, made the most recent, dropping the oldest over `cap`."""
    item_id, interacted = event.item_id, state.interacted
    mask = interacted.pop(item_id, 0) | TYPE_BITS.get(event.type, 0)
    if event.type == "rating":
        mask = _rated(mask, state.rated_at, event, dislike_rating)
    interacted[item_id] = mask
    while len(interacted) > cap:
        oldest = next(iter(interacted))
        del interacted[oldest]
        state.rated_at.pop(oldest, None)


def _rated(mask: int, rated_at: dict[str, float], event: EventFields, dislike_rating: float) -> int:
    """`mask` with DISLIKED as the item's latest rating (by event time) says."""
    low = event.value is not None and event.value <= dislike_rating
    latest = rated_at.get(event.item_id)
    if latest is None or event.timestamp > latest:
        rated_at[event.item_id] = event.timestamp
        return mask | DISLIKED if low else mask & ~DISLIKED
    if event.timestamp == latest and low:
        return mask | DISLIKED
    return mask


def _insert_row(rows: list[HistoryRow], row: HistoryRow, history_size: int) -> None:
    if not rows or _row_key(row) >= _row_key(rows[-1]):
        rows.append(row)
    else:
        bisect.insort(rows, row, key=_row_key)
    if len(rows) > history_size:
        del rows[: len(rows) - history_size]


def category_affinity(
    state: UserState | None, now: float, *, affinity_half_life: float = AFFINITY_HALF_LIFE
) -> dict[str, float]:
    """The user's category scores decayed to `now` (a new dict; empty for an unknown user)."""
    if state is None:
        return {}
    return decayed_to(state.affinity, state.affinity_at, now, affinity_half_life)


def recent_items(state: UserState | None, limit: int = HISTORY_SIZE) -> list[str]:
    """Distinct item ids of the history, most recent first."""
    if state is None:
        return []
    seen: dict[str, None] = {}
    for row in reversed(state.rows):
        seen.setdefault(row[2], None)
        if len(seen) >= limit:
            break
    return list(seen)
