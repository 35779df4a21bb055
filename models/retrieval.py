"""Nearest-neighbour retrievers over item vectors: Annoy (approximate, mmapped) and exact.

Both score by dot product with the vectors they were built from. ALS vectors use Annoy's
`dot` metric (maximum inner product, which Annoy reduces to angular search by the usual extra
coordinate sqrt(max_norm^2 - |y|^2)); content vectors are L2-normalised and use `angular`, so
their dot product is the cosine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from annoy import AnnoyIndex

from streamrec.errors import RegistryError

METRICS: tuple[str, ...] = ("dot", "angular")
DEFAULT_TREES = 50


class Retriever(Protocol):
    """Top-n items for a query vector or an item, as (item indexes, dot-product scores)."""

    vectors: np.ndarray

    def by_vector(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n items with the highest score for `vector`, best first."""
        ...

    def by_item(self, index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n nearest items to item `index`, itself excluded, best first."""
        ...


def _scored(
    vectors: np.ndarray, ids: np.ndarray, vector: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors[ids] @ vector
    order = np.argsort(-scores, kind="stable")
    return ids[order], scores[order].astype(np.float32)


class ExactRetriever:
    """Brute-force dot product over every vector; exact, for small catalogs and tests."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def by_vector(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n items with the highest dot product, best first."""
        scores = self.vectors @ vector.astype(np.float32)
        n = min(n, len(scores))
        if n <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        top = np.argpartition(-scores, n - 1)[:n]
        return _scored(self.vectors, top, vector)

    def by_item(self, index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n items with the highest dot product with item `index`, itself excluded."""
        ids, scores = self.by_vector(self.vectors[index], n + 1)
        keep = ids != index
        return ids[keep][:n], scores[keep][:n]


class AnnoyRetriever:
    """Approximate search through an Annoy index; a loaded index is memory-mapped."""

    def __init__(self, vectors: np.ndarray, index: AnnoyIndex) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = index

    def by_vector(self, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The about-n best items by dot product, best first."""
        ids = np.asarray(self.index.get_nns_by_vector(vector.tolist(), n), dtype=np.int64)
        return _scored(self.vectors, ids, vector.astype(np.float32))

    def by_item(self, index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The about-n nearest items to item `index`, itself excluded."""
        ids = np.asarray(self.index.get_nns_by_item(index, n + 1), dtype=np.int64)
        ids, scores = _scored(self.vectors, ids[ids != index], self.vectors[index])
        return ids[:n], scores[:n]

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
