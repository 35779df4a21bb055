"""Column-wise validation of event files with Polars: the rules and messages of
`schemas.validate.validate_interaction`, in the same order, so a file row and an HTTP event
are judged alike. Times go through `schemas.times.parse_timestamp` (one place tells seconds
from milliseconds)."""

from __future__ import annotations

import math

import polars as pl

from schemas.records import EVENT_TYPES, SCHEMA_VERSION
from schemas.text import CONTROL_CHARACTERS, PATH_IDS, SLASH_RULE, TEXT_RULE
from schemas.times import EPOCH_RULE, TIME_RULE, InputLimits, parse_timestamp
from schemas.validate import CONTEXT_KEYS, MAX_ID_LENGTH
from streamrec.errors import InvalidRecord

ROW = "__row"
Rule = tuple[pl.Expr, str]


ID_TOO_LONG = f"must be at most {MAX_ID_LENGTH} characters"


def _text_checks(column: str, field: str, too_long: str = ID_TOO_LONG) -> list[Rule]:
    text = pl.col(column).cast(pl.String)
    return [
        (text.str.contains(CONTROL_CHARACTERS), f"{field}: {TEXT_RULE}"),
        (text.str.len_chars() > MAX_ID_LENGTH, f"{field}: {too_long}"),
    ]


def _id_checks(column: str) -> list[Rule]:
    stripped = pl.col(column).cast(pl.String).str.strip_chars()
    slash = [(stripped.str.contains("/", literal=True), f"{column}: {SLASH_RULE}")]
    return [
        *_text_checks(column, column),
        (stripped == "", f"{column}: must not be empty"),
        *(slash if column in PATH_IDS else []),
    ]


def _seconds(value: float | str) -> float | None:
    """Epoch seconds of one cell; NaN when out of range or not finite, None when unreadable."""
    try:
        return parse_timestamp(value)
    except InvalidRecord as error:
        return math.nan if error.rule.startswith("must be a finite") else None


def _timestamp_expr(frame: pl.DataFrame) -> pl.Expr:
    dtype = frame.schema["timestamp"]
    column = pl.col("timestamp")
    if isinstance(dtype, pl.Datetime):
        return column.dt.epoch("us").cast(pl.Float64) / 1e6
    source = column.cast(pl.Float64) if dtype.is_numeric() else column.cast(pl.String)
    return source.map_elements(_seconds, return_dtype=pl.Float64, skip_nulls=True)


def normalise_events(frame: pl.DataFrame) -> pl.DataFrame:
    """Missing columns added as nulls, context flattened, derived time and value columns."""
    for column in ("event_id", "user_id", "item_id", "type", "timestamp", "value"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(column))
    if "context" in frame.columns and isinstance(frame.schema["context"], pl.Struct):
        frame = frame.unnest("context")
    value = pl.col("value").cast(pl.Float64, strict=False)
    return frame.with_row_index(ROW).with_columns(
        _timestamp_expr(frame).alias("__ts"),
        value.alias("__value"),
        (pl.col("value").is_not_null() & value.is_null()).alias("__bad_value"),
    )


def _time_rules(limits: InputLimits, now: float) -> list[Rule]:
    return [
        (pl.col("timestamp").is_null(), "timestamp: is required"),
        (pl.col("__ts").is_null(), f"timestamp: {TIME_RULE}"),
        (
            ~pl.col("__ts").is_finite() | (pl.col("__ts") < 0),
            f"timestamp: {EPOCH_RULE}",
        ),
        (
            pl.col("__ts") > now + limits.max_future_s,
            f"timestamp: must not be more than {limits.max_future_s:g} s in the future "
            "(STREAMREC_MAX_FUTURE_S)",
        ),
    ]


def _value_rules(limits: InputLimits) -> list[Rule]:
    rating = pl.col("type") == "rating"
    value = pl.col("__value")
    return [
        (pl.col("__bad_value"), "value: must be a number"),
        (~value.is_finite().fill_null(True), "value: must be a finite number"),
        (rating & value.is_null(), "value: is required for a rating"),
        (
            rating & ((value < limits.rating_min) | (value > limits.rating_max)),
            f"value: must be a rating from {limits.rating_min:g} to {limits.rating_max:g}",
        ),
    ]


def event_rules(frame: pl.DataFrame, limits: InputLimits, now: float) -> list[Rule]:
    """Every rule, in the order `validate_interaction` applies them."""
    has_id = pl.col("event_id").is_not_null() & (pl.col("event_id").cast(pl.String) != "")
    rules = [(has_id & condition, message) for condition, message in _id_checks("event_id")]
    for column in ("user_id", "item_id"):
        rules += [(pl.col(column).is_null(), f"{column}: is required"), *_id_checks(column)]
    rules.append(
        (
            ~pl.col("type").cast(pl.String).is_in(EVENT_TYPES).fill_null(False),
            f"type: must be one of {', '.join(EVENT_TYPES)}",
        )
    )
    rules += _time_rules(limits, now) + _value_rules(limits)
    too_long = f"must be a string of at most {MAX_ID_LENGTH}"
    for key in (k for k in CONTEXT_KEYS if k in frame.columns):
        rules += _text_checks(key, f"context.{key}", too_long)
    return rules


def reason(rules: list[Rule]) -> pl.Expr:
    """The message of the first rule a row breaks, null when it breaks none."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, message in reversed(rules):
        expr = pl.when(condition.fill_null(False)).then(pl.lit(message)).otherwise(expr)
    return expr.alias("__reason")


def event_records(frame: pl.DataFrame) -> pl.DataFrame:
    """Valid rows as Interaction fields; a missing event_id is a hash of the row's content."""
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
