"""Consent folded from the user commands in the lake: what no offline data may keep.

The commands fold like the worker's consent table: the latest timestamp wins and an `opt_out`
wins a tie with an `opt_in`. A user's event is withheld when it is at or before the user's
latest `erase`, or inside an opt-out period (from an `opt_out`, inclusive, to the next
`opt_in`, exclusive; open while the user stays opted out).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from streamrec.errors import ModelFitError

ROW = "__consent_row"
OPT_OUT, OPT_IN, ERASE = "opt_out", "opt_in", "erase"


@dataclass(frozen=True)
class Span:
    """Times of one user whose events are withheld: [start, end), or [start, end] if closed."""

    start: float
    end: float
    closed: bool = False

    def holds(self, timestamp: float) -> bool:
        """Whether an event at `timestamp` falls in the span."""
        if timestamp < self.start:
            return False
        return timestamp < self.end or (self.closed and timestamp == self.end)


@dataclass
class Consents:
    """Withheld spans per user."""

    spans: dict[str, list[Span]] = field(default_factory=dict)

    @property
    def erased(self) -> dict[str, float]:
        """Each erased user's latest erase time."""
        return {
            user: span.end for user, spans in self.spans.items() for span in spans if span.closed
        }

    def stores(self, user_id: str | None, timestamp: float | None) -> bool:
        """Whether an event of `user_id` at `timestamp` may be kept."""
        if user_id is None or timestamp is None:
            return True
        return not any(span.holds(timestamp) for span in self.spans.get(user_id, ()))

    def frame(self) -> pl.LazyFrame:
        """The spans as rows: user_id, start, end, closed."""
        rows = [(u, s.start, s.end, s.closed) for u, spans in self.spans.items() for s in spans]
        return pl.LazyFrame(
            rows,
            schema={
                "user_id": pl.String,
                "start": pl.Float64,
                "end": pl.Float64,
                "closed": pl.Boolean,
            },
            orient="row",
        )

    def withheld_rows(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """Indexes (column ROW) of the rows (user_id, timestamp) that fall in a span."""
        ts = pl.col("timestamp")
        inside = (ts >= pl.col("start")) & (
            (ts < pl.col("end")) | (pl.col("closed") & (ts == pl.col("end")))
        )
        indexed = rows.select(
            pl.col("user_id").cast(pl.String), ts.cast(pl.Float64)
        ).with_row_index(ROW)
        hits = indexed.join(self.frame(), on="user_id").filter(inside)
        return hits.select(ROW).unique()

    def keep(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """`rows` without those that fall in a span, in their order."""
        if not self.spans:
            return rows
        indexed = rows.with_row_index(ROW)
        kept = indexed.join(self.withheld_rows(rows), on=ROW, how="anti", maintain_order="left")
        return kept.drop(ROW)


def fold(commands: Iterable[tuple[str, str, float]]) -> Consents:
    """Consents from (user_id, command, timestamp) rows in any order."""
    by_user: dict[str, list[tuple[float, bool, str]]] = {}
    for user, command, timestamp in commands:
        by_user.setdefault(user, []).append((timestamp, command == OPT_OUT, command))
    consents = Consents()
    for user, rows in by_user.items():
        spans = _spans(sorted(rows))
        if spans:
            consents.spans[user] = spans
    return consents


def _spans(rows: list[tuple[float, bool, str]]) -> list[Span]:
    spans: list[Span] = []
    erased_at: float | None = None
    opted_since: float | None = None
    for timestamp, _, command in rows:
        if command == ERASE:
            erased_at = timestamp
        elif command == OPT_OUT and opted_since is None:
            opted_since = timestamp
        elif command == OPT_IN and opted_since is not None:
            if timestamp > opted_since:
                spans.append(Span(opted_since, timestamp))
            opted_since = None
    if opted_since is not None:
        spans.append(Span(opted_since, math.inf))
    if erased_at is not None:
        spans.append(Span(-math.inf, erased_at, closed=True))
    return spans


def read_consents(path: Path | None) -> Consents | None:
    """Consents from a Parquet file or lake folder of user commands; None without one."""
    if path is None:
        return None
    if path.is_dir():
        files = sorted(path.glob("**/*.parquet"))
        if not files:
            return Consents()
        frame = pl.scan_parquet(files)
    elif path.is_file():
        frame = pl.scan_parquet(path)
    else:
        raise ModelFitError(f"{path}: no such Parquet file or lake directory of user commands")
    commands = frame.select(
        pl.col("user_id").cast(pl.String),
        pl.col("command").cast(pl.String),
        pl.col("timestamp").cast(pl.Float64),
    ).drop_nulls()
    return fold(commands.collect().iter_rows())
