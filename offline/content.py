"""Content vectors for every catalog item: TF-IDF over title, category and tags, then SVD."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from models.content_text import TOKEN_PATTERN, TextModel, item_text


@dataclass(frozen=True)
class FittedContent:
    """Item ids, their L2-normalised vectors, and the text model that made them (None when
    there was no SVD to fit: fewer than two items or terms)."""

    ids: np.ndarray
    vectors: np.ndarray
    model: TextModel | None


def item_texts(items: pl.DataFrame) -> list[str]:
    """One document per item (`models.content_text.item_text`, which serving uses too)."""
    columns = [name for name in ("title", "category", "tags") if name in items.columns]
    rows = items.select(columns).iter_rows(named=True)
    return [item_text(row.get("title"), row.get("category"), row.get("tags")) for row in rows]


def _empty(dims: int) -> FittedContent:
    return FittedContent(np.empty(0, dtype=str), np.empty((0, dims), dtype=np.float32), None)


def fit_content(items: pl.DataFrame | None, dims: int = 48, seed: int = 0) -> FittedContent:
    """TF-IDF + truncated SVD over the catalog's documents; empty without catalog text."""
    if items is None or items.is_empty():
        return _empty(dims)
    ids = items["item_id"].cast(pl.String).to_numpy().astype(str)
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=1, token_pattern=TOKEN_PATTERN)
    try:
        tfidf = vectorizer.fit_transform(item_texts(items))
    except ValueError:  # empty vocabulary: no text at all
        return _empty(dims)
    components = min(dims, tfidf.shape[1] - 1, len(ids) - 1)
    if components < 1:
        return FittedContent(ids, normalize(tfidf.toarray()).astype(np.float32), None)
    svd = TruncatedSVD(n_components=components, random_state=seed)
    dense = svd.fit_transform(tfidf)
    model = TextModel(
        vectorizer.get_feature_names_out().astype(str),
        vectorizer.idf_.astype(np.float64),
        svd.components_.astype(np.float32),
    )
    return FittedContent(ids, normalize(dense).astype(np.float32), model)
