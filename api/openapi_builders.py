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
    links: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One operation: role, success response (with the links to the operations its ids lead
    to), error responses, parameters and body."""
    # A path parameter holding "/" (sent as %2F) matches no route: the router answers 404.
    routed = (404,) if any(p["in"] == "path" for p in params or []) else ()
    statuses = sorted(
        {*errors, *routed, *(GUARDED if role else ()), *((400, 408, 422) if body else ())}
    )
    success = json_content(ok[1], "Success")
    if links:
        success["links"] = links
    spec: dict[str, Any] = {
        "summary": summary,
        "description": f"Role: {role}." if role else "No authentication.",
        "parameters": params or [],
        "responses": {str(ok[0]): success, **error_responses(*statuses)},
    }
    if body is not None:
        spec["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    if role is None:
        spec["security"] = []
    return spec


def link(method: str, path: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method path`, its parameters taken from the request
    (runtime expressions such as `$request.body#/user_id`)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {
        "operationRef": f"#/paths/{pointer}/{method}",
        "description": description,
        "parameters": parameters,
    }


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


def item_links(item_id: str) -> dict[str, Any]:
    """Links from a write naming an item (`item_id`: a runtime expression) to its routes."""
    item, similar = "/v1/items/{item_id}", "/v1/items/{item_id}/similar"
    return {
        "GetItem": link("get", item, "the item's row and counters", item_id=item_id),
        "PatchItem": link("patch", item, "change some fields of the item", item_id=item_id),
        "DeleteItem": link("delete", item, "delete the item", item_id=item_id),
        "SimilarItems": link("get", similar, "items similar to it", item_id=item_id),
    }


def event_links() -> dict[str, Any]:
    """Links from a posted event to its user's and its item's routes (one event, not a batch)."""
    user = "$request.body#/user_id"
    return {
        "History": link("get", "/v1/users/{user_id}/history", "the user's history", user_id=user),
        "Recommendations": link("get", "/v1/recommendations", "the user's page", user_id=user),
        "Consent": link("put", "/v1/users/{user_id}/consent", "opt the user out", user_id=user),
        "Erase": link("delete", "/v1/users/{user_id}", "erase the user", user_id=user),
        "Item": item_links("$request.body#/item_id")["GetItem"],
    }
