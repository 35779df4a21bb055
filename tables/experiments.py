"""Experiment tallies: each user's exposure per variant and additive per-variant sums, folded
per partition and deduplicated on impression request ids and event ids.

Everything of one user-keyed partition lives in that partition of one table, so a batch's
changes reach its changelog together (one record batch per partition):
- `u|<user>`: the user's `UserExposure`, their counts per arm (`experiment|run|variant`), the
  arms that served each of their recent pages (a click is credited only to the arms that served
  its `request_id`) and outcomes waiting for their page's impression;
- `t|<arm>|<partition>`: the `VariantSums` of the partition's users in that arm;
- `h|<arm>|<partition>`: the `Timeline` of the partition's pages, clicks and conversions;
- `s|<partition>|<slot>`: a bounded window of seen ids, hashed over SEEN_SLOTS records.
A variant's totals are the sum of its sums (and timelines) over every partition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tables.dedupe import RecentIds
from tables.timeline import Timeline
from tables.variant_sums import ArmCounts, VariantSums

CONVERSION_TYPES = frozenset({"add_to_cart", "purchase"})
CREDITED_TYPES = CONVERSION_TYPES | {"click"}
SERVED_LIMIT = 64
"""Recent pages per user whose arms are remembered for crediting their clicks."""
PENDING_LIMIT = 32
"""Outcomes per user kept while the impression of their page has not been applied yet."""
SEEN_SLOTS = 64
SEEN_PER_SLOT = 128
"""Seen ids per partition: SEEN_SLOTS records of SEEN_PER_SLOT ids (8,192 ids)."""

Reader = Callable[[str], Any]


def arm_key(experiment_id: str, run_id: str, variant: str) -> str:
    """The key of one variant of one run of an experiment."""
    return f"{experiment_id}|{run_id}|{variant}"


def user_key(user_id: str) -> str:
    """Key of a user's exposure record."""
    return f"u|{user_id}"


def sums_key(arm: str, partition: int) -> str:
    """Key of an arm's sums over the users of one partition."""
    return f"t|{arm}|{partition}"


def timeline_key(arm: str, partition: int) -> str:
    """Key of an arm's timeline over the users of one partition."""
    return f"h|{arm}|{partition}"


def seen_key(partition: int, seen_id: str) -> str:
    """Key of the seen-id slot that holds `seen_id` in `partition`."""
    digest = hashlib.blake2b(seen_id.encode(), digest_size=4).digest()
    return f"s|{partition}|{int.from_bytes(digest, 'big') % SEEN_SLOTS}"


