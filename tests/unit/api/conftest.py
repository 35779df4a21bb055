"""In-memory ServingDeps from plain dicts, and a publisher that records what it was given."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.deps import RateLimitPolicy, ServingDeps
from api.experiment_log import memory_log
from api.experiments import Experiment
from api.model_holder import ModelHolder
from models.types import ItemMeta, ItemSignals, UserView
from streamrec.settings import Settings
from tables.variant_sums import TallyShard, VariantSums

NOW = 1_700_000_000.0
SECRET = "a-test-secret-of-at-least-32-bytes!!"
FORWARD_SECRET = "a-forwarding-secret-shared-by-workers"
CATEGORIES = ("crime", "drama", "comedy", "sci-fi", "horror")


class Published(list[tuple[str, str | None, bytes | None]]):
    """Every (topic, key, value) the API published; `fail` makes the next publishes raise."""

    fail: Exception | None = None

    async def __call__(self, topic: str, key: str | None, value: bytes | None) -> None:
        if self.fail is not None:
            raise self.fail
        self.append((topic, key, value))

    def on(self, topic: str) -> list[tuple[str | None, dict[str, Any] | None]]:
        """(key, decoded JSON value) of the records published on `topic`."""
        return [(k, None if v is None else json.loads(v)) for t, k, v in self if t == topic]


def build_catalog() -> dict[str, ItemMeta]:
    """Eight titled items per category; crime is the most popular category."""
    return {
        f"{cat}-{n}": ItemMeta(f"{cat}-{n}", f"{cat.title()} {n}", cat, (cat, f"t{n % 3}"))
        for cat in CATEGORIES
        for n in range(8)
    }


def build_signals(catalog: dict[str, ItemMeta]) -> dict[str, ItemSignals]:
    """Live signals making crime items the most popular and item -7 of each category unexposed."""
    return {
        i: ItemSignals(
            i,
            events_all=(1000 if m.category == "crime" else 10) + int(i[-1]),
            impressions=0 if i.endswith("-7") else 100,
        )
        for i, m in catalog.items()
    }


@dataclass
class World:
    """The mutable state behind in-memory deps."""

    catalog: dict[str, ItemMeta] = field(default_factory=build_catalog)
    users: dict[str, UserView] = field(default_factory=dict)
    signals: dict[str, ItemSignals] = field(default_factory=dict)
    tallies: dict[str, dict[str, VariantSums]] = field(default_factory=dict)
    published: Published = field(default_factory=Published)
    versions: list[str] = field(default_factory=lambda: ["v1", "v2"])
    holder: ModelHolder = field(init=False)

    def __post_init__(self) -> None:
        self.signals = self.signals or build_signals(self.catalog)
        self.holder = ModelHolder(lambda version: None, lambda: self.versions)  # type: ignore[arg-type, return-value]
        self.holder.swap(None, "v1")

    def shard(self, experiment: Experiment) -> TallyShard:
        """The tallies of `experiment` over every partition (one worker holds them all)."""
        return TallyShard(tuple(range(Settings().partitions)), self.tallies.get(experiment.id, {}))

    def deps(self, **overrides: Any) -> ServingDeps:
        """ServingDeps reading this world; keyword overrides replace fields."""
        deps = ServingDeps(
            settings=Settings(redis_url=""),
            users=self.users.get,
            signals=self.signals.get,
            meta=self.catalog.get,
            catalog_items=self.catalog.values,
            publish=self.published,
            models=self.holder,
            experiments=memory_log(self.published),
            tallies=self.shard,
            rate_limit=RateLimitPolicy(burst=10_000, per_second=10_000.0),
            clock=lambda: NOW,
        )
        return replace(deps, **overrides)


@pytest.fixture
def world() -> World:
    """A fresh in-memory world per test."""
    return World()


@asynccontextmanager
async def serve(deps: ServingDeps) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real ASGI app built over `deps`."""
    transport = httpx.ASGITransport(app=create_app(deps))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def auth_settings(**overrides: Any) -> Settings:
    """Settings with JWT auth on (and a forwarding secret, as auth requires)."""
    return replace(
        Settings(redis_url="", auth=True, jwt_secret=SECRET, forward_secret=FORWARD_SECRET),
        **overrides,
    )
