"""The recommendation cache in Redis, keyed by user state version so new events invalidate it."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from api.metrics import ApiMetrics

if TYPE_CHECKING:
    from redis.asyncio import Redis

CachedPage = list[dict[str, Any]]


def cache_key(
    user_id: str,
    user_version: int | str,
    model_version: str,
    count: int,
    exclude: Collection[str],
    category: str | None,
) -> str:
    """`rec:{user_id}:{user.version}:{model_version}:{count}:{exclude}:{category}`."""
    excluded = ",".join(sorted(exclude))
    return f"rec:{user_id}:{user_version}:{model_version}:{count}:{excluded}:{category or ''}"


class RecCache:
    """Pages of recommendations with a TTL; any Redis failure is a counted miss, never an error."""

    def __init__(self, redis: Redis | None, ttl_s: float, metrics: ApiMetrics) -> None:
        self._redis = redis
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._metrics = metrics
        self.last_error: str | None = None if redis is not None else "not configured"

    async def get(self, key: str) -> CachedPage | None:
        """The cached page under `key`, None on a miss or when Redis fails."""
        if self._redis is None:
            self._metrics.cache.labels(result="disabled").inc()
            return None
        try:
            raw = await self._redis.get(key)
        except (RedisError, OSError) as error:
            self._failed("get", error)
            return None
        self.last_error = None
        self._metrics.cache.labels(result="hit" if raw is not None else "miss").inc()
        if raw is None:
            return None
        page: CachedPage = json.loads(raw)
        return page

    async def put(self, key: str, page: CachedPage) -> None:
        """Store a page under `key` for the TTL (failures are counted and ignored)."""
        if self._redis is None:
            return
        try:
            await self._redis.set(key, json.dumps(page, separators=(",", ":")), px=self._ttl_ms)
        except (RedisError, OSError) as error:
            self._failed("put", error)

    def _failed(self, operation: str, error: Exception) -> None:
        self.last_error = f"{operation} failed: {error}"
        self._metrics.cache.labels(result="error").inc()
        self._metrics.redis_errors.labels(use="cache").inc()
