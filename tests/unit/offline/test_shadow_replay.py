"""Replaying shadow pages against what users did afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from offline.shadow_replay import compare_shadow


def impression(request_id: str, at: float, shown: list[str], shadow: list[str]) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "user_id": "u1",
        "timestamp": at,
        "items": [{"item_id": i} for i in shown],
        "shadow": [
            {"experiment_id": "exp", "variant": "bold", "items": [{"item_id": i} for i in shadow]}
        ],
    }


def event(item: str, at: float, kind: str = "purchase", request_id: str | None = None) -> Any:
    context = {"request_id": request_id} if request_id else None
    return {"user_id": "u1", "item_id": item, "type": kind, "timestamp": at, "context": context}


def test_shadow_pages_are_scored_on_later_organic_engagements() -> None:
    impressions = [impression("r1", 100.0, ["a", "b"], ["b", "c"])]
    events = [
        event("c", 50.0),  # before the page
        event("c", 150.0),  # organic, on the shadow page only
        event("a", 160.0, "click", request_id="r1"),  # through the shown page: not organic
        event("b", 170.0, "view"),  # not an engagement
        event("b", 180.0, "add_to_cart"),  # on both pages
        event("c", 100.0 + 86_400.0 + 1),  # after the horizon
    ]
    [result] = compare_shadow(impressions, events)
    assert (result.experiment_id, result.variant, result.pages) == ("exp", "bold", 1)
    assert result.overlap == pytest.approx(1 / 3)
    assert (result.engagements, result.shown_hits, result.shadow_hits) == (2, 1, 2)


def test_engagements_through_other_pages_count_when_asked() -> None:
    impressions = [impression("r1", 100.0, ["a"], ["c"])]
    events = [event("a", 120.0, "click", request_id="r1"), event("a", 130.0, request_id="r2")]
    [organic] = compare_shadow(impressions, events)
    [every] = compare_shadow(impressions, events, organic_only=False)
    assert organic.engagements == 0
    assert (every.engagements, every.shown_hits, every.shadow_hits) == (1, 1, 0)
