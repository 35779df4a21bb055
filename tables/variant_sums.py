"""Additive per-variant sums of per-user counts (what the delta method needs), and the share
of them one worker holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tables.experiment_stats import RatioSums
from tables.timeline import Timeline


@dataclass(slots=True)
class ArmCounts:
    """One user's exposure to one arm: items shown, pages, clicks and conversions credited."""

    impressions: int = 0
    requests: int = 0
    clicks: int = 0
    conversions: int = 0


@dataclass(slots=True)
class VariantSums:
    """Per-user sums of one arm: users, totals, squares and cross products (delta method)."""

    users: int = 0
    impressions: int = 0
    requests: int = 0
    clicks: int = 0
    conversions: int = 0
    converted: int = 0
    impressions_sq: int = 0
    requests_sq: int = 0
    clicks_sq: int = 0
    conversions_sq: int = 0
    clicks_impressions: int = 0
    conversions_requests: int = 0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VariantSums:
        """Inverse of `to_json`."""
        return cls(**data)

    def add(self, counts: ArmCounts, sign: int) -> None:
        """Add (sign 1) or remove (sign -1) one user's contribution (mutates)."""
        n, r, c, k = counts.impressions, counts.requests, counts.clicks, counts.conversions
        self.users += sign
        self.impressions += sign * n
        self.requests += sign * r
        self.clicks += sign * c
        self.conversions += sign * k
        self.converted += sign * int(k > 0)
        self.impressions_sq += sign * n * n
        self.requests_sq += sign * r * r
        self.clicks_sq += sign * c * c
        self.conversions_sq += sign * k * k
        self.clicks_impressions += sign * c * n
        self.conversions_requests += sign * k * r

    def merge(self, other: VariantSums) -> VariantSums:
        """The sums of both (e.g. two partitions)."""
        return VariantSums(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))

    def ctr(self) -> RatioSums:
        """Clicks per item shown, per user."""
        return RatioSums(
            self.users,
            self.impressions,
            self.clicks,
            self.impressions_sq,
            self.clicks_sq,
            self.clicks_impressions,
        )

    def conversion_rate(self) -> RatioSums:
        """Conversions per page served, per user."""
        return RatioSums(
            self.users,
            self.requests,
            self.conversions,
            self.requests_sq,
            self.conversions_sq,
            self.conversions_requests,
        )

    def user_conversion(self) -> RatioSums:
        """Share of users with at least one conversion (x = 1 per user)."""
        n, k = self.users, self.converted
        return RatioSums(n, n, k, n, k, k)


def _values(sums: VariantSums) -> tuple[int, ...]:
    return tuple(asdict(sums).values())


@dataclass(frozen=True, slots=True)
class TallyShard:
    """The sums and timelines of one experiment run's variants over the partitions one worker
    owns."""

    partitions: tuple[int, ...]
    variants: Mapping[str, VariantSums] = field(default_factory=dict)
    timelines: Mapping[str, Timeline] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (what a worker answers another)."""
        return {
            "partitions": list(self.partitions),
            "variants": {name: sums.to_json() for name, sums in self.variants.items()},
            "timelines": {name: line.to_json() for name, line in self.timelines.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TallyShard:
        """Inverse of `to_json`."""
        variants = {name: VariantSums.from_json(raw) for name, raw in data["variants"].items()}
        timelines = {
            name: Timeline.from_json(raw) for name, raw in data.get("timelines", {}).items()
        }
        return cls(tuple(int(p) for p in data["partitions"]), variants, timelines)


def merge_shards(shards: Iterable[TallyShard]) -> TallyShard:
    """The sums of every shard; their partitions are listed as often as they were held."""
    partitions: list[int] = []
    variants: dict[str, VariantSums] = {}
    timelines: dict[str, Timeline] = {}
    for shard in shards:
        partitions.extend(shard.partitions)
        for name, sums in shard.variants.items():
            variants[name] = variants.get(name, VariantSums()).merge(sums)
        for name, line in shard.timelines.items():
            timelines[name] = timelines.get(name, Timeline()).merge(line)
    return TallyShard(tuple(sorted(partitions)), variants, timelines)
