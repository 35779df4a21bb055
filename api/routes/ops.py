"""Liveness, readiness, Prometheus metrics, live figures and the OpenAPI document."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from api.openapi import build_spec
from api.responses import FastJSONResponse
from api.state import ApiState, state_of
from streamrec.errors import NotReady, RedisUnavailable

NOT_READY_RETRY_S = 5


async def health(request: Request) -> Response:
    """The process is alive."""
    return FastJSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """200 when partitions are recovered and a model is loaded (degraded without Redis)."""
    api = state_of(request)
    ok, reasons = api.deps.readiness()
    reasons = list(reasons)
    if api.deps.require_model and not api.deps.models.loaded:
        ok = False
        reasons.append("no model loaded")
    if not ok:
        raise NotReady(
            "not ready: " + "; ".join(reasons),
            {"reasons": reasons, "retry_after": NOT_READY_RETRY_S},
        )
    problems = [p for p in (await redis_problem(api), api.deps.models.fallback) if p is not None]
    if problems:
        return FastJSONResponse({"status": "degraded", "reasons": problems})
    return FastJSONResponse({"status": "ready", "reasons": []})


async def redis_problem(api: ApiState) -> str | None:
    """Why Redis cannot serve the cache and rate limits, None when it answers (a Redis being
    bypassed after a failure is not pinged until its back-off ends)."""
    problem = api.redis.problem()
    if problem is not None:
        return f"redis unavailable: {problem}"
    try:
        await api.redis.run("ready", lambda redis: redis.ping())
    except RedisUnavailable as error:
        return error.message
    return None


async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the API's registry."""
    body = generate_latest(state_of(request).metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    """The OpenAPI document."""
    return FastJSONResponse(build_spec(state_of(request).limits))


async def stats(request: Request) -> Response:
    """This worker's live figures, the active model and the group's workers, as JSON."""
    api = state_of(request)
    models = api.deps.models
    return FastJSONResponse(
        {
            **api.stats.figures(),
            "active_model": models.current().version,
            "previous_model": models.previous,
            "auth": api.deps.settings.auth,
            "worker": api.deps.settings.public_url,
            "workers": api.deps.workers(),
        }
    )
