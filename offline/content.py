"""Content vectors for every catalog item: TF-IDF over title, category and tags, then SVD."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


def item_texts(items: pl.DataFrame) -> list[str]:
    """One document per item: title, category and tags (tags become single tokens)."""
    columns = items.columns
    title = pl.col("title").fill_null("") if "title" in columns else pl.lit("")
    category = pl.col("category").fill_null("") if "category" in columns else pl.lit("")
    tags = (
        pl.col("tags")
        .list.eval(pl.element().str.replace_all(r"\s+", "_"))
        .list.join(" ")
        .fill_null("")
        if "tags" in columns
        else pl.lit("")
    )
    text = pl.concat_str(
        [title, category, category.str.replace_all(r"\s+", "_"), tags], separator=" "
    )
    return items.select(text.alias("text"))["text"].to_list()


def content_vectors(
    items: pl.DataFrame | None, dims: int = 48, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(item_ids, L2-normalised vectors); empty arrays when there is no catalog text."""
    if items is None or items.is_empty():
        return np.empty(0, dtype=str), np.empty((0, dims), dtype=np.float32)
    ids = items["item_id"].cast(pl.String).to_numpy().astype(str)
    try:
        tfidf = TfidfVectorizer(
            sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w+\b"
        ).fit_transform(item_texts(items))
    except ValueError:  # empty vocabulary: no text at all
        return np.empty(0, dtype=str), np.empty((0, dims), dtype=np.float32)
    components = min(dims, tfidf.shape[1] - 1, len(ids) - 1)
    if components < 1:
        dense = tfidf.toarray()
    else:
        dense = TruncatedSVD(n_components=components, random_state=seed).fit_transform(tfidf)
    return ids, normalize(dense).astype(np.float32)
