"""The HTTP API inside the worker's event loop, and hot model swaps on `model-updates`."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from prometheus_client import REGISTRY

from agents.app import app, events_topic, model_updates_topic, settings, tables
from agents.views import item_meta, item_signals, user_view
from api.app import create_app
from api.deps import RateLimitPolicy, ServingDeps
from api.experiments import ExperimentStore
from api.model_holder import ModelHolder
from api.redis_guard import redis_client
from api.server import EmbeddedServer, server_config
from models.content_refresh import LiveContentBook
from models.pools import SWEEP_DUTY, Throttle
from models.types import ItemMeta, ItemSignals, UserView
from schemas.records import ModelActivated
from streamrec.errors import NotReady
from streamrec.kafka import follow
from tables.experiments import VariantTally

log = logging.getLogger(__name__)
RETRY_S = 2.0
models = ModelHolder.from_registry(settings.registry)
live_content = LiveContentBook()
"""Content vectors of catalog items the loaded bundles lack; `vectorise_new_items` fills it."""


def read_user(user_id: str) -> UserView | None:
    """The user's live state from the local tables."""
    return user_view(user_id, tables.user_state.get(user_id), tables.user_consent.get(user_id))


def read_signals(item_id: str) -> ItemSignals | None:
    """The item's live counters from the local tables."""
    return item_signals(item_id, tables.item_state.get(item_id))


def read_meta(item_id: str) -> ItemMeta | None:
    """The item's catalog row (global table)."""
    return item_meta(item_id, tables.catalog.get(item_id))


def catalog_items() -> Iterable[ItemMeta]:
    """Every catalog item."""
    for item_id, entry in tables.catalog.items():
        meta = item_meta(item_id, entry)
        if meta is not None:
            yield meta


def catalog_ids() -> Iterator[str]:
    """Every catalog item id."""
    yield from tables.catalog.keys()


def read_tallies(experiment_id: str) -> Mapping[str, VariantTally]:
    """Per-variant tallies of one experiment."""
    prefix = f"{experiment_id}|"
    return {
        key.removeprefix(prefix): VariantTally.from_json(value)
        for key, value in tables.variant_tallies.items()
        if key.startswith(prefix)
    }


async def publish(topic: str, key: str | None, value: bytes | None) -> None:
    """Produce one record and wait for the broker's ack."""
    await app.producer.send_and_wait(topic, key.encode() if key else None, value, None, None, None)


def readiness() -> tuple[bool, list[str]]:
    """Ready once partitions are assigned and table recovery finished."""
    reasons = []
    if app.rebalancing:
        reasons.append("partitions are being rebalanced")
    if not cast(Any, app.tables).recovery.completed.is_set():
        reasons.append("tables are recovering")
    return not reasons, reasons


def owner(user_id: str) -> str | None:
    """Base URL of the worker that owns the user's partition, None when it is this one."""
    if app.rebalancing:
        raise NotReady("partitions are being rebalanced; retry shortly")
    try:
        url = str(app.router.external_topic_key_store(events_topic, user_id))
    except KeyError:
        raise NotReady("the owner of this user is not known yet; retry shortly") from None
    return None if url.rstrip("/") == str(app.conf.canonical_url).rstrip("/") else url


def workers() -> list[dict[str, object]]:
    """The group's workers with the `events` partitions each holds (from the last assignment)."""
    topic = events_topic.get_topic_name()
    own = str(app.conf.canonical_url).rstrip("/")
    found = cast(Any, app.assignor).external_topics_metadata()
    listed: list[dict[str, object]] = []
    for url, tps in sorted(found.items()):
        base = str(url).rstrip("/")
        listed.append({"url": base, "partitions": sorted(tps.get(topic, ())), "self": base == own})
    return listed


EXPERIMENTS = ExperimentStore(settings.data_dir / "experiments.json")
"""The worker's experiments: the API assigns and lists them, the user actor tallies clicks."""


def build_deps() -> ServingDeps:
    """Everything the API reads, backed by this worker's tables and producer."""
    return ServingDeps(
        settings=settings,
        users=read_user,
        signals=read_signals,
        meta=read_meta,
        catalog_items=catalog_items,
        publish=publish,
        models=models,
        experiments=EXPERIMENTS,
        tallies=read_tallies,
        redis=redis_client(settings),
        rate_limit=RateLimitPolicy(settings.rate_limit_burst, settings.rate_limit_per_s),
        readiness=readiness,
        owner=owner,
        workers=workers,
        registry=REGISTRY,
        require_model=False,
        live_content=live_content,
    )


@app.task
async def serve_http() -> None:
    """Start uvicorn on STREAMREC_API_HOST:STREAMREC_API_PORT once the worker runs."""
    await EmbeddedServer(server_config(create_app(build_deps()), settings)).serve()


def refresh_live_content() -> int:
    """Vectorise new catalog items for every loaded bundle, holding at most SWEEP_DUTY of the
    interpreter (run in a thread: the throttle measures the calling thread)."""
    bundles = [loaded.bundle for loaded in models.loaded_models()]
    return live_content.refresh(bundles, catalog_ids, read_meta, Throttle(SWEEP_DUTY))


@app.timer(settings.content_refresh_s)
async def vectorise_new_items() -> None:
    """Give catalog items added after training content vectors every STREAMREC_CONTENT_REFRESH_S
    seconds (items that reached the catalog table by then)."""
    await _refresh_quietly()


async def _refresh_quietly() -> None:
    try:
        count = await asyncio.to_thread(refresh_live_content)
    except Exception:  # a catalog changing under the walk: try again at the next tick
        log.warning("vectorising new catalog items failed", exc_info=True)
        return
    if count:
        log.info("vectorised %d new catalog items", count)


async def apply_activation(value: bytes | None) -> None:
    """Load the version a `model-updates` record names beside the active one, then swap."""
    if value is None:
        return
    try:
        activated = ModelActivated.loads(value)
        await models.load_version(activated.version, activated.previous)
        await _refresh_quietly()  # the new version's live content index, without a tick's wait
        gc.freeze()  # the bundle lives until the next swap: keep it out of every GC pass
        log.info("model %s active", activated.version)
    except Exception as error:  # a bad version must not stop the worker
        log.error("cannot activate model: %r", error)


@app.task
async def follow_model_updates() -> None:
    """Every worker follows `model-updates` on its own (not as a group member), from the latest."""
    while True:
        try:
            async for value in follow(settings, model_updates_topic.get_topic_name()):
                await apply_activation(value)
        except Exception as error:  # the broker may be away for a while: try again
            log.warning("following model-updates failed, retrying: %r", error)
            await asyncio.sleep(RETRY_S)
