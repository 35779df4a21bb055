"""Lake rows: each topic's Parquet schema and the flattening of one Kafka record into a row."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from streamrec.topics import EVENTS, IMPRESSIONS, ITEMS, USERS

TOPICS: tuple[str, ...] = (EVENTS, ITEMS, IMPRESSIONS, USERS)

Row = dict[str, Any]
_TEXT = pa.string()
_IMPRESSION_ITEM = pa.struct(
    [("item_id", _TEXT), ("position", pa.int64()), ("source", _TEXT), ("score", pa.float64())]
)
_TYPES: dict[str, pa.DataType] = {
    "str": _TEXT,
    "float": pa.float64(),
    "bool": pa.bool_(),
    "list[str]": pa.list_(_TEXT),
    "list[item]": pa.list_(_IMPRESSION_ITEM),
}


def _schema(spec: str) -> pa.Schema:
    return pa.schema([(name, _TYPES[kind]) for name, kind in (c.split(":") for c in spec.split())])


SCHEMAS: dict[str, pa.Schema] = {
    EVENTS: _schema(
        "event_id:str user_id:str item_id:str type:str timestamp:float value:float "
        "session_id:str request_id:str device:str"
    ),
    ITEMS: _schema(
        "item_id:str title:str category:str tags:list[str] price:float in_stock:bool "
        "created_at:float deleted:bool"
    ),
    IMPRESSIONS: _schema(
        "request_id:str user_id:str model_version:str experiment_id:str variant:str "
        "timestamp:float items:list[item]"
    ),
    USERS: _schema("user_id:str command:str timestamp:float"),
}


def _decode_key(key: bytes | None) -> str | None:
    if key is None:
        return None
    text = key.decode("utf-8")
    if text.startswith('"'):
        decoded = json.loads(text)
        return decoded if isinstance(decoded, str) else text
    return text


def _columns(topic: str, value: dict[str, Any]) -> Row:
    row = {name: value.get(name) for name in SCHEMAS[topic].names}
    if topic == EVENTS:
        context = value.get("context") or {}
        row.update({name: context.get(name) for name in ("session_id", "request_id", "device")})
    elif topic == ITEMS:
        row["deleted"] = False
    elif topic == IMPRESSIONS:
        fields = _IMPRESSION_ITEM.names
        row["items"] = [{name: item.get(name) for name in fields} for item in value["items"]]
    return row


def flatten(topic: str, key: bytes | None, value: bytes | None) -> Row | None:
    """The lake row of one Kafka record; None if undecodable (a catalog tombstone is a row)."""
    try:
        if value is None:
            if topic != ITEMS:
                return None
            row = {name: None for name in SCHEMAS[ITEMS].names}
            return {**row, "item_id": _decode_key(key), "deleted": True}
        return _columns(topic, json.loads(value))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
