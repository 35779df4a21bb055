"""Reasons shown beside recommended items."""

from __future__ import annotations

import random

from models.context import RequestContext, hydrate
from models.explain import explain
from models.types import Candidate, HistoryItem, ItemMeta, ItemSignals, UserView

NOW = 2_000_000.0
META = {
    "heat": ItemMeta("heat", "Heat", "crime"),
    "ronin": ItemMeta("ronin", "Ronin", "crime"),
    "fresh": ItemMeta("fresh", "Fresh", "drama", created_at=NOW - 3600),
}
VIEWED_HEAT = (HistoryItem("heat", "view", NOW - 60),)


def no_signals(item_id: str) -> ItemSignals | None:
    return None


def _ctx(user: UserView) -> RequestContext:
    return hydrate(
        None, user, no_signals, META.get, now=NOW, rng=random.Random(0), catalog=META.values
    )


def test_anchored_candidate_names_the_viewed_anchor() -> None:
    ctx = _ctx(UserView("u", history=VIEWED_HEAT))
    reason = explain(Candidate("ronin", "item2item", 1.0, "heat"), ctx, META.get)
    assert (reason.type, reason.text, reason.anchor_item_id) == (
        "because_you_viewed",
        "Because you viewed Heat",
        "heat",
    )


def test_anchor_the_user_bought_says_bought() -> None:
    ctx = _ctx(UserView("u", purchased={"heat": 1}))
    reason = explain(Candidate("ronin", "item2item", 1.0, "heat"), ctx, META.get)
    assert reason.text == "Because you bought Heat"


def test_sources_map_to_their_fixed_reasons() -> None:
    ctx = _ctx(UserView("u"))
    texts = {
        source: explain(Candidate("ronin", source, 1.0), ctx, META.get).text
        for source in ("trending", "explore", "als")
    }
    assert texts == {
        "trending": "Trending now",
        "explore": "Something different to explore",
        "als": "Popular with people like you",
    }


def test_new_items_say_new_in_their_category() -> None:
    reason = explain(Candidate("fresh", "content", 1.0), _ctx(UserView("u")), META.get)
    assert reason.text == "New in drama"


def test_opted_out_users_get_no_personal_reasons() -> None:
    candidate = Candidate("ronin", "item2item", 1.0, "heat")
    ctx = _ctx(UserView("u", history=VIEWED_HEAT, opted_out=True))
    assert not ctx.personalised
    reason = explain(candidate, ctx, META.get)
    assert "Heat" not in reason.text
    assert reason.anchor_item_id is None


def test_unknown_items_still_get_a_reason() -> None:
    reason = explain(Candidate("missing", "mystery", 1.0), _ctx(UserView("u")), META.get)
    assert reason.text
