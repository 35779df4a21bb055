"""Interaction types as bits: the one encoding the user fold, serving and training share.

A user's `interacted` map holds, per item id, the OR of the bits of every type they had with it,
plus DISLIKED while their latest rating of it is at most the dislike threshold.
"""

from __future__ import annotations

from collections.abc import Iterable

VIEW, CLICK, ADD_TO_CART, PURCHASE, RATING = 1, 2, 4, 8, 16
DISLIKED = 32
TYPE_BITS: dict[str, int] = {
    "view": VIEW,
    "click": CLICK,
    "add_to_cart": ADD_TO_CART,
    "purchase": PURCHASE,
    "rating": RATING,
}
STRONGEST_FIRST: tuple[str, ...] = ("purchase", "rating", "add_to_cart", "click", "view")
CONSUMED_CAP = 5000
"""Item ids a user's state keeps in `interacted`; the least recently touched go first."""
DISLIKE_RATING = 2.0
"""A rating at or below this (on a 1-5 scale) marks the item DISLIKED."""
HISTORY_SIZE = 50
"""Interactions a user's short-term history keeps (STREAMREC_HISTORY_SIZE by default)."""
DEDUPE_WINDOW = 256
"""Recent event ids a user's state keeps to drop replays (STREAMREC_DEDUPE_WINDOW by default)."""


def mask_of(types: Iterable[str]) -> int:
    """The OR of the bits of `types` (unknown names raise KeyError)."""
    mask = 0
    for name in types:
        mask |= TYPE_BITS[name]
    return mask


def strongest(mask: int) -> str | None:
    """The strongest interaction type set in `mask` (None when none is)."""
    for name in STRONGEST_FIRST:
        if mask & TYPE_BITS[name]:
            return name
    return None
