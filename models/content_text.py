"""An item's catalog text, and the trained text model that turns it into a content vector.

Training (`offline.content`) builds every item's document with `item_text` and fits TF-IDF
(`TOKEN_PATTERN`, lower-cased, sublinear tf, smoothed idf, L2 rows) then a truncated SVD. The
`TextModel` holds what that fit learned as plain arrays (terms, idf weights, SVD components),
so serving vectorises an item added after training exactly as training would have.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.types import ItemMeta
from streamrec.errors import RegistryError

TOKEN_PATTERN = r"(?u)\b\w+\b"
"""Tokens of the TF-IDF vocabulary (scikit-learn's `token_pattern`), matched on lower case."""
_TOKEN = re.compile(TOKEN_PATTERN)
_SPACES = re.compile(r"\s+")
ARRAY_NAMES: tuple[str, ...] = ("terms", "idf", "components")


def _joined(text: str) -> str:
    return _SPACES.sub("_", text)


def item_text(title: str | None, category: str | None, tags: Sequence[str | None] | None) -> str:
    """One document per item: title, category as words and as one token, tags as one token each."""
    category = category or ""
    tag_tokens = " ".join(_joined(tag) for tag in tags or () if tag is not None)
    return f"{title or ''} {category} {_joined(category)} {tag_tokens}"


def meta_text(item: ItemMeta) -> str:
    """The document of a catalog item."""
    return item_text(item.title, item.category, item.tags)


def tokens(text: str) -> list[str]:
    """The TF-IDF tokens of a document, in order."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class TextModel:
    """TF-IDF vocabulary (`terms[j]` is column j) and idf weights, and the SVD `components`
    (dims x vocabulary) mapping a TF-IDF row to a content vector."""

    terms: np.ndarray
    idf: np.ndarray
    components: np.ndarray
    vocabulary: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vocabulary = {str(term): column for column, term in enumerate(self.terms.tolist())}
        object.__setattr__(self, "vocabulary", vocabulary)

    @property
    def dims(self) -> int:
        """Length of the content vectors this model makes."""
        return int(self.components.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The model as named plain arrays (what the registry stores)."""
        return {"terms": self.terms.astype(str), "idf": self.idf, "components": self.components}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> TextModel:
        """The model from `arrays()`; RegistryError when they are missing or do not fit."""
        missing = [name for name in ARRAY_NAMES if name not in arrays]
        if missing:
            raise RegistryError(f"content model lacks the arrays {missing}")
        terms, idf, components = (arrays[name] for name in ARRAY_NAMES)
        width = len(terms)
        if idf.shape != (width,) or components.ndim != 2 or components.shape[1] != width:
            raise RegistryError("content model arrays do not fit together")
        return cls(terms.astype(str), idf.astype(np.float64), components.astype(np.float32))

    def tfidf(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of the document's L2-normalised TF-IDF row; unknown terms drop."""
        counts = Counter(j for j in map(self.vocabulary.get, tokens(text)) if j is not None)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), np.float64, len(counts))
        weights = tf * self.idf[columns]
        norm = float(np.sqrt(weights @ weights))
        return columns, weights / norm if norm > 0 else weights

    def vectorise(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised content vectors (float32, one row per text; zero when no term is known)."""
        vectors = np.zeros((len(texts), self.dims), dtype=np.float64)
        for row, text in enumerate(texts):
            columns, weights = self.tfidf(text)
            if len(columns):
                vectors[row] = self.components[:, columns].astype(np.float64) @ weights
        norms = np.linalg.norm(vectors, axis=1)
        norms[norms == 0] = 1.0
        normalised: np.ndarray = (vectors / norms[:, None]).astype(np.float32)
        return normalised

    def vectorise_items(self, items: Sequence[ItemMeta]) -> np.ndarray:
        """Content vectors of catalog items."""
        return self.vectorise([meta_text(item) for item in items])
