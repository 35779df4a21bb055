"""Catalog upserts and deletions, and similar items."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.params import json_body, only_query, path_id, query_count
from api.routes.batch import batch_of, parse_all, serialised
from api.state import state_of
from models.serving import similar_items
from models.types import ItemMeta
from schemas.text import printable
from schemas.validate import parse_item
from streamrec import topics
from streamrec.errors import InvalidRecord, NotFound

ITEM_FIELDS = ("title", "category", "tags", "price", "in_stock", "created_at")
PATCHABLE = frozenset({*ITEM_FIELDS, "item_id", "schema_version"})


def prepared(raw: Any) -> tuple[str, bytes]:
    """(item_id, wire bytes) of a valid catalog row."""
    item = parse_item(raw)
    return item.item_id, serialised(item)


def catalog_row(meta: ItemMeta) -> dict[str, Any]:
    """The catalog fields of an item as JSON."""
    return {
        "title": meta.title,
        "category": meta.category,
        "tags": list(meta.tags),
        "price": meta.price,
        "in_stock": meta.in_stock,
        "created_at": meta.created_at,
    }


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRecord("record", "must be a JSON object")
    return body


async def put_item(request: Request) -> Response:
    """Replace one item's catalog row: fields not given take their defaults (PATCH keeps
    them); the path names the item (a body item_id is ignored)."""
    item_id = path_id(request, "item_id")
    body = _object(await json_body(request))
    [(key, payload)] = parse_all([{**body, "item_id": item_id}], prepared)
    await state_of(request).publish(topics.ITEMS, key, payload)
    return JSONResponse({"accepted": 1}, status_code=202)


async def patch_item(request: Request) -> Response:
    """Change the fields given of a catalog item, keeping the others (null resets a field)."""
    api = state_of(request)
    item_id = path_id(request, "item_id")
    body = _object(await json_body(request))
    for field in body:
        if field not in PATCHABLE:
            raise InvalidRecord(
                printable(str(field)), f"is not an item field; use {', '.join(ITEM_FIELDS)}"
            )
    current = api.deps.meta(item_id)
    if current is None:
        raise NotFound(f"item {item_id!r} is not in the catalog (PUT creates it)")
    merged = {**catalog_row(current), **body, "item_id": item_id}
    [(key, payload)] = parse_all([merged], prepared)
    await api.publish(topics.ITEMS, key, payload)
    return JSONResponse({"accepted": 1}, status_code=202)


async def post_items(request: Request) -> Response:
    """Upsert a batch `{"items": [...]}` (or one item); all valid or nothing published."""
    api = state_of(request)
    rows = parse_all(batch_of(await json_body(request), "items"), prepared)
    for key, payload in rows:
        await api.publish(topics.ITEMS, key, payload)
    return JSONResponse({"accepted": len(rows)}, status_code=202)


async def delete_item(request: Request) -> Response:
    """Delete an item (a tombstone on `items`); deleting twice is harmless."""
    item_id = path_id(request, "item_id")
    await state_of(request).publish(topics.ITEMS, item_id, None)
    return JSONResponse({"deleted": item_id}, status_code=202)


async def get_item(request: Request) -> Response:
    """An item's catalog row and its live counters, trend and exploration arm."""
    api = state_of(request)
    item_id = path_id(request, "item_id")
    meta = api.deps.meta(item_id)
    signals = api.deps.signals(item_id)
    if meta is None and signals is None:
        raise NotFound(f"item {item_id!r} does not exist")
    catalog = None if meta is None else catalog_row(meta)
    live = (
        None
        if signals is None
        else {
            "views_24h": signals.views_24h,
            "clicks_24h": signals.clicks_24h,
            "purchases_24h": signals.purchases_24h,
            "events_1h": signals.events_1h,
            "events_all": signals.events_all,
            "trending": signals.trending,
            "impressions": signals.impressions,
            "arm_alpha": signals.arm_alpha,
            "arm_beta": signals.arm_beta,
            "last_event_at": signals.last_event_at,
        }
    )
    return JSONResponse({"item_id": item_id, "catalog": catalog, "signals": live})


async def similar(request: Request) -> Response:
    """Items most similar to one item, with scores."""
    deps = state_of(request).deps
    item_id = path_id(request, "item_id")
    only_query(request, "count")
    count = query_count(request)
    if deps.meta(item_id) is None:
        raise NotFound(f"item {item_id!r} does not exist")
    model = deps.models.current()
    live = deps.live_content.for_bundle(model.bundle)
    found = similar_items(model.bundle, item_id, deps.meta, deps.catalog_items, count, live)
    items: list[dict[str, Any]] = [{"item_id": i, "score": s} for i, s in found]
    return JSONResponse({"item_id": item_id, "model_version": model.version, "items": items})
