"""One candidate source's answer as columns: ids, raw scores, labels, anchors and bundle rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from models.bundle import ModelBundle, rows_of
from models.types import Candidate

T = TypeVar("T")


def pick(values: list[T], rows: np.ndarray) -> list[T]:
    """values[row] for each row."""
    return list(map(values.__getitem__, rows.tolist()))


@dataclass(frozen=True, slots=True)
class SourceList:
    """One list to merge as columns: item ids, raw scores, source labels and anchors, and the
    items' bundle rows (-1: not in the bundle) when the source found them by row; `source` is
    the label of every entry when they all share one (None: mixed)."""

    ids: list[str]
    scores: np.ndarray
    sources: list[str]
    anchors: list[str | None]
    rows: np.ndarray | None = None
    source: str | None = None

    @classmethod
    def of_source(
        cls,
        source: str,
        ids: list[str],
        scores: np.ndarray,
        anchors: list[str | None] | None = None,
        rows: np.ndarray | None = None,
    ) -> SourceList:
        """Every entry from `source`; no anchors unless given."""
        held: list[str | None] = [None] * len(ids) if anchors is None else anchors
        values = np.asarray(scores, dtype=np.float64)
        return cls(ids, values, [source] * len(ids), held, rows, source)

    def with_rows(self, bundle: ModelBundle) -> SourceList:
        """This list with its bundle rows, looked up by id where the source gave none."""
        if self.rows is not None:
            return self
        rows = rows_of(bundle.item_index, self.ids)
        return SourceList(self.ids, self.scores, self.sources, self.anchors, rows, self.source)

    @classmethod
    def empty(cls, source: str) -> SourceList:
        """A source with nothing to propose."""
        return cls.of_source(source, [], np.empty(0))

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> SourceList:
        """Columns of Candidate objects."""
        scores = np.array([c.score for c in candidates], dtype=np.float64)
        return cls(
            [c.item_id for c in candidates],
            scores,
            [c.source for c in candidates],
            [c.anchor_item_id for c in candidates],
        )
