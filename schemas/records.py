"""Wire records of every topic: plain frozen dataclasses, their JSON is the wire format.

A record's JSON ends with `"__faust": {"ns": <namespace>}`, the marker of the Faust records the
topics were first written with; namespaces are explicit so module moves never rename them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self, TypeVar

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


R = TypeVar("R", bound=Record)


def _nested(kind: type[R], values: Any) -> list[R]:
    """Nested records of a decoded JSON list (records already decoded stay as they are)."""
    if not isinstance(values, list | tuple):
        raise TypeError(f"{kind.__name__}: expected a JSON array")
    return [value if isinstance(value, kind) else kind.from_data(value) for value in values]


def _optional(kind: type[R], values: Any) -> list[R] | None:
    return None if values is None else _nested(kind, values)


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
class ExperimentArm(Record):
    """The variant of one experiment run (its layer's) that served a page."""

    namespace: ClassVar[str] = "streamrec.ExperimentArm"

    experiment_id: str
    variant: str
    run_id: str = ""
    layer: str = "default"


@dataclass(frozen=True, slots=True)
class ShadowPage(Record):
    """A page a shadow variant computed for the same request; logged, never shown."""

    namespace: ClassVar[str] = "streamrec.ShadowPage"

    experiment_id: str
    variant: str
    model_version: str
    items: list[ImpressionItem]
    run_id: str = ""

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The shadow page of a decoded JSON object, its items decoded too."""
        return super(ShadowPage, cls).from_data(
            {**data, "items": _nested(ImpressionItem, data["items"])}
        )


@dataclass(frozen=True, slots=True)
class Impression(Record):
    """What one recommendation response served to one user.

    `experiments` lists every arm that shaped the page (one per layer); `experiment_id` and
    `variant` repeat the first of them. `shadow` holds pages of shadow variants, not shown.
    """

    namespace: ClassVar[str] = "streamrec.Impression"

    request_id: str
    user_id: str
    items: list[ImpressionItem]
    model_version: str
    timestamp: float
    experiment_id: str | None = None
    variant: str | None = None
    experiments: list[ExperimentArm] | None = None
    shadow: list[ShadowPage] | None = None
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The impression of a decoded JSON object, its served items, arms and shadow pages
        decoded too."""
        nested = {
            "items": _nested(ImpressionItem, data["items"]),
            "experiments": _optional(ExperimentArm, data.get("experiments")),
            "shadow": _optional(ShadowPage, data.get("shadow")),
        }
        return super(Impression, cls).from_data({**data, **nested})


@dataclass(frozen=True, slots=True)
class ModelActivated(Record):
    """The latest record on `model-updates` names the active model version and the default
    serving configuration (`config`: ranking overrides; None keeps the worker's settings)."""

    namespace: ClassVar[str] = "streamrec.ModelActivated"

    version: str
    activated_at: float
    previous: str | None = None
    config: dict[str, float] | None = None
    promoted_from: str | None = None
    history: list[str] | None = None
    """Versions activated before this one and verified then, oldest first (rollback walks it)."""
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class VariantSpec(Record):
    """One variant of an experiment: its share of users, model version and ranking overrides;
    a shadow variant gets no users, its page is computed beside the shown one and logged."""

    namespace: ClassVar[str] = "streamrec.VariantSpec"

    name: str
    weight: float = 1.0
    model_version: str | None = None
    config: dict[str, float] | None = None
    shadow: bool = False


@dataclass(frozen=True, slots=True)
class ExperimentSpec(Record):
    """The state of one experiment on the compacted `experiments` topic (None deletes it).

    `status` is draft, running, stopped or promoted; `run_id` is fixed at creation, so tallies
    of a deleted experiment never count for a new one of the same id; `revision` is new on
    every write.
    """

    namespace: ClassVar[str] = "streamrec.Experiment"

    id: str
    variants: list[VariantSpec]
    status: str
    run_id: str
    revision: str
    created_at: float
    updated_at: float
    description: str = ""
    layer: str = "default"
    promoted: str | None = None
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """The experiment of a decoded JSON object, its variants decoded too."""
        return super(ExperimentSpec, cls).from_data(
            {**data, "variants": _nested(VariantSpec, data["variants"])}
        )


@dataclass(frozen=True, slots=True)
class ItemSummary(Record):
    """What serving reads of one item's live state, on the compacted item-summaries topic.

    The item's counters, window rings (`tables.windows.WindowCounts` JSON), impressions, arm
    ([impressions, clicks, at]) and last event time; `applied` counts the signals folded into
    them so far and never decreases, so a reader keeps the summary with the largest. It comes
    first, so a reader finds it without decoding the rest.
    """

    namespace: ClassVar[str] = "streamrec.ItemSummary"

    applied: int
    item_id: str
    counts: dict[str, int]
    windows: dict[str, list[int]]
    impressions: int
    last_event_at: float | None
    arm: list[float]
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
