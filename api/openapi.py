"""The OpenAPI 3.1 document of the v1 HTTP contract, written by hand from DESIGN.md."""

from __future__ import annotations

from typing import Any

from api.openapi_schemas import COMPONENTS, ID, Schema, listing, ref

JSON = "application/json"
ERROR_TEXT = {
    400: "Malformed request (unparseable JSON, missing body)",
    401: "No token or a bad one",
    403: "The token's role may not call this route",
    404: "Unknown resource or route",
    409: "Already exists or contradicts itself (duplicate id or variant names)",
    422: "Invalid input; details name each field (and index in a batch)",
    429: "Rate limited; see Retry-After",
    503: "Not ready, rebalancing or the broker is unavailable; see Retry-After",
}
GUARDED = (401, 403, 429)


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _json(ref("Error"), ERROR_TEXT[s]) for s in statuses}


def _op(
    summary: str,
    role: str | None,
    ok: tuple[int, Schema],
    errors: tuple[int, ...] = (),
    params: list[dict[str, Any]] | None = None,
    body: Schema | None = None,
) -> dict[str, Any]:
    statuses = sorted({*errors, *(GUARDED if role else ()), *((400, 422) if body else ())})
    operation: dict[str, Any] = {
        "summary": summary,
        "description": f"Role: {role}." if role else "No authentication.",
        "parameters": params or [],
        "responses": {str(ok[0]): _json(ok[1], "Success"), **_errors(*statuses)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    if role is None:
        operation["security"] = []
    return operation


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": ID}


def _query(name: str, schema: Schema, description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


COUNT = _query(
    "count", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, "page size, 1 to 100"
)
ACCEPTED: Schema = {
    "type": "object",
    "required": ["accepted"],
    "properties": {"accepted": {"type": "integer", "minimum": 0}},
}
EVENTS_BODY: Schema = {
    "anyOf": [
        ref("Interaction"),
        {
            **listing("events", ref("Interaction")),
            "properties": {
                "events": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": ref("Interaction"),
                }
            },
        },
    ]
}
ITEMS_BODY: Schema = {
    "anyOf": [
        ref("Item"),
        {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {"type": "array", "minItems": 1, "maxItems": 1000, "items": ref("Item")}
            },
        },
    ]
}
STATUS: Schema = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
}


def _item_paths() -> dict[str, Any]:
    item_id = _path("item_id", "catalog item id")
    return {
        "/v1/items": {
            "post": _op(
                "Upsert a batch of items", "writer", (202, ACCEPTED), (503,), body=ITEMS_BODY
            )
        },
        "/v1/items/{item_id}": {
            "put": _op(
                "Upsert one item",
                "writer",
                (202, ACCEPTED),
                (503,),
                [item_id],
                body=ref("ItemBody"),
            ),
            "delete": _op(
                "Delete one item (tombstone)",
                "writer",
                (
                    202,
                    {
                        "type": "object",
                        "required": ["deleted"],
                        "properties": {"deleted": {"type": "string"}},
                    },
                ),
                (422, 503),
                [item_id],
            ),
        },
        "/v1/items/{item_id}/similar": {
            "get": _op(
                "Items similar to one item",
                "reader",
                (
                    200,
                    {
                        **listing("items", ref("ScoredItem")),
                        "properties": {
                            "item_id": {"type": "string"},
                            "model_version": {"type": "string"},
                            "items": {"type": "array", "items": ref("ScoredItem")},
                        },
                    },
                ),
                (404, 422),
                [item_id, COUNT],
            )
        },
    }


