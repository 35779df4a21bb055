"""Nearest-neighbour retrievers over item vectors: Annoy (approximate, mmapped) and exact.

Both score by dot product with the vectors they were built from. ALS vectors use Annoy's
`dot` metric (maximum inner product, which Annoy reduces to angular search by the usual extra
coordinate sqrt(max_norm^2 - |y|^2)); content vectors are L2-normalised and use `angular`, so
their dot product is the cosine.

Item neighbours never change within a version, so both retrievers keep the most recent
`by_item` answers (read-only arrays). Below `EXACT_BELOW` items a matrix product is both exact
and faster than walking trees, so the Annoy retriever answers from its vectors there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from annoy import AnnoyIndex

from streamrec.errors import RegistryError

METRICS: tuple[str, ...] = ("dot", "angular")
DEFAULT_TREES = 50
SEARCH_K_PER_RESULT = 10
"""Annoy nodes inspected per wanted result (Annoy's own default is the number of trees)."""
EXACT_BELOW = 20_000
NEIGHBOUR_CACHE = 50_000

Hits = tuple[np.ndarray, np.ndarray]


class Retriever(Protocol):
    """Top-n items for a query vector or an item, as (item indexes, dot-product scores)."""

    vectors: np.ndarray

    def by_vector(self, vector: np.ndarray, n: int) -> Hits:
        """The n items with the highest score for `vector`, best first."""
        ...

    def by_item(self, index: int, n: int) -> Hits:
        """The n nearest items to item `index`, itself excluded, best first."""
        ...


def _scored(vectors: np.ndarray, ids: np.ndarray, vector: np.ndarray) -> Hits:
    scores = vectors[ids] @ vector
    order = np.argsort(-scores, kind="stable")
    return ids[order], scores[order].astype(np.float32)


def _exact(vectors: np.ndarray, vector: np.ndarray, n: int) -> Hits:
    scores = vectors @ vector.astype(np.float32)
    n = min(n, len(scores))
    if n <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    top = np.argpartition(-scores, n - 1)[:n]
    return _scored(vectors, top, vector)


def _frozen(hits: Hits) -> Hits:
    for array in hits:
        array.flags.writeable = False
    return hits


def _cached(search: Callable[[int, int], Hits]) -> Callable[[int, int], Hits]:
    return lru_cache(maxsize=NEIGHBOUR_CACHE)(lambda index, n: _frozen(search(index, n)))


class ExactRetriever:
    """Brute-force dot product over every vector; exact, for small catalogs and tests."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._neighbours = _cached(self._by_item)

    def by_vector(self, vector: np.ndarray, n: int) -> Hits:
        """The n items with the highest dot product, best first."""
        return _exact(self.vectors, vector, n)

    def by_item(self, index: int, n: int) -> Hits:
        """The n items with the highest dot product with item `index`, itself excluded."""
        return self._neighbours(index, n)

    def _by_item(self, index: int, n: int) -> Hits:
        ids, scores = self.by_vector(self.vectors[index], n + 1)
        keep = ids != index
        return ids[keep][:n], scores[keep][:n]


class AnnoyRetriever:
    """Approximate search through an Annoy index; a loaded index is memory-mapped."""

    def __init__(
        self,
        vectors: np.ndarray,
        index: AnnoyIndex,
        search_k_per_result: int = SEARCH_K_PER_RESULT,
        exact_below: int = EXACT_BELOW,
    ) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = index
        self.search_k_per_result = search_k_per_result
        self.exact = len(self.vectors) < exact_below
        self._neighbours = _cached(self._by_item)

    def by_vector(self, vector: np.ndarray, n: int) -> Hits:
        """The about-n best items by dot product, best first."""
        if self.exact:
            return _exact(self.vectors, vector, n)
        found = self.index.get_nns_by_vector(vector.tolist(), n, self._search_k(n))
        return _scored(self.vectors, np.asarray(found, dtype=np.int64), vector.astype(np.float32))

    def by_item(self, index: int, n: int) -> Hits:
        """The about-n nearest items to item `index`, itself excluded."""
        return self._neighbours(index, n)

    def _by_item(self, index: int, n: int) -> Hits:
        if self.exact:
            ids, scores = _exact(self.vectors, self.vectors[index], n + 1)
            keep = ids != index
            return ids[keep][:n], scores[keep][:n]
        found = self.index.get_nns_by_item(index, n + 1, self._search_k(n + 1))
        ids = np.asarray(found, dtype=np.int64)
        ids, scores = _scored(self.vectors, ids[ids != index], self.vectors[index])
        return ids[:n], scores[:n]

    def _search_k(self, n: int) -> int:
        return max(n * self.search_k_per_result, self.index.get_n_trees())

    def save(self, path: Path) -> None:
        """Write the index file (Annoy then maps the written file)."""
        self.index.save(str(path))


def build_annoy(
    vectors: np.ndarray, metric: str, trees: int = DEFAULT_TREES, seed: int = 0
) -> AnnoyRetriever:
    """Build an in-memory Annoy index over `vectors` with a fixed seed."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    index = AnnoyIndex(vectors.shape[1], metric)  # type: ignore[arg-type]
    index.set_seed(seed)
    for row, vector in enumerate(vectors):
        index.add_item(row, vector.tolist())
    index.build(trees, n_jobs=1)
    return AnnoyRetriever(vectors, index)


def load_annoy(path: Path, vectors: np.ndarray, metric: str) -> AnnoyRetriever:
    """Memory-map a saved Annoy index; it must hold one entry per vector."""
    index = AnnoyIndex(vectors.shape[1], metric)  # type: ignore[arg-type]
    try:
        loaded = index.load(str(path))
    except OSError as error:
        raise RegistryError(f"{path.name}: cannot load Annoy index ({error})") from None
    if not loaded or index.get_n_items() != len(vectors):
        raise RegistryError(f"{path.name}: Annoy index does not match its vectors")
    return AnnoyRetriever(vectors, index)


def make_retriever(vectors: np.ndarray, kind: str = "annoy", metric: str = "dot") -> Retriever:
    """The one factory: `annoy` (approximate) or `exact` over the same vectors."""
    if kind == "exact":
        return ExactRetriever(vectors)
    if kind == "annoy":
        return build_annoy(vectors, metric)
    raise ValueError(f"retriever kind must be annoy or exact, got {kind!r}")
