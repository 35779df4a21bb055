"""Which items a user already consumed: never shown again, or shown again only with a reason.

A policy reads a user's `interacted` bits (`streamrec.interactions`). An item is never shown
again when it carries a consumed type (purchase excepted when `rebuy` is on) or is DISLIKED.
It may come back, with a reason naming what the user did, when it carries a revisit type or
(rebuy on) a purchase. Other items are unrestricted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streamrec.errors import RegistryError
from streamrec.interactions import DISLIKED, PURCHASE, TYPE_BITS, mask_of, strongest

DEFAULT_CONSUMED: frozenset[str] = frozenset({"rating", "purchase"})
DEFAULT_REVISIT: frozenset[str] = frozenset({"view", "click", "add_to_cart"})


@dataclass(frozen=True, slots=True)
class ConsumptionPolicy:
    """Which interaction types consume an item, whether purchases come back, and which types
    let an item return with a "you viewed this" reason."""

    consumed_types: frozenset[str] = DEFAULT_CONSUMED
    rebuy: bool = False
    revisit_types: frozenset[str] = DEFAULT_REVISIT

    def __post_init__(self) -> None:
        unknown = (self.consumed_types | self.revisit_types) - TYPE_BITS.keys()
        if unknown:
            raise ValueError(f"unknown interaction types {sorted(unknown)}")

    @property
    def never_mask(self) -> int:
        """Bits that keep an item out of every page."""
        consumed = mask_of(self.consumed_types)
        return (consumed & ~PURCHASE if self.rebuy else consumed) | DISLIKED

    @property
    def revisit_mask(self) -> int:
        """Bits that let an item come back with a reason, unless a `never_mask` bit is set."""
        return mask_of(self.revisit_types) | (PURCHASE if self.rebuy else 0)

    def never(self, interacted: Mapping[str, int]) -> frozenset[str]:
        """Item ids that must not come back."""
        mask = self.never_mask
        return frozenset(item for item, bits in interacted.items() if bits & mask)

    def revisit(self, interacted: Mapping[str, int]) -> dict[str, str]:
        """Item ids that may come back, each with its strongest interaction type (reason text)."""
        never, allowed = self.never_mask, self.revisit_mask
        result: dict[str, str] = {}
        for item, bits in interacted.items():
            if bits & allowed and not bits & never:
                result[item] = strongest(bits) or ""
        return result

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (sorted lists)."""
        return {
            "consumed_types": sorted(self.consumed_types),
            "rebuy": self.rebuy,
            "revisit_types": sorted(self.revisit_types),
        }


def resolve(
    consumed_types: Iterable[str],
    rebuy: bool | None,
    manifest: Mapping[str, Any] | None,
) -> ConsumptionPolicy:
    """Each part from the settings when set, else the manifest's `policy`, else the default."""
    recommended = _recommended(manifest)
    chosen = frozenset(consumed_types)
    return ConsumptionPolicy(
        consumed_types=chosen or recommended.consumed_types,
        rebuy=recommended.rebuy if rebuy is None else rebuy,
        revisit_types=recommended.revisit_types,
    )


def _recommended(manifest: Mapping[str, Any] | None) -> ConsumptionPolicy:
    policy = (manifest or {}).get("policy")
    if policy is None:
        return ConsumptionPolicy()
    try:
        return ConsumptionPolicy(
            consumed_types=frozenset(policy.get("consumed_types") or DEFAULT_CONSUMED),
            rebuy=bool(policy.get("rebuy", False)),
            revisit_types=frozenset(policy.get("revisit_types") or DEFAULT_REVISIT),
        )
    except (AttributeError, TypeError, ValueError) as error:
        raise RegistryError(f"manifest policy: {error}", {"policy": policy}) from error