@dataclass(slots=True)
class UserExposure:
    """A user's arms, the arms of their recent pages, and outcomes awaiting their page."""

    arms: dict[str, ArmCounts] = field(default_factory=dict)
    served: dict[str, list[str]] = field(default_factory=dict)
    pending: list[list[Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserExposure:
        """Inverse of `to_json`."""
        arms = {key: ArmCounts(**counts) for key, counts in data["arms"].items()}
        return cls(arms, dict(data["served"]), [list(p) for p in data["pending"]])


class TallyFold:
    """Folds one partition's impressions, outcomes and erasures; `writes` holds what changed."""

    def __init__(self, partition: int, read: Reader) -> None:
        self.partition = partition
        self._read = read
        self.writes: dict[str, Any] = {}
        self._users: dict[str, UserExposure | None] = {}
        self._sums: dict[str, VariantSums] = {}
        self._timelines: dict[str, Timeline] = {}
        self._seen: dict[str, RecentIds] = {}

    def impression(
        self, user_id: str, request_id: str, arms: Iterable[str], n_items: int, at: float = 0.0
    ) -> bool:
        """Count a page served at `at` for each of its arms; False for a request id already
        seen."""
        arms = list(arms)
        if not arms or not self._first(f"imp:{request_id}"):
            return False
        exposure = self._user(user_id) or UserExposure()
        for arm in arms:
            counts = exposure.arms.get(arm)
            after = ArmCounts() if counts is None else replace(counts)
            after.impressions += n_items
            after.requests += 1
            self._change(arm, counts, after)
            self._count(arm, at, requests=1, impressions=n_items)
            exposure.arms[arm] = after
        exposure.served[request_id] = arms
        _trim_served(exposure)
        waiting = [p for p in exposure.pending if p[0] == request_id]
        exposure.pending = [p for p in exposure.pending if p[0] != request_id]
        for _, event_type, *when in waiting:
            self._credit(exposure, arms, event_type, when[0] if when else at)
        self._store(user_id, exposure)
        return True

    def outcome(
        self,
        user_id: str,
        event_id: str,
        request_id: str,
        event_type: str,
        hold: bool = True,
        at: float = 0.0,
    ) -> bool:
        """Credit a click or conversion made at `at` to the arms that served `request_id` (held
        until that page's impression when it is not applied yet and `hold`); False when not
        counted."""
        if event_type not in CREDITED_TYPES:
            return False
        exposure = self._user(user_id)
        arms = None if exposure is None else exposure.served.get(request_id)
        if (arms is None and not hold) or not self._first(f"evt:{event_id}"):
            return False
        if arms is not None and exposure is not None:
            self._credit(exposure, arms, event_type, at)
        else:
            exposure = exposure or UserExposure()
            waiting = [request_id, event_type, at]
            exposure.pending = [*exposure.pending, waiting][-PENDING_LIMIT:]
        self._store(user_id, exposure)
        return True

    def erase(self, user_id: str) -> None:
        """Remove the user's contributions from every arm and forget the user."""
        exposure = self._user(user_id)
        if exposure is None:
            return
        for arm, counts in exposure.arms.items():
            self._change(arm, counts, None)
        self._users[user_id] = None
        self.writes[user_key(user_id)] = None

    def _credit(
        self, exposure: UserExposure, arms: Iterable[str], event_type: str, at: float
    ) -> None:
        click = event_type == "click"
        for arm in arms:
            counts = exposure.arms.get(arm)
            if counts is None:
                continue
            after = replace(counts)
            if click:
                after.clicks += 1
            else:
                after.conversions += 1
            self._change(arm, counts, after)
            self._count(arm, at, clicks=int(click), conversions=int(not click))
            exposure.arms[arm] = after

    def _change(self, arm: str, before: ArmCounts | None, after: ArmCounts | None) -> None:
        key = sums_key(arm, self.partition)
        sums = self._sums.get(key)
        if sums is None:
            stored = self._read(key)
            sums = self._sums[key] = VariantSums.from_json(stored) if stored else VariantSums()
        if before is not None:
            sums.add(before, -1)
        if after is not None:
            sums.add(after, 1)
        self.writes[key] = sums.to_json()

    def _count(self, arm: str, at: float, **counts: int) -> None:
        key = timeline_key(arm, self.partition)
        timeline = self._timelines.get(key)
        if timeline is None:
            stored = self._read(key)
            timeline = Timeline.from_json(stored) if stored else Timeline()
            self._timelines[key] = timeline
        timeline.add(at, **counts)
        self.writes[key] = timeline.to_json()

    def _first(self, seen_id: str) -> bool:
        key = seen_key(self.partition, seen_id)
        window = self._seen.get(key)
        if window is None:
            stored = self._read(key)
            window = self._seen[key] = RecentIds(*stored) if stored else RecentIds()
        if seen_id in window:
            return False
        window.remember(seen_id, SEEN_PER_SLOT)
        self.writes[key] = [window.text, window.count]
        return True

    def _user(self, user_id: str) -> UserExposure | None:
        if user_id not in self._users:
            stored = self._read(user_key(user_id))
            self._users[user_id] = UserExposure.from_json(stored) if stored else None
        return self._users[user_id]

    def _store(self, user_id: str, exposure: UserExposure) -> None:
        self._users[user_id] = exposure
        self.writes[user_key(user_id)] = exposure.to_json()


def _trim_served(exposure: UserExposure) -> None:
    while len(exposure.served) > SERVED_LIMIT:
        del exposure.served[next(iter(exposure.served))]
