"""Redis behind a circuit breaker: a failing or hanging Redis costs one timeout, then is
bypassed for a back-off period (the cache misses, rate limits go local)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from api.metrics import ApiMetrics
from streamrec.errors import RedisUnavailable
from streamrec.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")


def redis_client(settings: Settings) -> Redis | None:
    """A client with the configured connect and read timeouts and no retries (None: disabled)."""
    if not settings.redis_enabled:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        socket_timeout=settings.redis_timeout_s,
        retry=Retry(NoBackoff(), 0),
    )


class RedisGuard:
    """Runs Redis operations under a deadline; a failure opens the breaker for `backoff_s`."""

    def __init__(
        self,
        redis: Redis | None,
        settings: Settings,
        metrics: ApiMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._deadline_s = settings.redis_connect_timeout_s + settings.redis_timeout_s
        self._backoff_s = settings.redis_backoff_s
        self._metrics = metrics
        self._clock = clock
        self._open_until = 0.0
        self._probing = False
        self.last_error: str | None = None if redis is not None else "not configured"

    @property
    def configured(self) -> bool:
        """Whether a Redis URL is configured at all."""
        return self._redis is not None

    def problem(self) -> str | None:
        """Why Redis is being bypassed now, None when calls go through."""
        if self._redis is None:
            return "not configured (no cache, local rate limits)"
        remaining = self._open_until - self._clock()
        if remaining > 0:
            return f"bypassed for {remaining:.0f} s after: {self.last_error}"
        return None

    async def run(self, use: str, operation: Callable[[Redis], Awaitable[T]]) -> T:
        """The operation's result; RedisUnavailable when bypassed, failing or too slow."""
        redis, probe = self._admit()
        try:
            result = await asyncio.wait_for(operation(redis), self._deadline_s)
        except (RedisError, OSError, TimeoutError) as error:
            self._trip(use, error)
            raise RedisUnavailable(f"redis unavailable: {self.last_error}") from None
        finally:
            if probe:
                self._probing = False
        self._open_until = 0.0
        self.last_error = None
        return result

    def _admit(self) -> tuple[Redis, bool]:
        """The client, and whether this call probes a Redis that failed before."""
        if self._redis is None:
            raise RedisUnavailable("redis unavailable: not configured")
        if self._open_until == 0.0:
            return self._redis, False
        if self._clock() < self._open_until or self._probing:
            raise RedisUnavailable(f"redis unavailable: {self.problem() or 'being probed'}")
        self._probing = True
        return self._redis, True

    def _trip(self, use: str, error: BaseException) -> None:
        self.last_error = str(error) or type(error).__name__
        self._open_until = self._clock() + self._backoff_s
        self._metrics.redis_errors.labels(use=use).inc()
