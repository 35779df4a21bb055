"""Reading event and item files (JSONL, CSV, Parquet) and validating them in bulk with Polars.

Events are validated column-wise (`cli.event_rules`) with the same rules and messages as
`schemas.validate.parse_interaction`, so a file row and an HTTP event are judged alike. A
missing `event_id` is derived from the row's content (a hash of user, item, type, timestamp
and value), so publishing the same file twice cannot count an event twice. A file whose
columns belong to the other topic's records is refused whole.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cli.event_rules import ROW, event_records, event_rules, normalise_events, reason
from schemas.times import DEFAULT_LIMITS, InputLimits
from schemas.validate import EVENT_ONLY, ITEM_ONLY, parse_item
from streamrec.errors import InvalidRecord, RecsysError
from streamrec.topics import EVENTS, ITEMS

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

FOREIGN_COLUMNS = {EVENTS: ITEM_ONLY, ITEMS: EVENT_ONLY}


@dataclass(frozen=True)
class Validated:
    """Rows that passed (as JSON lines ready to publish, with their keys) and rows that did not."""

    keys: list[bytes]
    values: list[bytes]
    rejects: list[dict[str, Any]]


def read_frame(path: Path) -> pl.DataFrame:
    """Read a JSONL, CSV or Parquet file into a DataFrame, naming the file on failure."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise RecsysError(f"{path}: unknown format; use one of {', '.join(sorted(FORMATS))}")
    if not path.exists():
        raise RecsysError(f"{path}: no such file")
    try:
        if kind == "parquet":
            return pl.read_parquet(path)
        if kind == "csv":
            return pl.read_csv(path, infer_schema=False)
        return pl.read_ndjson(path, infer_schema_length=None)
    except (pl.exceptions.PolarsError, OSError, ValueError) as error:
        raise RecsysError(f"{path}: cannot be read as {kind}: {error}") from error


def check_topic(frame: pl.DataFrame, topic: str) -> None:
    """Refuse a file whose columns belong to another topic's records (nothing is published)."""
    foreign = sorted(set(frame.columns) & FOREIGN_COLUMNS.get(topic, frozenset()))
    if foreign:
        other = ITEMS if topic == EVENTS else EVENTS
        raise RecsysError(
            f"columns {', '.join(foreign)} belong to {other} records, not {topic}: "
            f"this looks like an {other} file; nothing published (use --topic {other})"
        )


def validate_events(
    frame: pl.DataFrame, limits: InputLimits = DEFAULT_LIMITS, now: float | None = None
) -> Validated:
    """Validate an events frame column-wise; valid rows become JSON lines keyed by user_id.
    Times more than `limits.max_future_s` after `now` (default: the clock) are refused."""
    check_topic(frame, EVENTS)
    frame = normalise_events(frame)
    at = time.time() if now is None else now
    frame = frame.with_columns(reason(event_rules(frame, limits, at)))
    bad = frame.filter(pl.col("__reason").is_not_null())
    good = event_records(frame.filter(pl.col("__reason").is_null()))
    return Validated(
        keys=good["user_id"].cast(pl.Binary).to_list(),
        values=_json_lines(good),
        rejects=_rejects(bad),
    )


def _json_lines(frame: pl.DataFrame) -> list[bytes]:
    if frame.is_empty():
        return []
    buffer = io.BytesIO()
    frame.write_ndjson(buffer)
    lines = buffer.getvalue().split(b"\n")
    return lines[:-1] if not lines[-1] else lines


def _rejects(bad: pl.DataFrame) -> list[dict[str, Any]]:
    hidden = [c for c in bad.columns if c.startswith("__") and c not in (ROW, "__reason")]
    rows = bad.drop(hidden).to_dicts()
    return [{"row": row.pop(ROW) + 1, "reason": row.pop("__reason"), "record": row} for row in rows]


def validate_items(frame: pl.DataFrame) -> Validated:
    """Validate catalog rows one by one (catalogs are small); valid rows are keyed by item_id."""
    check_topic(frame, ITEMS)
    keys: list[bytes] = []
    values: list[bytes] = []
    rejects: list[dict[str, Any]] = []
    for index, row in enumerate(frame.iter_rows(named=True)):
        try:
            item = parse_item(row)
        except InvalidRecord as error:
            rejects.append({"row": index + 1, "reason": error.message, "record": row})
            continue
        keys.append(item.item_id.encode())
        values.append(json.dumps(item.asdict(), separators=(",", ":")).encode())
    return Validated(keys, values, rejects)
