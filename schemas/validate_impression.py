"""Validation of a raw impression (what a worker served) before it reaches tallies and item
signals; each failure names the field and the rule."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from schemas.records import ExperimentArm, Impression, ImpressionItem, ShadowPage
from schemas.text import check_clean
from schemas.times import parse_timestamp
from schemas.validate import MAX_ID_LENGTH, require_id, require_mapping, schema_version
from streamrec.errors import InvalidRecord

MAX_PAGE_ITEMS = 1000
MAX_LIST = 100


def parse_impression(raw: Any) -> Impression:
    """Validate a raw impression: ids, time, served items, experiment arms and shadow pages."""
    raw = require_mapping(raw)
    schema_version(raw)
    return Impression(
        request_id=require_id(raw, "request_id"),
        user_id=require_id(raw, "user_id"),
        items=_items(raw.get("items"), "items"),
        model_version=_label(raw, "model_version", "model_version"),
        timestamp=parse_timestamp(raw.get("timestamp")),
        experiment_id=_optional_label(raw, "experiment_id"),
        variant=_optional_label(raw, "variant"),
        experiments=_arms(raw.get("experiments")),
        shadow=_shadow(raw.get("shadow")),
    )


def _list(value: Any, field: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidRecord(field, "must be a list")
    if len(value) > most:
        raise InvalidRecord(field, f"must hold at most {most} entries")
    return value


def _entries(value: Any, field: str, most: int = MAX_LIST) -> list[tuple[Mapping[str, Any], str]]:
    """The objects of a list with the field name of each (`field[n]`)."""
    found = []
    for n, entry in enumerate(_list(value, field, most)):
        if not isinstance(entry, Mapping):
            raise InvalidRecord(f"{field}[{n}]", "must be an object")
        found.append((entry, f"{field}[{n}]"))
    return found


def _label(raw: Mapping[str, Any], key: str, field: str, default: str | None = None) -> str:
    """A string (which may be empty) of bounded length, without control characters; a missing
    one is `default` where there is one."""
    value = raw.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise InvalidRecord(field, "must be a string")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRecord(field, f"must be at most {MAX_ID_LENGTH} characters")
    return check_clean(value, field)


def _optional_label(raw: Mapping[str, Any], key: str) -> str | None:
    return None if raw.get(key) is None else _label(raw, key, key)


def _items(value: Any, field: str) -> list[ImpressionItem]:
    served = []
    for item, at in _entries(value, field, MAX_PAGE_ITEMS):
        position = item.get("position")
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise InvalidRecord(f"{at}.position", "must be a non-negative integer")
        served.append(
            ImpressionItem(
                item_id=_id(item, "item_id", f"{at}.item_id"),
                position=position,
                source=_label(item, "source", f"{at}.source"),
                score=_score(item.get("score"), f"{at}.score"),
            )
        )
    return served


def _id(raw: Mapping[str, Any], key: str, field: str) -> str:
    try:
        return require_id(raw, key)
    except InvalidRecord as error:
        raise InvalidRecord(field, error.rule) from None


def _score(value: Any, field: str) -> float:
    """A finite number; null (a score that was not a number when served) counts as 0."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRecord(field, "must be a finite number")
    return float(value)


def _arms(value: Any) -> list[ExperimentArm] | None:
    if value is None:
        return None
    return [
        ExperimentArm(
            experiment_id=_label(arm, "experiment_id", f"{at}.experiment_id"),
            variant=_label(arm, "variant", f"{at}.variant"),
            run_id=_label(arm, "run_id", f"{at}.run_id", ""),
            layer=_label(arm, "layer", f"{at}.layer", "default"),
        )
        for arm, at in _entries(value, "experiments")
    ]


def _shadow(value: Any) -> list[ShadowPage] | None:
    if value is None:
        return None
    return [
        ShadowPage(
            experiment_id=_label(page, "experiment_id", f"{at}.experiment_id"),
            variant=_label(page, "variant", f"{at}.variant"),
            model_version=_label(page, "model_version", f"{at}.model_version"),
            items=_items(page.get("items"), f"{at}.items"),
            run_id=_label(page, "run_id", f"{at}.run_id", ""),
        )
        for page, at in _entries(value, "shadow")
    ]
