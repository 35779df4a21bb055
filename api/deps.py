"""What the worker hands the API at startup: table readers, the producer, models, services."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from api.experiment_log import ExperimentLog, memory_log
from api.experiments import Experiment
from api.model_holder import ModelHolder
from models.content_refresh import LiveContentBook
from models.types import ItemMeta, MetaLookup, SignalsLookup, UserView
from streamrec.settings import Settings
from tables.variant_sums import TallyShard

if TYPE_CHECKING:
    import httpx
    from redis.asyncio import Redis

Publish = Callable[[str, str | None, bytes | None], Awaitable[None]]
"""(topic, key, value bytes or None for a tombstone); returns once the broker acknowledged."""
Readiness = Callable[[], tuple[bool, list[str]]]
Owner = Callable[[str], str | None]
"""Base URL of the worker owning a user's partition, None when local; raises NotReady."""
Workers = Callable[[], list[dict[str, object]]]
"""The group's workers: `{"url", "partitions", "self"}` each, as the last assignment told."""
TallyReader = Callable[[Experiment], TallyShard]
"""The sums of an experiment's variants over the partitions this worker owns."""


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """A token bucket per client: `burst` requests at once, refilled at `per_second`."""

    burst: int = Settings.rate_limit_burst
    per_second: float = Settings.rate_limit_per_s


def _always_ready() -> tuple[bool, list[str]]:
    return True, []


def _local(_user_id: str) -> str | None:
    return None


def _no_workers() -> list[dict[str, object]]:
    return []


@dataclass
class ServingDeps:
    """Table readers, the producer and services one API instance serves from."""

    settings: Settings
    users: Callable[[str], UserView | None]
    signals: SignalsLookup
    meta: MetaLookup
    catalog_items: Callable[[], Iterable[ItemMeta]]
    publish: Publish
    models: ModelHolder
    experiments: ExperimentLog = field(default_factory=memory_log)
    tallies: TallyReader | None = None
    redis: Redis | None = None
    readiness: Readiness = _always_ready
    owner: Owner = _local
    workers: Workers = _no_workers
    http: httpx.AsyncClient | None = None
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    rate_limit: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    require_model: bool = True
    activation_wait_s: float = 0.0
    """How long promoting an experiment waits for this worker to apply its activation."""
    clock: Callable[[], float] = time.time
    rng: Callable[[], random.Random] = random.Random
    live_content: LiveContentBook = field(default_factory=LiveContentBook)
    """Content vectors of items added after training, per loaded bundle (the worker refreshes)."""
