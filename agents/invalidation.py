"""Worker-side bumps of the cache's catalog epoch and user generations (`api.truth`).

Every worker bumps the epoch after its own catalog (the global table) applied an item change,
and the user's generation after it applied a consent change or erasure, so a page computed from
the state before the change is never served again. Bumps are coalesced in a background task:
the agents never wait for Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from api.redis_guard import redis_client
from api.truth import bump_catalog, bump_user
from streamrec.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


class Invalidator:
    """Queues bumps and sends them from one task; Redis failures back off for a while."""

    def __init__(self, redis: Redis | None, backoff_s: float) -> None:
        self._redis, self._backoff_s = redis, backoff_s
        self._catalog = False
        self._users: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._failed_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Invalidator:
        """An invalidator on the configured Redis (a no-op when Redis is disabled)."""
        return cls(redis_client(settings), settings.redis_backoff_s)

    def catalog_changed(self) -> None:
        """The catalog this worker reads changed."""
        self._catalog = True
        self._wake()

    def user_changed(self, user_id: str) -> None:
        """A user's consent or state was erased or reset on this worker."""
        self._users.add(user_id)
        self._wake()

    def _wake(self) -> None:
        if self._redis is None or (self._task is not None and not self._task.done()):
            return
        with contextlib.suppress(RuntimeError):  # no loop: the next flush sends them
            self._task = asyncio.get_running_loop().create_task(self.flush())

    async def flush(self) -> None:
        """Send every queued bump (the catalog once, each user once)."""
        while self._redis is not None and (self._catalog or self._users):
            if time.monotonic() - self._failed_at < self._backoff_s:
                await asyncio.sleep(self._backoff_s)
            catalog, users = self._catalog, sorted(self._users)
            self._catalog, self._users = False, set()
            try:
                if catalog:
                    await bump_catalog(self._redis)
                for user_id in users:
                    await bump_user(self._redis, user_id)
            except Exception as error:  # Redis away: retry after the back-off
                self._failed_at = time.monotonic()
                self._catalog = self._catalog or catalog
                self._users.update(users)
                log.warning("cache invalidation deferred: %r", error)
