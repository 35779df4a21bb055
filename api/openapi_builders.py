"""Builders of OpenAPI operations, parameters and shared bodies for `api.openapi`."""

from __future__ import annotations

from typing import Any

from api.openapi_schemas import ID, Schema, listing, ref

JSON = "application/json"
ERROR_TEXT = {
    400: "Malformed request (unparseable JSON, missing body)",
    401: "No token or a bad one",
    403: "The token's role may not call this route",
    404: "Unknown resource or route",
    408: "The request body did not arrive in time (STREAMREC_BODY_TIMEOUT_S)",
    409: "Already exists, contradicts itself (duplicate id or variant names), overlaps a running "
    "experiment, or the resource's status forbids the step",
    422: "Invalid input; details name each field (and index in a batch)",
    429: "Rate limited; see Retry-After",
    503: "Not ready, rebalancing or the broker is unavailable; see Retry-After",
}
GUARDED = (401, 403, 429)


def json_content(schema: Schema, description: str) -> dict[str, Any]:
    """A JSON response with `schema`."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error_responses(*statuses: int) -> dict[str, Any]:
    """Error responses for each status."""
    return {str(s): json_content(ref("Error"), ERROR_TEXT[s]) for s in statuses}


def operation(
    summary: str,
    role: str | None,
    ok: tuple[int, Schema],
    errors: tuple[int, ...] = (),
    params: list[dict[str, Any]] | None = None,
    body: Schema | None = None,
) -> dict[str, Any]:
    """One operation: role, success response, error responses, parameters and body."""
    statuses = sorted({*errors, *(GUARDED if role else ()), *((400, 408, 422) if body else ())})
    spec: dict[str, Any] = {
        "summary": summary,
        "description": f"Role: {role}." if role else "No authentication.",
        "parameters": params or [],
        "responses": {str(ok[0]): json_content(ok[1], "Success"), **error_responses(*statuses)},
    }
    if body is not None:
        spec["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    if role is None:
        spec["security"] = []
    return spec


def path_param(name: str, description: str) -> dict[str, Any]:
    """A required path parameter holding an id."""
    return {"name": name, "in": "path", "required": True, "description": description, "schema": ID}


def query_param(
    name: str, schema: Schema, description: str, required: bool = False
) -> dict[str, Any]:
    """A query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


COUNT = query_param(
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
