"""Purchases this worker accepted that the user's state does not show yet (read your writes).

A purchase leaves the next page as soon as POST /v1/events answered 202, without waiting for
the user's actor to fold it: the recommendation route treats these items as bought until the
state lists them or PENDING_TTL_S passes. It holds for pages this worker computes; a page
forwarded to another worker waits for that worker's state as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from models.types import UserView
from streamrec.interactions import PURCHASE

PENDING_TTL_S = 30.0
MAX_USERS = 10_000


class PendingPurchases:
    """Per user, items bought through this worker with the time they were accepted (bounded)."""

    def __init__(
        self,
        ttl_s: float = PENDING_TTL_S,
        max_users: int = MAX_USERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s, self._max_users, self._clock = ttl_s, max_users, clock
        self._by_user: OrderedDict[str, dict[str, float]] = OrderedDict()

    def add(self, user_id: str, item_id: str) -> None:
        """Remember that `user_id` bought `item_id` just now."""
        items = self._by_user.pop(user_id, {})
        items[item_id] = self._clock()
        self._by_user[user_id] = items
        while len(self._by_user) > self._max_users:
            self._by_user.popitem(last=False)

    def overlay(self, user: UserView) -> tuple[UserView, tuple[str, ...]]:
        """`user` with the purchases their state lacks added, and those items (sorted)."""
        items = self._by_user.get(user.user_id)
        if not items:
            return user, ()
        oldest = self._clock() - self._ttl_s
        waiting = {i: t for i, t in items.items() if t > oldest and i not in user.purchased}
        if not waiting:
            del self._by_user[user.user_id]
            return user, ()
        self._by_user[user.user_id] = waiting
        pending = tuple(sorted(waiting))
        purchased = {**user.purchased, **dict.fromkeys(pending, 1)}
        interacted = dict(user.interacted)
        for item_id in pending:
            interacted[item_id] = interacted.pop(item_id, 0) | PURCHASE
        return replace(user, purchased=purchased, interacted=interacted), pending