def _user_paths() -> dict[str, Any]:
    user_id = _path("user_id", "user id")
    return {
        "/v1/recommendations": {
            "get": _op(
                "A page of recommendations for a user",
                "reader",
                (200, ref("Recommendations")),
                (404, 422, 503),
                [
                    _query("user_id", ID, "the user (unknown users get cold-start results)", True),
                    COUNT,
                    _query("exclude", {"type": "string"}, "comma-separated item ids to leave out"),
                    _query(
                        "category",
                        {"type": "string", "maxLength": 1024},
                        "only items of this category",
                    ),
                ],
            )
        },
        "/v1/users/{user_id}/history": {
            "get": _op(
                "The short-term history held for a user",
                "reader",
                (
                    200,
                    {
                        **listing("items", ref("HistoryItem")),
                        "properties": {
                            "user_id": {"type": "string"},
                            "opted_out": {"type": "boolean"},
                            "items": {"type": "array", "items": ref("HistoryItem")},
                        },
                    },
                ),
                (404, 422, 503),
                [user_id],
            )
        },
        "/v1/users/{user_id}/consent": {
            "put": _op(
                "Opt a user out of or back into personalisation",
                "admin",
                (
                    202,
                    {
                        "type": "object",
                        "required": ["user_id", "opted_out"],
                        "properties": {
                            "user_id": {"type": "string"},
                            "opted_out": {"type": "boolean"},
                        },
                    },
                ),
                (503,),
                [user_id],
                body={
                    "type": "object",
                    "required": ["opted_out"],
                    "properties": {"opted_out": {"type": "boolean"}},
                },
            )
        },
        "/v1/users/{user_id}": {
            "delete": _op(
                "Erase a user from every table",
                "admin",
                (
                    202,
                    {
                        "type": "object",
                        "required": ["user_id", "erased"],
                        "properties": {
                            "user_id": {"type": "string"},
                            "erased": {"type": "boolean"},
                        },
                    },
                ),
                (422, 503),
                [user_id],
            )
        },
    }


def _admin_paths() -> dict[str, Any]:
    return {
        "/v1/experiments": {
            "get": _op(
                "Every experiment", "reader", (200, listing("experiments", ref("Experiment")))
            ),
            "post": _op(
                "Define an experiment",
                "admin",
                (201, ref("Experiment")),
                (409,),
                body=ref("ExperimentBody"),
            ),
        },
        "/v1/experiments/{experiment_id}/metrics": {
            "get": _op(
                "Per-variant CTR, conversion, lift and p-value",
                "reader",
                (
                    200,
                    {
                        **listing("variants", ref("VariantMetrics")),
                        "properties": {
                            "experiment_id": {"type": "string"},
                            "control": {"type": "string"},
                            "variants": {"type": "array", "items": ref("VariantMetrics")},
                        },
                    },
                ),
                (404, 422),
                [_path("experiment_id", "experiment id")],
            )
        },
        "/v1/models": {
            "get": _op(
                "Registry versions and the active one",
                "admin",
                (
                    200,
                    {
                        "type": "object",
                        "required": ["active", "versions"],
                        "properties": {
                            "active": {"type": "string"},
                            "versions": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                ),
            )
        },
        "/v1/models/{version}/activate": {
            "post": _op(
                "Activate a version on every worker (also rollback)",
                "admin",
                (
                    202,
                    {
                        "type": "object",
                        "required": ["version", "previous"],
                        "properties": {
                            "version": {"type": "string"},
                            "previous": {"type": "string"},
                        },
                    },
                ),
                (404, 422, 503),
                [_path("version", "model version")],
            )
        },
    }


def _ops_paths() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "/health": {"get": _op("Liveness", None, (200, STATUS))},
        "/ready": {
            "get": _op(
                "Readiness: partitions recovered, model loaded, Redis", None, (200, STATUS), (503,)
            )
        },
        "/metrics": {
            "get": {
                **_op("Prometheus metrics", None, (200, text)),
                "responses": {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": text}},
                    }
                },
            }
        },
        "/docs": {
            "get": {
                **_op("This document as HTML", None, (200, text)),
                "responses": {
                    "200": {"description": "HTML", "content": {"text/html": {"schema": text}}}
                },
            }
        },
        "/openapi.json": {"get": _op("This document", None, (200, {"type": "object"}))},
    }


def build_spec() -> dict[str, Any]:
    """The complete OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "streamrec",
            "version": "1",
            "description": "Real-time recommendations served from every worker. Errors are "
            '`{"error": {"code", "message", "details"}}`.',
        },
        "paths": {
            "/v1/events": {
                "post": _op(
                    "Record one event or a batch (all valid or none published)",
                    "writer",
                    (202, ACCEPTED),
                    (503,),
                    body=EVENTS_BODY,
                )
            },
            **_item_paths(),
            **_user_paths(),
            **_admin_paths(),
            **_ops_paths(),
        },
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
    }
