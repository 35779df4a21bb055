"""Faust records for every topic; namespaces are explicit so module moves never rename them."""

from __future__ import annotations

import faust

SCHEMA_VERSION = 1
EVENT_TYPES: tuple[str, ...] = ("view", "click", "add_to_cart", "purchase", "rating")
USER_COMMANDS: tuple[str, ...] = ("opt_out", "opt_in", "erase")


class Interaction(faust.Record, serializer="json", namespace="streamrec.Interaction"):
    """One behavioural event; `timestamp` is event time in UTC epoch seconds."""

    event_id: str
    user_id: str
    item_id: str
    type: str
    timestamp: float
    value: float | None = None
    context: dict[str, str] | None = None
    schema_version: int = SCHEMA_VERSION


class ItemUpsert(faust.Record, serializer="json", namespace="streamrec.ItemUpsert"):
    """Catalog metadata of one item; a None value on the `items` topic deletes it."""

    item_id: str
    title: str = ""
    category: str = ""
    tags: list[str] | None = None
    price: float | None = None
    in_stock: bool = True
    created_at: float | None = None
    schema_version: int = SCHEMA_VERSION


class UserCommand(faust.Record, serializer="json", namespace="streamrec.UserCommand"):
    """A consent change or an erasure request for one user."""

    user_id: str
    command: str
    timestamp: float
    schema_version: int = SCHEMA_VERSION


class ImpressionItem(faust.Record, serializer="json", namespace="streamrec.ImpressionItem"):
    """One served item: where it was shown and which candidate source produced it."""

    item_id: str
    position: int
    source: str
    score: float = 0.0


class Impression(faust.Record, serializer="json", namespace="streamrec.Impression"):
    """What one recommendation response served to one user."""

    request_id: str
    user_id: str
    items: list[ImpressionItem]
    model_version: str
    timestamp: float
    experiment_id: str | None = None
    variant: str | None = None
    schema_version: int = SCHEMA_VERSION


class ModelActivated(faust.Record, serializer="json", namespace="streamrec.ModelActivated"):
    """The latest record on `model-updates` names the active model version."""

    version: str
    activated_at: float
    previous: str | None = None
    schema_version: int = SCHEMA_VERSION


class DeadLetter(faust.Record, serializer="json", namespace="streamrec.DeadLetter"):
    """An undecodable or invalid input record, with where it came from and why it failed."""

    source_topic: str
    partition: int
    offset: int
    reason: str
    payload: str
    timestamp: float
    schema_version: int = SCHEMA_VERSION
