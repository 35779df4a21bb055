"""Token buckets per client: shared in Redis when it answers, in-process otherwise."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from api.deps import RateLimitPolicy
from api.metrics import ApiMetrics
from api.redis_guard import RedisGuard
from streamrec.errors import RateLimited, RedisUnavailable

MAX_LOCAL_CLIENTS = 100_000
# KEYS[1] bucket; ARGV: burst, per_second, now. Returns {allowed, retry_after_ms}.
TOKEN_BUCKET_LUA = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, wait_ms}
"""


class LocalBuckets:
    """In-process token buckets, bounded in the number of clients remembered."""

    def __init__(self, policy: RateLimitPolicy, clock: Callable[[], float] = time.monotonic):
        self._policy = policy
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client_id: str) -> float:
        """Take one token; 0.0 when allowed, else seconds until a token is available."""
        now = self._clock()
        tokens, at = self._buckets.pop(client_id, (float(self._policy.burst), now))
        tokens = min(self._policy.burst, tokens + (now - at) * self._policy.per_second)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self._policy.per_second
        self._buckets[client_id] = (tokens - 1 if wait == 0.0 else tokens, now)
        if len(self._buckets) > MAX_LOCAL_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


class RateLimiter:
    """Raises RateLimited (with Retry-After) when a client's bucket is empty."""

    def __init__(self, policy: RateLimitPolicy, guard: RedisGuard, metrics: ApiMetrics):
        self._policy = policy
        self._guard = guard
        self._metrics = metrics
        self._local = LocalBuckets(policy)

    async def check(self, client_id: str) -> None:
        """Spend one token of `client_id` or raise RateLimited."""
        wait = await self._take(client_id)
        if wait > 0:
            self._metrics.rate_limited.inc()
            seconds = max(1, math.ceil(wait))
            raise RateLimited(f"too many requests; retry in {seconds}s", {"retry_after": seconds})

    async def _take(self, client_id: str) -> float:
        if not self._guard.configured:
            return self._local.take(client_id)
        try:
            allowed, wait_ms = await self._guard.run(
                "ratelimit",
                lambda redis: redis.eval(  # type: ignore[arg-type]
                    TOKEN_BUCKET_LUA,
                    1,
                    f"ratelimit:{client_id}",
                    self._policy.burst,
                    self._policy.per_second,
                    time.time(),
                ),
            )
        except RedisUnavailable:
            return self._local.take(client_id)
        return 0.0 if int(allowed) == 1 else int(wait_ms) / 1000.0
