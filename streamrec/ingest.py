"""Reading event and item files (JSONL, CSV, Parquet) and validating them in bulk with Polars.

Events are validated column-wise with the same rules and messages as
`schemas.validate.parse_interaction`, in the same order, so a file row and an HTTP event are
judged alike. A missing `event_id` is derived from the row's content (a hash of user, item,
type, timestamp and value), so publishing the same file twice cannot count an event twice.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from schemas.records import EVENT_TYPES, SCHEMA_VERSION
from schemas.validate import CONTEXT_KEYS, MAX_ID_LENGTH, parse_item, parse_timestamp
from streamrec.errors import InvalidRecord, RecsysError

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_ROW = "__row"
_TIME_RULE = "must be ISO-8601 text or epoch seconds or milliseconds"


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


def _id_checks(column: str) -> list[tuple[pl.Expr, str]]:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return [
        (pl.col(column).is_null(), f"{column}: is required"),
        (text == "", f"{column}: must not be empty"),
        (
            text.str.len_chars() > MAX_ID_LENGTH,
            f"{column}: must be at most {MAX_ID_LENGTH} characters",
        ),
    ]


def _timestamp_expr(frame: pl.DataFrame) -> pl.Expr:
    dtype = frame.schema["timestamp"]
    column = pl.col("timestamp")
    if dtype.is_numeric():
        seconds = column.cast(pl.Float64)
    elif isinstance(dtype, pl.Datetime):
        seconds = column.dt.epoch("us").cast(pl.Float64) / 1e6
    else:
        seconds = column.cast(pl.String).map_elements(_lenient_timestamp, return_dtype=pl.Float64)
    return pl.when(seconds >= 1e10).then(seconds / 1000.0).otherwise(seconds)


def _lenient_timestamp(value: str) -> float | None:
    try:
        return parse_timestamp(value)
    except InvalidRecord:
        return None


def _normalise_events(frame: pl.DataFrame) -> pl.DataFrame:
    for column in ("event_id", "user_id", "item_id", "type", "timestamp", "value"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(column))
    if "context" in frame.columns and isinstance(frame.schema["context"], pl.Struct):
        frame = frame.unnest("context")
    value = pl.col("value").cast(pl.Float64, strict=False)
    return frame.with_row_index(_ROW).with_columns(
        _timestamp_expr(frame).alias("__ts"),
        value.alias("__value"),
        (pl.col("value").is_not_null() & value.is_null()).alias("__bad_value"),
    )


def _event_rules(frame: pl.DataFrame) -> list[tuple[pl.Expr, str]]:
    has_id = pl.col("event_id").is_not_null() & (pl.col("event_id").cast(pl.String) != "")
    rules = [
        (
            has_id & (pl.col("event_id").cast(pl.String).str.len_chars() > MAX_ID_LENGTH),
            f"event_id: must be at most {MAX_ID_LENGTH} characters",
        )
    ]
    rules += _id_checks("user_id") + _id_checks("item_id")
    rules += [
        (
            ~pl.col("type").cast(pl.String).is_in(EVENT_TYPES).fill_null(False),
            f"type: must be one of {', '.join(EVENT_TYPES)}",
        ),
        (pl.col("timestamp").is_null(), "timestamp: is required"),
        (pl.col("__ts").is_null(), f"timestamp: {_TIME_RULE}"),
        (
            ~pl.col("__ts").is_finite() | (pl.col("__ts") < 0),
            "timestamp: must be a finite, non-negative epoch time",
        ),
        (pl.col("__bad_value"), "value: must be a number"),
        (~pl.col("__value").is_finite().fill_null(True), "value: must be a finite number"),
        (
            (pl.col("type") == "rating") & pl.col("__value").is_null(),
            "value: is required for a rating",
        ),
    ]
    return rules


def _reason(rules: list[tuple[pl.Expr, str]]) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, message in reversed(rules):
        expr = pl.when(condition.fill_null(False)).then(pl.lit(message)).otherwise(expr)
    return expr.alias("__reason")


def _event_record(frame: pl.DataFrame) -> pl.DataFrame:
    content_hash = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in ("user_id", "item_id", "type")]
        + [pl.col("__ts").cast(pl.String), pl.col("__value").cast(pl.String).fill_null("")],
        separator="\x1f",
    ).hash(seed=7)
    generated = pl.lit("h-") + content_hash.cast(pl.String)
    event_id = pl.col("event_id").cast(pl.String).str.strip_chars()
    context_cols = [c for c in CONTEXT_KEYS if c in frame.columns]
    context = (
        pl.struct([pl.col(c).cast(pl.String) for c in context_cols])
        if context_cols
        else pl.lit(None)
    )
    return frame.select(
        pl.when(event_id.is_null() | (event_id == ""))
        .then(generated)
        .otherwise(event_id)
        .alias("event_id"),
        pl.col("user_id").cast(pl.String).str.strip_chars(),
        pl.col("item_id").cast(pl.String).str.strip_chars(),
        pl.col("type").cast(pl.String),
        pl.col("__ts").alias("timestamp"),
        pl.col("__value").alias("value"),
        context.alias("context"),
        pl.lit(SCHEMA_VERSION).alias("schema_version"),
    )


def validate_events(frame: pl.DataFrame) -> Validated:
    """Validate an events frame column-wise; valid rows become JSON lines keyed by user_id."""
    frame = _normalise_events(frame)
    frame = frame.with_columns(_reason(_event_rules(frame)))
    bad = frame.filter(pl.col("__reason").is_not_null())
    good = _event_record(frame.filter(pl.col("__reason").is_null()))
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
    hidden = [c for c in bad.columns if c.startswith("__") and c not in (_ROW, "__reason")]
    rows = bad.drop(hidden).to_dicts()
    return [
        {"row": row.pop(_ROW) + 1, "reason": row.pop("__reason"), "record": row} for row in rows
    ]


def validate_items(frame: pl.DataFrame) -> Validated:
    """Validate catalog rows one by one (catalogs are small); valid rows are keyed by item_id."""
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
