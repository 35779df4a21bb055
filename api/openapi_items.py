"""OpenAPI paths of the catalog routes."""

from __future__ import annotations

from typing import Any

from api.openapi_builders import ACCEPTED, COUNT, ITEMS_BODY, item_links, operation, path_param
from api.openapi_schemas import listing, ref


def item_paths() -> dict[str, Any]:
    """/v1/items and /v1/items/{item_id}[/similar]."""
    item_id = path_param("item_id", "catalog item id")
    return {
        "/v1/items": {
            "post": operation(
                "Upsert a batch of items",
                "writer",
                (202, ACCEPTED),
                (503,),
                body=ITEMS_BODY,
                links=item_links("$request.body#/item_id"),
            )
        },
        "/v1/items/{item_id}": {
            "get": operation(
                "An item's catalog row and live counters",
                "reader",
                (
                    200,
                    {
                        "type": "object",
                        "required": ["item_id", "catalog", "signals"],
                        "properties": {
                            "item_id": {"type": "string"},
                            "catalog": {"type": ["object", "null"]},
                            "signals": {"type": ["object", "null"]},
                        },
                    },
                ),
                (404, 422),
                [item_id],
            ),
            "put": operation(
                "Create or replace one item (fields not given take their defaults)",
                "writer",
                (202, ACCEPTED),
                (503,),
                [item_id],
                body=ref("ItemBody"),
                links=item_links("$request.path.item_id"),
            ),
            "patch": operation(
                "Change the fields given of a catalog item",
                "writer",
                (202, ACCEPTED),
                (404, 503),
                [item_id],
                body=ref("ItemPatch"),
            ),
            "delete": operation(
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
            "get": operation(
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
