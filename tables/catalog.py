"""Catalog entries folded from the compacted `items` topic; a None upsert deletes the item."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.records import ItemUpsert


@dataclass(slots=True)
class CatalogEntry:
    """Metadata of one item as the online path reads it."""

    item_id: str
    title: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    price: float | None = None
    in_stock: bool = True
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (fresh containers)."""
        return {
            "item_id": self.item_id,
            "title": self.title,
            "category": self.category,
            "tags": self.tags.copy(),
            "price": self.price,
            "in_stock": self.in_stock,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogEntry:
        """Inverse of `to_json`."""
        return cls(
            item_id=data["item_id"],
            title=data["title"],
            category=data["category"],
            tags=list(data["tags"]),
            price=data["price"],
            in_stock=data["in_stock"],
            created_at=data["created_at"],
            updated_at=data["updated_at"],
        )


def apply_upsert(
    entry: CatalogEntry | None, upsert: ItemUpsert | None, timestamp: float
) -> CatalogEntry | None:
    """The entry after one `items` record at `timestamp`; None means deleted (write a tombstone).

    The log order of the compacted topic is authoritative: every upsert replaces the fields.
    `created_at` is the upsert's when given, else kept from the existing entry, else `timestamp`.
    Returns a new entry; `entry` is not modified.
    """
    if upsert is None:
        return None
    created_at = upsert.created_at
    if created_at is None:
        created_at = entry.created_at if entry is not None else timestamp
    return CatalogEntry(
        item_id=upsert.item_id,
        title=upsert.title,
        category=upsert.category,
        tags=list(upsert.tags or ()),
        price=upsert.price,
        in_stock=upsert.in_stock,
        created_at=created_at,
        updated_at=timestamp,
    )
