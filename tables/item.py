"""Per-item state: all-time and windowed counters, trending score and the Thompson arm.

`apply_item_event` and `apply_impression` mutate and return the state they are given (a new one
when given None). They are deterministic and, apart from float rounding in the decayed arm,
independent of arrival order.

Both are idempotent on the signal's id within a bounded window: the item remembers the ids of its
last `dedupe_size` signals (event_ids, and a stable id per served impression), so its own input
redelivered after a crash or a rebalance is not counted twice. A repeat arriving after that many
newer signals of the same item would count again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from schemas.records import SCHEMA_VERSION, ItemSummary
from tables.arms import ARM_HALF_LIFE, BetaArm
from tables.dedupe import RecentIds
from tables.user import EventFields
from tables.windows import WindowCounts, type_index, window_spec

TRENDING_SHORT = "1h"
TRENDING_LONG = "24h"
# Pseudo-events added to the expected short-window count, so a handful of events is not a trend.
TRENDING_PRIOR = 9.0
ITEM_DEDUPE_SIZE = 256
SUMMARY_CUT = b',"recent_event_ids":'
SUMMARY_TAIL = b',"schema_version":%d,"__faust":{"ns":"%s"}}' % (
    SCHEMA_VERSION,
    ItemSummary.namespace.encode(),
)


@dataclass(slots=True)
class ItemState:
    """Counters of one item: all time, windowed, impressions, its arm and recent signal ids."""

    counts: dict[str, int] = field(default_factory=dict)
    windows: WindowCounts = field(default_factory=WindowCounts)
    impressions: int = 0
    last_event_at: float | None = None
    arm: BetaArm = field(default_factory=BetaArm)
    recent_ids: RecentIds = field(default_factory=RecentIds)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (fresh containers; safe to keep while the state changes)."""
        return {
            "counts": self.counts.copy(),
            "windows": self.windows.to_json(),
            "impressions": self.impressions,
            "last_event_at": self.last_event_at,
            "arm": self.arm.to_json(),
            "recent_event_ids": self.recent_ids.text,
            "recent_count": self.recent_ids.count,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemState:
        """Inverse of `to_json` (copies the containers it keeps)."""
        return cls(
            counts=dict(data["counts"]),
            windows=WindowCounts.from_json(data["windows"]),
            impressions=data["impressions"],
            last_event_at=data["last_event_at"],
            arm=BetaArm.from_json(data["arm"]),
            recent_ids=RecentIds(data.get("recent_event_ids", " "), data.get("recent_count", 0)),
        )


def applied_signals(state: ItemState) -> int:
    """Signals folded into the state so far (events and impressions); never decreases."""
    return sum(state.counts.values()) + state.impressions


def summary_of(item_id: str, state: ItemState) -> ItemSummary:
    """What serving reads of the item: its state without the ids it deduplicates on."""
    return ItemSummary(
        applied=applied_signals(state),
        item_id=item_id,
        counts=state.counts.copy(),
        windows=state.windows.to_json(),
        impressions=state.impressions,
        last_event_at=state.last_event_at,
        arm=state.arm.to_json(),
    )


def summary_bytes(item_id: str, state: ItemState, encoded: bytes) -> bytes:
    """`summary_of(item_id, state)` as wire bytes, cut from `encoded`, the state's JSON bytes
    as stored (its remembered ids come last): the owner encodes each state once per batch."""
    cut = encoded.index(SUMMARY_CUT)
    head = b'{"applied":%d,"item_id":%s,' % (applied_signals(state), orjson.dumps(item_id))
    return head + encoded[1:cut] + SUMMARY_TAIL


def state_of_summary(summary: ItemSummary) -> ItemState:
    """The item state a summary describes (no remembered ids: never fold into it)."""
    return ItemState(
        counts=dict(summary.counts),
        windows=WindowCounts.from_json(summary.windows),
        impressions=summary.impressions,
        last_event_at=summary.last_event_at,
        arm=BetaArm.from_json(summary.arm),
    )


def _first_time(state: ItemState, signal_id: str | None, dedupe_size: int) -> bool:
    """Remember the signal's id; False when it was already applied (None: no id, always new)."""
    if signal_id is None:
        return True
    if signal_id in state.recent_ids:
        return False
    state.recent_ids.remember(signal_id, dedupe_size)
    return True


def apply_item_event(
    state: ItemState | None,
    event: EventFields,
    *,
    arm_half_life: float = ARM_HALF_LIFE,
    dedupe_size: int = ITEM_DEDUPE_SIZE,
) -> ItemState:
    """Fold one interaction into the item counters once per event_id; a click rewards the arm."""
    state = ItemState() if state is None else state
    event_type = event.type
    position = type_index(event_type)
    if not _first_time(state, event.event_id, dedupe_size):
        return state
    timestamp = event.timestamp
    state.counts[event_type] = state.counts.get(event_type, 0) + 1
    state.windows.add(timestamp, position)
    if state.last_event_at is None or timestamp > state.last_event_at:
        state.last_event_at = timestamp
    if event_type == "click":
        state.arm.observe(timestamp, 0.0, 1.0, arm_half_life)
    return state


def apply_impression(
    state: ItemState | None,
    timestamp: float,
    count: int = 1,
    *,
    signal_id: str | None = None,
    arm_half_life: float = ARM_HALF_LIFE,
    dedupe_size: int = ITEM_DEDUPE_SIZE,
) -> ItemState:
    """Fold `count` impressions of the item served at `timestamp` into its arm, once per id."""
    state = ItemState() if state is None else state
    if not _first_time(state, signal_id, dedupe_size):
        return state
    state.impressions += count
    state.arm.observe(timestamp, float(count), 0.0, arm_half_life)
    return state


def window_total(state: ItemState | None, window: str, now: float) -> int:
    """Events of every type in `window` ending at `now`."""
    if state is None:
        return 0
    if window == "all":
        return sum(state.counts.values())
    return sum(state.windows.per_type(window_spec(window), now))


def trending_score(state: ItemState | None, now: float) -> float:
    """How far the last hour runs above the item's 24-hour pace, in smoothed standard deviations.

    score = (short - expected) / sqrt(expected + TRENDING_PRIOR), where `expected` is the 24 h
    count scaled to one hour. Zero or negative means not trending; one event scores about 0.3.
    """
    short = window_total(state, TRENDING_SHORT, now)
    long = window_total(state, TRENDING_LONG, now)
    ratio = window_spec(TRENDING_SHORT).span / window_spec(TRENDING_LONG).span
    expected = long * ratio
    return (short - expected) / math.sqrt(expected + TRENDING_PRIOR)


def arm_params(
    state: ItemState | None, now: float, *, arm_half_life: float = ARM_HALF_LIFE
) -> tuple[float, float]:
    """Beta(alpha, beta) of the item's arm decayed to `now` (the prior 1, 1 when unknown)."""
    arm = BetaArm() if state is None else state.arm
    return arm.params(now, arm_half_life)
