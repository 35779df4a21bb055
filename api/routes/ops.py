"""Liveness, readiness, Prometheus metrics and the API documents."""

from __future__ import annotations

import html
import json

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from api.openapi import build_spec
from api.state import ApiState, state_of
from streamrec.errors import NotReady, RedisUnavailable

NOT_READY_RETRY_S = 5


async def health(request: Request) -> Response:
    """The process is alive."""
    return JSONResponse({"status": "ok"})


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
    problem = await redis_problem(api)
    if problem is not None:
        return JSONResponse({"status": "degraded", "reasons": [problem]})
    return JSONResponse({"status": "ready", "reasons": []})


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
    return JSONResponse(build_spec(state_of(request).limits))


async def docs(request: Request) -> Response:
    """A self-contained HTML page listing every route of the OpenAPI document."""
    return HTMLResponse(render_docs(build_spec(state_of(request).limits)))


def render_docs(spec: dict[str, object]) -> str:
    """The HTML of the docs page: each route with its summary, parameters and answers."""
    paths = spec["paths"]
    assert isinstance(paths, dict)
    rows = []
    for path, operations in paths.items():
        for method, op in operations.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            answers = ", ".join(op["responses"])
            rows.append(
                f"<tr><td><code>{method.upper()} {html.escape(path)}</code></td>"
                f"<td>{html.escape(op['summary'])}</td><td>{html.escape(op['description'])}</td>"
                f"<td>{html.escape(params)}</td><td>{answers}</td></tr>"
            )
    schemas = html.escape(json.dumps(spec.get("components"), indent=2))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>streamrec API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;"
        "padding:4px 8px}table{border-collapse:collapse}</style></head><body>"
        "<h1>streamrec API v1</h1><p>Machine-readable: <a href='/openapi.json'>/openapi.json</a>"
        "</p><table><tr><th>route</th><th>summary</th><th>auth</th><th>parameters</th>"
        f"<th>statuses</th></tr>{''.join(rows)}</table><h2>Schemas</h2><pre>{schemas}</pre>"
        "</body></html>"
    )
