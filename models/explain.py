"""One human-readable reason per recommended item, from its candidate source and anchor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.types import Candidate, MetaLookup, Reason, UserView
from streamrec.interactions import PURCHASE, TYPE_BITS, strongest

if TYPE_CHECKING:
    from models.context import RequestContext

NEW_ITEM_AGE_S = 14 * 86_400.0
PERSONAL_SOURCES = frozenset({"als", "ease"})
FIXED_REASONS: dict[str, Reason] = {
    "trending": Reason("trending", "Trending now"),
    "explore": Reason("explore", "Something different to explore"),
}
"""The reason of each source whose items are not anchored on the user (models.sources)."""
POPULAR = Reason("popular", "Popular right now")
"""A buy-again item shown to someone served without personalisation."""
BECAUSE: dict[str, tuple[str, str]] = {
    "purchase": ("because_you_bought", "Because you bought {}"),
    "rating": ("because_you_rated", "Because you rated {}"),
    "add_to_cart": ("because_you_added", "Because you added {} to your cart"),
    "click": ("because_you_viewed", "Because you viewed {}"),
    "view": ("because_you_viewed", "Because you viewed {}"),
}
AGAIN: dict[str, tuple[str, str]] = {
    "purchase": ("buy_again", "Buy {} again"),
    "add_to_cart": ("in_your_cart", "Still in your cart: {}"),
    "click": ("viewed_before", "You looked at {} before"),
    "view": ("viewed_before", "You looked at {} before"),
}


def explain(candidate: Candidate, ctx: RequestContext, meta: MetaLookup) -> Reason:
    """The reason shown beside one item; never empty."""
    personalised = ctx.personalised
    if personalised:
        again = ctx.consumed.revisit.get(candidate.item_id)
        if candidate.source == "rebuy" or again is not None:
            return _again(candidate.item_id, again or "purchase", meta)
        if candidate.anchor_item_id is not None:
            anchored = _anchored(candidate.anchor_item_id, ctx.user, meta)
            if anchored is not None:
                return anchored
        if candidate.source in PERSONAL_SOURCES:
            return Reason("similar_users", "Popular with people like you")
        if candidate.source == "sequence":
            return Reason("after_recent", "Often picked next after your recent items")
    if candidate.source == "rebuy":
        return POPULAR
    if candidate.source in FIXED_REASONS:
        return FIXED_REASONS[candidate.source]
    return _fresh_or_default(candidate.item_id, meta, ctx.now)


def strongest_interaction(user: UserView, item_id: str) -> str | None:
    """The strongest interaction type the user had with the item (None: none known)."""
    bits = user.interacted.get(item_id, 0)
    for event in user.history:
        if event.item_id == item_id:
            bits |= TYPE_BITS.get(event.type, 0)
    if item_id in user.purchased:
        bits |= PURCHASE
    return strongest(bits)


def _anchored(anchor_id: str, user: UserView, meta: MetaLookup) -> Reason | None:
    anchor = meta(anchor_id)
    kind = strongest_interaction(user, anchor_id)
    if anchor is None or not anchor.title or kind is None:
        return None
    code, text = BECAUSE[kind]
    return Reason(code, text.format(anchor.title), anchor_id)


def _again(item_id: str, kind: str, meta: MetaLookup) -> Reason:
    item = meta(item_id)
    title = item.title if item is not None and item.title else "this"
    code, text = AGAIN.get(kind, AGAIN["view"])
    return Reason(code, text.format(title), item_id)


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
