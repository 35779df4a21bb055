"""Per-app state built once at startup, and the guarded route every handler goes through."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth import authenticate
from api.cache import RecCache
from api.deps import ServingDeps
from api.errors import as_recsys_error
from api.live_pools import PoolRefresher
from api.metrics import ApiMetrics
from api.pending import PendingPurchases
from api.ratelimit import RateLimiter
from api.redis_guard import RedisGuard
from api.signing import check_forwarded
from api.stats import StatsWindow
from api.truth import TruthMarks
from models.serving import ServingConfig
from schemas.times import InputLimits
from streamrec.errors import BrokerError, RecsysError

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class ApiState:
    """Everything handlers share: the worker's deps and the API's own services."""

    deps: ServingDeps
    metrics: ApiMetrics
    redis: RedisGuard
    limiter: RateLimiter
    cache: RecCache
    serving: ServingConfig
    pending: PendingPurchases
    limits: InputLimits
    stats: StatsWindow
    pools: PoolRefresher
    truth: TruthMarks

    @classmethod
    def build(cls, deps: ServingDeps) -> ApiState:
        """Create metrics, limiter and cache around the worker's deps."""
        metrics = ApiMetrics(deps.registry, lambda: deps.models.current().version)
        settings = deps.settings
        redis = RedisGuard(deps.redis, settings, metrics)
        serving = ServingConfig(
            exploration_slots=settings.exploration_slots,
            max_category_share=settings.max_category_share,
            rebuy=settings.rebuy,
            consumed_types=settings.consumed_types,
        )
        return cls(
            deps=deps,
            metrics=metrics,
            redis=redis,
            limiter=RateLimiter(deps.rate_limit, redis, metrics),
            cache=RecCache(redis, settings.cache_ttl_s, metrics),
            serving=serving,
            pending=PendingPurchases(),
            limits=InputLimits(settings.rating_min, settings.rating_max, settings.max_future_s),
            stats=StatsWindow(deps.registry),
            pools=PoolRefresher(
                deps.catalog_items,
                deps.signals,
                serving.candidate_limit,
                max_age_s=settings.pools_max_age_s,
            ),
            truth=TruthMarks(redis),
        )

    async def publish(self, topic: str, key: str | None, value: bytes | None) -> None:
        """Publish through the worker's producer; failures become BrokerError (503)."""
        try:
            await self.deps.publish(topic, key, value)
        except RecsysError:
            raise
        except Exception as error:
            raise BrokerError(
                f"could not publish to {topic}: {error}", {"topic": topic, "retry_after": 1}
            ) from error
        await self.truth.published(topic, key, value)
        self.metrics.published.labels(topic=topic).inc()


def state_of(request: Request) -> ApiState:
    """The ApiState of the app serving `request`."""
    state: ApiState = request.app.state.api
    return state


def guarded(path: str, methods: Mapping[str, tuple[Handler, str | None]]) -> Route:
    """One route per path: per method, check the role, spend a rate-limit token, time it."""

    async def endpoint(request: Request) -> Response:
        api = state_of(request)
        handler, role = methods[request.method if request.method != "HEAD" else "GET"]
        started = time.perf_counter()
        status = 500
        try:
            settings = api.deps.settings
            forwarded = await check_forwarded(request, settings, api.deps.clock())
            principal = authenticate(request, settings, role)
            if role is not None and not forwarded:
                await api.limiter.check(principal.client_id)
            response = await handler(request)
            status = response.status_code
            return response
        except Exception as error:
            status = as_recsys_error(error)[0].status
            raise
        finally:
            seconds = time.perf_counter() - started
            api.metrics.observe_request(path, request.method, str(status), seconds)

    endpoint.__name__ = "_".join(handler.__name__ for handler, _ in methods.values())
    return Route(path, endpoint, methods=list(methods))
