"""JSON schemas of request and response bodies for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from schemas.records import EVENT_TYPES
from schemas.times import DEFAULT_LIMITS, MAX_EPOCH, InputLimits
from schemas.validate import CONTEXT_KEYS, MAX_ID_LENGTH, MAX_TEXT_LENGTH

Schema = dict[str, Any]

# No control characters anywhere; ids are stripped, so they need one character strip() keeps.
ID: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "pattern": r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f\x85][^\x00-\x1f\x7f]*$",
}
PLAIN: Schema = {"type": "string", "pattern": r"^[^\x00-\x1f\x7f]*$"}
FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"
NUMERIC_TEXT: Schema = {
    "type": "string",
    "pattern": r"^[ ]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?[ ]*$",
}
ID_OR_NUMBER: Schema = {"anyOf": [ID, {"type": "integer"}]}
TIMESTAMP: Schema = {
    "description": "ISO-8601 text or epoch seconds or milliseconds (UTC)",
    "anyOf": [
        {"type": "number", "minimum": 0, "exclusiveMaximum": MAX_EPOCH},
        {"type": "string", "format": "date-time"},
        {**NUMERIC_TEXT, "pattern": r"^[ ]*[+]?0*([0-9]{1,15}[.]?[0-9]*|[.][0-9]+)[ ]*$"},
    ],
}
NUMBER_OR_TEXT: Schema = {
    "anyOf": [{"type": "number"}, NUMERIC_TEXT, {"type": "null"}, {"const": ""}]
}
NULLABLE_TEXT: Schema = {
    "type": ["string", "null"],
    "maxLength": MAX_TEXT_LENGTH,
    "pattern": FREE_TEXT_PATTERN,
}


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def listing(name: str, item: Schema, **extra: Schema) -> Schema:
    """An object holding a list under `name` plus extra required properties."""
    return {
        "type": "object",
        "required": [name, *extra],
        "properties": {name: {"type": "array", "items": item}, **extra},
    }


ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"description": "what went wrong, e.g. per-index errors"},
            },
        }
    },
}


def interaction(limits: InputLimits = DEFAULT_LIMITS) -> Schema:
    """One event; a rating's value lies within the configured scale."""
    return {
        "type": "object",
        "description": "without a timestamp (absent or null) the event happened when it was "
        "received; times more "
        f"than STREAMREC_MAX_FUTURE_S (default {DEFAULT_LIMITS.max_future_s:g} s) after receipt "
        "are refused",
        "required": ["user_id", "item_id", "type"],
        "properties": {
            "event_id": {"anyOf": [ID_OR_NUMBER, {"type": "null"}, {"const": ""}]},
            "user_id": ID_OR_NUMBER,
            "item_id": ID_OR_NUMBER,
            "type": {"enum": list(EVENT_TYPES)},
            "timestamp": {
                "anyOf": [TIMESTAMP, {"type": "null"}],
                "description": "absent or null: the time the event was received",
            },
            "value": {
                **NUMBER_OR_TEXT,
                "description": "rating, quantity or price (required for a rating)",
            },
            "context": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": {
                    k: {**PLAIN, "type": ["string", "null"], "maxLength": MAX_ID_LENGTH}
                    for k in CONTEXT_KEYS
                },
            },
            "schema_version": {"enum": [1]},
        },
        "if": {"required": ["type"], "properties": {"type": {"const": "rating"}}},
        "then": {
            "required": ["value"],
            "properties": {
                "value": {
                    "type": "number",
                    "minimum": limits.rating_min,
                    "maximum": limits.rating_max,
                }
            },
        },
    }


ITEM_FIELDS: Schema = {
    "title": NULLABLE_TEXT,
    "category": NULLABLE_TEXT,
    "tags": {
        "description": "a list of strings or one |-separated string",
        "anyOf": [
            {"type": "array", "items": PLAIN},
            {"type": ["string", "null"], "pattern": PLAIN["pattern"]},
        ],
    },
    "price": {
        "anyOf": [
            {"type": "number", "minimum": 0},
            {**NUMERIC_TEXT, "pattern": r"^[ ]*[+]?([0-9]+[.]?[0-9]*|[.][0-9]+)[ ]*$"},
            {"type": "null"},
            {"const": ""},
        ]
    },
    "in_stock": {"enum": [True, False, "true", "false", "1", "0", 1, 0, None]},
    "created_at": {"anyOf": [TIMESTAMP, {"type": "null"}, {"const": ""}]},
    "schema_version": {"enum": [1]},
}
ITEM: Schema = {
    "type": "object",
    "required": ["item_id"],
    "properties": {"item_id": ID_OR_NUMBER, **ITEM_FIELDS},
}
ITEM_BODY: Schema = {
    "type": "object",
    "description": "the item's fields (PUT replaces the row: fields not given take their "
    "defaults); the path names the item (a body item_id is ignored)",
    "properties": ITEM_FIELDS,
}
ITEM_PATCH: Schema = {
    "type": "object",
    "description": "the fields to change (null resets one to its default); the others keep "
    "their values",
    "additionalProperties": False,
    "properties": {"item_id": ID_OR_NUMBER, **ITEM_FIELDS},
}
REASON: Schema = {
    "type": "object",
    "required": ["type", "text", "anchor_item_id"],
    "properties": {
        "type": {"type": "string"},
        "text": {"type": "string"},
        "anchor_item_id": {"type": ["string", "null"]},
    },
}
SCORED_ITEM: Schema = {
    "type": "object",
    "required": ["item_id", "score"],
    "properties": {"item_id": {"type": "string"}, "score": {"type": "number"}},
}
RECOMMENDATIONS: Schema = {
    "type": "object",
    "required": ["request_id", "user_id", "model_version", "experiment", "items"],
    "properties": {
        "request_id": {"type": "string"},
        "user_id": {"type": "string"},
        "model_version": {"type": "string"},
        "experiment": {
            "description": "the first of `experiments`, or null",
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["id", "variant"],
                    "properties": {"id": {"type": "string"}, "variant": {"type": "string"}},
                },
            ],
        },
        "experiments": {
            "description": "every experiment arm that shaped the page, one per layer",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "variant", "layer"],
                "properties": {k: {"type": "string"} for k in ("id", "variant", "layer")},
            },
        },
        "items": {
            "type": "array",
            "items": {
                **SCORED_ITEM,
                "required": ["item_id", "score", "reason"],
                "properties": {**SCORED_ITEM["properties"], "reason": ref("Reason")},
            },
        },
    },
}
HISTORY_ITEM: Schema = {
    "type": "object",
    "required": ["item_id", "type", "timestamp", "value"],
    "properties": {
        "item_id": {"type": "string"},
        "type": {"type": "string"},
        "timestamp": {"type": "number"},
        "value": {"type": ["number", "null"]},
    },
}
COMPONENTS: dict[str, Schema] = {
    "Error": ERROR,
    "Interaction": interaction(),
    "Item": ITEM,
    "ItemBody": ITEM_BODY,
    "ItemPatch": ITEM_PATCH,
    "Reason": REASON,
    "ScoredItem": SCORED_ITEM,
    "Recommendations": RECOMMENDATIONS,
    "HistoryItem": HISTORY_ITEM,
}
