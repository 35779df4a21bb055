"""The recommendation cache in Redis, keyed by user state version, consent generation, catalog
epoch and model version, so new events, consent changes, erasure, item changes and activations
each invalidate it (`api.truth`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson

from api.metrics import ApiMetrics
from api.redis_guard import RedisGuard
from streamrec.errors import RedisUnavailable

CachedPage = list[dict[str, Any]]


def cache_key(
    user_id: str,
    user_version: int | str,
    model_version: str,
    count: int,
    exclude: Collection[str],
    category: str | None,
) -> str:
    """`rec:{user_id}:{user_version}:{model_version}:{count}:{exclude}:{category}`; the
    route's `user_version` carries the truth tag (`{version}:c{epoch}.u{generation}`)."""
    excluded = ",".join(sorted(exclude))
    return f"rec:{user_id}:{user_version}:{model_version}:{count}:{excluded}:{category or ''}"


class RecCache:
    """Pages of recommendations with a TTL; any Redis failure is a counted miss, never an error."""

    def __init__(self, guard: RedisGuard, ttl_s: float, metrics: ApiMetrics) -> None:
        self._guard = guard
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._metrics = metrics

    async def get(self, key: str) -> CachedPage | None:
        """The cached page under `key`, None on a miss or when Redis fails or is bypassed."""
        if not self._guard.configured:
            self._metrics.cache.labels(result="disabled").inc()
            return None
        try:
            raw = await self._guard.run("cache", lambda redis: redis.get(key))
        except RedisUnavailable:
            self._metrics.cache.labels(result="error").inc()
            return None
        self._metrics.cache.labels(result="hit" if raw is not None else "miss").inc()
        if raw is None:
            return None
        page: CachedPage = orjson.loads(raw)
        return page

    def unavailable(self) -> None:
        """Count a lookup that could not be made (no Redis, or Redis failing)."""
        result = "disabled" if not self._guard.configured else "error"
        self._metrics.cache.labels(result=result).inc()

    async def put(self, key: str, page: CachedPage) -> None:
        """Store a page under `key` for the TTL (failures are counted and ignored)."""
        if not self._guard.configured:
            return
        value = orjson.dumps(page)
        try:
            await self._guard.run("cache", lambda redis: redis.set(key, value, px=self._ttl_ms))
        except RedisUnavailable:
            self._metrics.cache.labels(result="error").inc()
