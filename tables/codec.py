"""Between state objects and the plain JSON dicts stored in the tables (None stays None)."""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

from tables.catalog import CatalogEntry
from tables.consent import ConsentState
from tables.experiments import UserExposure
from tables.item import ItemState
from tables.user import UserState
from tables.variant_sums import VariantSums


class JsonState(Protocol):
    """A state type that round-trips through a plain JSON dict."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        ...

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Inverse of `to_json`."""
        ...


StateT = TypeVar("StateT", bound=JsonState)

STATE_TYPES: dict[str, type[JsonState]] = {
    "user": UserState,
    "item": ItemState,
    "catalog": CatalogEntry,
    "consent": ConsentState,
    "variant": VariantSums,
    "exposure": UserExposure,
}


def encode(state: JsonState | None) -> dict[str, Any] | None:
    """The JSON dict to store for `state`; None (a tombstone) for None."""
    return None if state is None else state.to_json()


def decode(state_type: type[StateT], data: dict[str, Any] | None) -> StateT | None:
    """The state stored as `data`; None for a missing key or tombstone."""
    return None if data is None else state_type.from_json(data)
