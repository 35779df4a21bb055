"""Wire records of every topic: plain frozen dataclasses, their JSON is the wire format.

A record's JSON ends with `"__faust": {"ns": <namespace>}`, the marker of the Faust records the
topics were first written with; namespaces are explicit so module moves never rename them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

import orjson

SCHEMA_VERSION = 1
EVENT_TYPES: tuple[str, ...] = ("view", "click", "add_to_cart", "purchase", "rating")
USER_COMMANDS: tuple[str, ...] = ("opt_out", "opt_in", "erase")
NAMESPACE_KEY = "__faust"


@dataclass(frozen=True, slots=True)
class Record:
    """What every wire record shares: its JSON form and decoding that ignores unknown fields."""

    namespace: ClassVar[str] = "streamrec.Record"

    def asdict(self) -> dict[str, Any]:
        """The fields by name (nested records stay records)."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    def to_wire(self) -> dict[str, Any]:
        """The JSON object of the wire format, nested records included, with the namespace."""
        wire = {name: _wire(value) for name, value in self.asdict().items()}
        wire[NAMESPACE_KEY] = {"ns": self.namespace}
        return wire

    def dumps(self) -> bytes:
        """The wire bytes (compact JSON)."""
        return orjson.dumps(self.to_wire())

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The record of a decoded JSON object; unknown keys and the namespace are ignored."""
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}: expected a JSON object")
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    @classmethod
    def loads(cls, raw: bytes | str) -> Self:
        """The record of wire bytes; ValueError when they are not JSON, TypeError when a
        required field is missing."""
        return cls.from_data(orjson.loads(raw))


def _wire(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_wire()
    if isinstance(value, list):
        return [_wire(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class Interaction(Record):
    """One behavioural event; `timestamp` is event time in UTC epoch seconds."""

    namespace: ClassVar[str] = "streamrec.Interaction"

    event_id: str
    user_id: str
    item_id: str
    type: str
    timestamp: float
    value: float | None = None
    context: dict[str, str] | None = None
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class ItemUpsert(Record):
    """Catalog metadata of one item; a None value on the `items` topic deletes it."""

    namespace: ClassVar[str] = "streamrec.ItemUpsert"

    item_id: str
    title: str = ""
    category: str = ""
    tags: list[str] | None = None
    price: float | None = None
    in_stock: bool = True
    created_at: float | None = None
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class UserCommand(Record):
    """A consent change or an erasure request for one user."""

    namespace: ClassVar[str] = "streamrec.UserCommand"

    user_id: str
    command: str
    timestamp: float
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class ImpressionItem(Record):
    """One served item: where it was shown and which candidate source produced it."""

    namespace: ClassVar[str] = "streamrec.ImpressionItem"

    item_id: str
    position: int
    source: str
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Impression(Record):
    """What one recommendation response served to one user."""

    namespace: ClassVar[str] = "streamrec.Impression"

    request_id: str
    user_id: str
    items: list[ImpressionItem]
    model_version: str
    timestamp: float
    experiment_id: str | None = None
    variant: str | None = None
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The impression of a decoded JSON object, its served items decoded too."""
        items = [
            item if isinstance(item, ImpressionItem) else ImpressionItem.from_data(item)
            for item in data["items"]
        ]
        return super(Impression, cls).from_data({**data, "items": items})


@dataclass(frozen=True, slots=True)
class ModelActivated(Record):
    """The latest record on `model-updates` names the active model version."""

    namespace: ClassVar[str] = "streamrec.ModelActivated"

    version: str
    activated_at: float
    previous: str | None = None
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class DeadLetter(Record):
    """An undecodable or invalid input record, with where it came from and why it failed."""

    namespace: ClassVar[str] = "streamrec.DeadLetter"

    source_topic: str
    partition: int
    offset: int
    reason: str
    payload: str
    timestamp: float
    schema_version: int = SCHEMA_VERSION
