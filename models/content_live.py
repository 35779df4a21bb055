"""Content vectors of catalog items a bundle lacks, searched together with the bundle's own.

A bundle holds content vectors for the catalog it was trained on. `LiveContent` holds the
vectors of items added since (made by the bundle's `TextModel`, see `models.content_refresh`).
One writer updates it off the request path; every update builds new arrays and swaps one
reference, so a request reading it never sees half an update. Searching it is an exact dot
product (it holds the few items added since training).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.bundle import ModelBundle, rows_of
from models.types import MetaLookup

ContentHits = tuple[list[str], np.ndarray]
"""(item ids, cosine scores), best first."""
RowNeighbours = Callable[[str, int], tuple[list[str], np.ndarray, np.ndarray]]
"""(anchor, k) -> (ids, scores, bundle rows with -1 where the bundle lacks the item)."""


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class _Entries:
    """One immutable state of the live index."""

    ids: tuple[str, ...]
    vectors: np.ndarray
    texts: tuple[str, ...]
    index: dict[str, int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {item: row for row, item in enumerate(self.ids)})


class LiveContent:
    """Ids, L2-normalised vectors and source texts of items added after training."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self._entries = _Entries((), _frozen(np.empty((0, dims), dtype=np.float32)), ())
        self._writer = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries.ids)

    def ids(self) -> tuple[str, ...]:
        """The items held, in insertion order."""
        return self._entries.ids

    def vector_of(self, item_id: str) -> np.ndarray | None:
        """The item's content vector (read-only), None when not held."""
        entries = self._entries
        row = entries.index.get(item_id)
        return None if row is None else entries.vectors[row]

    def text_of(self, item_id: str) -> str | None:
        """The text the item's vector was made from, None when not held."""
        entries = self._entries
        row = entries.index.get(item_id)
        return None if row is None else entries.texts[row]

    def update(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        texts: Sequence[str],
        drop: Collection[str] = (),
    ) -> None:
        """Add or replace `ids` with their vectors and texts, and remove `drop`, in one swap."""
        if vectors.shape != (len(ids), self.dims) or len(texts) != len(ids):
            raise ValueError(f"expected {len(ids)} vectors of {self.dims} and as many texts")
        with self._writer:
            old = self._entries
            replaced = set(ids) | set(drop)
            kept = [row for row, item in enumerate(old.ids) if item not in replaced]
            merged = np.concatenate([old.vectors[kept], vectors.astype(np.float32)])
            self._entries = _Entries(
                tuple(old.ids[r] for r in kept) + tuple(ids),
                _frozen(np.ascontiguousarray(merged)),
                tuple(old.texts[r] for r in kept) + tuple(texts),
            )

    def search(self, vector: np.ndarray, k: int, skip: str | None = None) -> ContentHits:
        """The k held items with the highest positive dot product with `vector`, best first."""
        entries = self._entries
        if k <= 0 or not entries.ids:
            return [], np.empty(0, dtype=np.float32)
        scores = entries.vectors @ vector.astype(np.float32)
        if skip is not None and skip in entries.index:
            scores[entries.index[skip]] = -np.inf
        n = min(k, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return [entries.ids[r] for r in top.tolist()], scores[top]


def _query(bundle: ModelBundle, live: LiveContent | None, item_id: str) -> np.ndarray | None:
    row = bundle.content_index.get(item_id)
    if row is not None:
        vector: np.ndarray = bundle.content_vectors[row]
        return vector
    return None if live is None else live.vector_of(item_id)


def _from_bundle(bundle: ModelBundle, item_id: str, query: np.ndarray, k: int) -> ContentHits:
    """The bundle's nearest content items to `query`, `item_id` itself excluded."""
    retriever = bundle.content_retriever
    row = bundle.content_index.get(item_id)
    if retriever is not None and row is not None:
        rows, scores = retriever.by_item(row, k)
    elif retriever is not None:
        rows, scores = retriever.by_vector(query, k)
    else:
        scores = bundle.content_vectors @ query.astype(np.float32)
        rows = np.argsort(-scores, kind="stable")[: k + 1]
        scores = scores[rows]
    keep = rows != (-1 if row is None else row)
    rows, scores = rows[keep][:k], scores[keep][:k]
    return [bundle.content_names[r] for r in rows.tolist()], scores.astype(np.float32)


def content_neighbours(
    bundle: ModelBundle, live: LiveContent | None, item_id: str, k: int
) -> ContentHits:
    """The k items whose content vectors are nearest `item_id`'s (itself excluded), best first,
    from the bundle's catalog and the live items; empty when the item has no (non-zero) vector.

    Without live items this is the bundle's own content search (`content_retriever.by_item`).
    """
    query = _query(bundle, live, item_id)
    if query is None or k <= 0 or not np.any(query):
        return [], np.empty(0, dtype=np.float32)
    ids, scores = _from_bundle(bundle, item_id, query, k)
    if live is None or not len(live):
        return ids, scores
    extra_ids, extra_scores = live.search(query, k, skip=item_id)
    merged = np.concatenate([scores, extra_scores])
    order = np.argsort(-merged, kind="stable")[:k]
    names = ids + extra_ids
    return [names[n] for n in order.tolist()], merged[order]


def content_neighbour_rows(bundle: ModelBundle, live: LiveContent | None) -> RowNeighbours:
    """`content_neighbours` as a candidate source reads it: with each item's bundle row."""

    def neighbours(anchor: str, k: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        ids, scores = content_neighbours(bundle, live, anchor, k)
        return ids, scores, rows_of(bundle.item_index, ids)

    return neighbours


def similar_by_content(
    bundle: ModelBundle | None,
    live: LiveContent | None,
    item_id: str,
    meta: MetaLookup,
    count: int,
) -> list[tuple[str, float]]:
    """Up to `count` in-stock catalog items with content like `item_id`'s (positive cosine)."""
    if bundle is None or count <= 0:
        return []
    ids, scores = content_neighbours(bundle, live, item_id, 2 * count + 5)
    found: list[tuple[str, float]] = []
    for other, score in zip(ids, scores.tolist(), strict=True):
        if score <= 0 or len(found) == count:
            break
        entry = meta(other)
        if entry is not None and entry.in_stock:
            found.append((other, round(float(score), 6)))
    return found
