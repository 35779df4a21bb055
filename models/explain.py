"""One human-readable reason per recommended item, from its candidate source and anchor."""

from __future__ import annotations

from models.types import Candidate, MetaLookup, Reason, UserView

NEW_ITEM_AGE_S = 14 * 86_400.0
PERSONAL_SOURCES = frozenset({"als", "ease", "personal", "user_vector", "retrieval"})
BUY_AGAIN_SOURCES = frozenset({"buy_again", "rebuy"})
FIXED_REASONS: dict[str, Reason] = {
    "trending": Reason("trending", "Trending now"),
    "popular": Reason("popular", "Popular right now"),
    "explore": Reason("explore", "Something different to explore"),
}


def explain(
    candidate: Candidate, user: UserView, meta: MetaLookup, now: float, personalised: bool = True
) -> Reason:
    """The reason shown beside one item; never empty."""
    if personalised and candidate.anchor_item_id is not None:
        anchored = _anchored(candidate.anchor_item_id, user, meta)
        if anchored is not None:
            return anchored
    if candidate.source in BUY_AGAIN_SOURCES:
        return _bought(candidate.item_id, meta) if personalised else FIXED_REASONS["popular"]
    if personalised and candidate.source in PERSONAL_SOURCES:
        return Reason("similar_users", "Popular with people like you")
    if candidate.source in FIXED_REASONS:
        return FIXED_REASONS[candidate.source]
    return _fresh_or_default(candidate.item_id, meta, now)


def _anchored(anchor_id: str, user: UserView, meta: MetaLookup) -> Reason | None:
    anchor = meta(anchor_id)
    if anchor is None or not anchor.title:
        return None
    if anchor_id in user.purchased:
        return Reason("because_you_bought", f"Because you bought {anchor.title}", anchor_id)
    return Reason("because_you_viewed", f"Because you viewed {anchor.title}", anchor_id)


def _bought(item_id: str, meta: MetaLookup) -> Reason:
    item = meta(item_id)
    title = item.title if item is not None and item.title else "this"
    return Reason("buy_again", f"Buy {title} again", item_id)


def _fresh_or_default(item_id: str, meta: MetaLookup, now: float) -> Reason:
    item = meta(item_id)
    fresh = (
        item is not None and item.created_at is not None and now - item.created_at <= NEW_ITEM_AGE_S
    )
    if item is not None and item.category and fresh:
        return Reason("new_in_category", f"New in {item.category}")
    if item is not None and item.category:
        return Reason("category", f"Picked from {item.category}")
    return Reason("recommended", "Recommended for you")
