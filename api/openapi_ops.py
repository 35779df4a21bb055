"""OpenAPI paths of the unauthenticated routes: health, readiness, metrics, stats, pages."""

from __future__ import annotations

from typing import Any

from api.openapi_builders import STATUS, operation
from api.openapi_schemas import Schema, ref

TEXT: Schema = {"type": "string"}
NUMBER_OR_NULL: Schema = {"type": ["number", "null"]}
WORKER: Schema = {
    "type": "object",
    "required": ["url", "partitions", "self"],
    "properties": {
        "url": {"type": "string"},
        "partitions": {"type": "array", "items": {"type": "integer"}},
        "self": {"type": "boolean"},
    },
}
STATS: Schema = {
    "type": "object",
    "description": "This worker's figures over the last window_s seconds (at most 30): events "
    "applied per second, records behind the high watermarks, event time to applied state "
    "(freshness) and served-page latency percentiles in ms, cache hit rate.",
    "required": ["window_s", "events_per_s", "consumer_lag", "active_model", "workers"],
    "properties": {
        "window_s": {"type": "number"},
        "events_per_s": {"type": "number"},
        "events_applied": {"type": "number"},
        "consumer_lag": {"type": "number"},
        "freshness_p50_ms": NUMBER_OR_NULL,
        "freshness_p99_ms": NUMBER_OR_NULL,
        "recommendation_p50_ms": NUMBER_OR_NULL,
        "recommendation_p99_ms": NUMBER_OR_NULL,
        "cache_hit_rate": NUMBER_OR_NULL,
        "at_least": {
            "type": "array",
            "items": {"type": "string"},
            "description": "percentiles past the histogram's last bound, reported as that bound",
        },
        "active_model": {"type": "string"},
        "previous_model": {"type": ["string", "null"]},
        "auth": {"type": "boolean"},
        "worker": {"type": "string"},
        "workers": {"type": "array", "items": WORKER},
    },
}
MODEL_VERSION: Schema = {
    "type": "object",
    "required": ["version"],
    "properties": {
        "version": {"type": "string"},
        "created_at": NUMBER_OR_NULL,
        "window": {"type": ["object", "null"]},
        "counts": {"type": ["object", "null"]},
        "metrics": {"type": ["object", "null"]},
        "policy": {"type": ["object", "null"]},
        "timings": {"type": ["object", "null"]},
        "error": {"type": "string"},
    },
}


def _page(summary: str, media: str) -> dict[str, Any]:
    return {
        **operation(summary, None, (200, TEXT)),
        "responses": {"200": {"description": media, "content": {media: {"schema": TEXT}}}},
    }


def ops_paths() -> dict[str, Any]:
    """Paths served without a token."""
    return {
        "/health": {"get": operation("Liveness", None, (200, STATUS))},
        "/ready": {
            "get": operation(
                "Readiness: partitions recovered, model loaded, Redis", None, (200, STATUS), (503,)
            )
        },
        "/metrics": {"get": _page("Prometheus metrics", "text/plain")},
        "/stats": {"get": operation("Live figures of this worker", None, (200, ref("Stats")))},
        "/docs": {"get": _page("Interactive docs of this document (Swagger UI)", "text/html")},
        "/": {"get": _page("The web console (asks for a token when auth is on)", "text/html")},
        "/openapi.json": {"get": operation("This document", None, (200, {"type": "object"}))},
    }
