"""Replaying shadow variants: how the pages a shadow variant computed (logged in impressions,
never shown) compare with the shown pages against what each user did afterwards.

Shown pages shape what users click, so engagements through recommendations favour them; by
default only organic engagements count (events carrying no `request_id`), and the figures are a
screen before a real A/B test, not a verdict.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

ENGAGEMENTS = frozenset({"click", "add_to_cart", "purchase"})
Record = Mapping[str, Any]


@dataclass
class ShadowComparison:
    """One shadow variant against the shown pages of the same requests."""

    experiment_id: str
    variant: str
    pages: int = 0
    overlap: float = 0.0
    """Mean Jaccard overlap of the shown and the shadow page's items."""
    engagements: int = 0
    """Engagements within the horizon after the pages (what both pages are scored on)."""
    shown_hits: int = 0
    shadow_hits: int = 0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)


class _Timeline:
    """Each user's engagements in time order."""

    def __init__(self, events: Iterable[Record], organic_only: bool) -> None:
        rows: dict[str, list[tuple[float, str, str | None]]] = {}
        for event in events:
            if event.get("type") not in ENGAGEMENTS:
                continue
            request_id = (event.get("context") or {}).get("request_id")
            if organic_only and request_id:
                continue
            row = (float(event["timestamp"]), str(event["item_id"]), request_id)
            rows.setdefault(str(event["user_id"]), []).append(row)
        self.rows = {user: sorted(found, key=lambda row: row[0]) for user, found in rows.items()}
        self.times = {user: [row[0] for row in found] for user, found in self.rows.items()}

    def after(self, user_id: str, start: float, end: float, request_id: str) -> list[str]:
        """Items the user engaged with in (start, end], not through this very page."""
        times = self.times.get(user_id, [])
        first, last = bisect.bisect_right(times, start), bisect.bisect_right(times, end)
        rows = self.rows.get(user_id, [])[first:last]
        return [item for _, item, via in rows if via != request_id]


def compare_shadow(
    impressions: Iterable[Record],
    events: Iterable[Record],
    horizon_s: float = 86_400.0,
    organic_only: bool = True,
) -> list[ShadowComparison]:
    """Per (experiment, shadow variant): pages, overlap with the shown page, and how many of the
    users' later engagements landed on an item of the shown page and of the shadow page."""
    timeline = _Timeline(events, organic_only)
    found: dict[tuple[str, str], ShadowComparison] = {}
    for impression in impressions:
        shown = {item["item_id"] for item in impression["items"]}
        start = float(impression["timestamp"])
        later = timeline.after(
            str(impression["user_id"]), start, start + horizon_s, str(impression["request_id"])
        )
        for page in impression.get("shadow") or ():
            key = (str(page["experiment_id"]), str(page["variant"]))
            comparison = found.setdefault(key, ShadowComparison(*key))
            shadow = {item["item_id"] for item in page["items"]}
            union = shown | shadow
            comparison.overlap += len(shown & shadow) / len(union) if union else 1.0
            comparison.pages += 1
            comparison.engagements += len(later)
            comparison.shown_hits += sum(item in shown for item in later)
            comparison.shadow_hits += sum(item in shadow for item in later)
    for comparison in found.values():
        comparison.overlap = comparison.overlap / comparison.pages
    return sorted(found.values(), key=lambda c: (c.experiment_id, c.variant))
