"""The HTTP API inside the worker's event loop, and hot model swaps on `model-updates`."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any, cast

from prometheus_client import REGISTRY, Gauge

from agents.app import Worker
from agents.experiment_feed import ExperimentFeed
from agents.feeds import CatalogFeed, ItemFeed
from agents.runtime.consumers import paced
from agents.tallies import Tallies
from agents.views import TableReaders
from api.app import create_app
from api.deps import RateLimitPolicy, ServingDeps
from api.experiment_log import APPLY_TIMEOUT_S
from api.live_pools import sweep_in_slices
from api.model_holder import ModelHolder
from api.redis_guard import redis_client
from api.server import EmbeddedServer, server_config
from models.activation_chain import fallbacks
from models.content_refresh import LiveContentBook
from models.types import ItemMeta
from schemas.records import ModelActivated
from streamrec.errors import NotReady
from streamrec.kafka import follow

log = logging.getLogger(__name__)
MODEL_FALLBACK = Gauge(
    "streamrec_model_fallback",
    "1 while the worker serves an older version because the newest activated one cannot load",
)
RETRY_S = 2.0
CONTENT_SLICE = 500
"""Catalog ids read per slice of the loop when looking for items to vectorise."""


class Serving:
    """What the API reads on this worker: its tables, producer, group, models and experiments."""

    def __init__(
        self,
        worker: Worker,
        feed: ExperimentFeed,
        tallies: Tallies,
        catalog: CatalogFeed,
        items: ItemFeed | None,
    ) -> None:
        self.worker, self.app, self.settings = worker, worker.app, worker.settings
        self.read = TableReaders(worker.tables)
        self.catalog, self.items = catalog, items
        """Every item's summary (None: STREAMREC_ITEM_SUMMARIES=off, own partitions only)."""
        self.models = ModelHolder.from_registry(worker.settings.registry)
        self.live_content = LiveContentBook()
        """Content vectors of catalog items the loaded bundles lack; `vectorise_new_items`
        fills it."""
        self.feed, self.tallies = feed, tallies

    async def publish(self, topic: str, key: str | None, value: bytes | None) -> None:
        """Produce one record and wait for the broker's ack."""
        await self.app.producer.send_and_wait(
            topic, key.encode() if key else None, value, None, None, None
        )

    def readiness(self) -> tuple[bool, list[str]]:
        """Ready once partitions are assigned, table recovery finished, and the experiments,
        the catalog and the item summaries the topics held at start are applied."""
        reasons = []
        if self.app.rebalancing:
            reasons.append("partitions are being rebalanced")
        if not cast(Any, self.app.tables).recovery.completed.is_set():
            reasons.append("tables are recovering")
        if not self.feed.caught_up.is_set():
            reasons.append("experiments are loading")
        if not self.catalog.feed.caught_up.is_set():
            reasons.append("the catalog is loading")
        if self.items is not None and not self.items.feed.caught_up.is_set():
            reasons.append("item signals are loading")
        return not reasons, reasons

    def owner(self, user_id: str) -> str | None:
        """Base URL of the worker that owns the user's partition, None when it is this one."""
        app = self.app
        if app.rebalancing:
            raise NotReady("partitions are being rebalanced; retry shortly")
        try:
            url = str(app.router.external_topic_key_store(self.worker.topics.events, user_id))
        except KeyError:
            raise NotReady("the owner of this user is not known yet; retry shortly") from None
        return None if url.rstrip("/") == str(app.conf.canonical_url).rstrip("/") else url

    def workers(self) -> list[dict[str, object]]:
        """The group's workers with the `events` partitions each holds (from the last
        assignment)."""
        topic = self.worker.topics.events.get_topic_name()
        own = str(self.app.conf.canonical_url).rstrip("/")
        found = cast(Any, self.app.assignor).external_topics_metadata()
        listed: list[dict[str, object]] = []
        for url, tps in sorted(found.items()):
            base = str(url).rstrip("/")
            listed.append(
                {"url": base, "partitions": sorted(tps.get(topic, ())), "self": base == own}
            )
        return listed

    def deps(self) -> ServingDeps:
        """Everything the API reads, backed by this worker's tables and producer."""
        settings = self.settings
        return ServingDeps(
            settings=settings,
            users=self.read.user,
            signals=self.read.signals if self.items is None else self.items.signals,
            meta=self.catalog.meta,
            catalog_items=self.catalog.items,
            publish=self.publish,
            models=self.models,
            experiments=self.feed.log,
            tallies=self.tallies.read,
            redis=redis_client(settings),
            rate_limit=RateLimitPolicy(settings.rate_limit_burst, settings.rate_limit_per_s),
            readiness=self.readiness,
            owner=self.owner,
            workers=self.workers,
            registry=REGISTRY,
            require_model=False,
            activation_wait_s=APPLY_TIMEOUT_S,
            live_content=self.live_content,
        )

    async def refresh_live_content(self) -> int:
        """Vectorise new catalog items for every loaded bundle: the catalog items some bundle
        lacks are read on the loop a slice at a time, then vectorised in a thread."""
        bundles = [loaded.bundle for loaded in self.models.loaded_models()]
        indexes = [
            b.content_index for b in bundles if b is not None and b.content_model is not None
        ]
        lacked: dict[str, ItemMeta] = {}

        def collect(item_ids: list[str]) -> None:
            for item_id in item_ids:
                if any(item_id not in index for index in indexes):
                    meta = self.catalog.meta(item_id)
                    if meta is not None:
                        lacked[item_id] = meta

        if indexes:
            await sweep_in_slices(self.catalog.ids(), CONTENT_SLICE, collect)
        return await asyncio.to_thread(self.live_content.refresh, bundles, lacked.keys, lacked.get)

    async def refresh_quietly(self) -> None:
        """Refresh the live content; a failure is logged and retried at the next tick."""
        try:
            count = await self.refresh_live_content()
        except Exception:  # a catalog changing under the walk: try again at the next tick
            log.warning("vectorising new catalog items failed", exc_info=True)
            return
        if count:
            log.info("vectorised %d new catalog items", count)

    async def apply_activation(self, value: bytes | None) -> None:
        """Load the version a `model-updates` record names beside the active one, then swap."""
        if value is None:
            return
        try:
            activated = ModelActivated.loads(value)
        except Exception as error:  # a bad record must not stop the worker
            log.error("cannot read model activation: %r", error)
            return
        self.models.record = activated
        for version in [activated.version, *fallbacks(activated)]:
            try:
                await self.models.load_version(version, activated.previous, activated.config)
            except Exception as error:  # a version that cannot load: try the one before
                log.error("cannot load model %s: %r", version, error)
                continue
            self.models.fallback = (
                None
                if version == activated.version
                else f"model {activated.version} cannot load; serving {version}"
            )
            MODEL_FALLBACK.set(0 if version == activated.version else 1)
            await self.refresh_quietly()  # the new version's live content, without a tick's wait
            gc.freeze()  # the bundle lives until the next swap: keep it out of every GC pass
            log.info("model %s active", version)
            return
        self.models.fallback = f"model {activated.version} and its history cannot load"
        MODEL_FALLBACK.set(1)


def install(
    worker: Worker,
    feed: ExperimentFeed,
    tallies: Tallies,
    catalog: CatalogFeed,
    items: ItemFeed | None,
) -> Serving:
    """Register the HTTP server, the content refresh, the model follower, and the experiments,
    catalog and item-summaries feeds on the app."""
    serving = Serving(worker, feed, tallies, catalog, items)
    app, settings = worker.app, worker.settings

    @app.task
    async def serve_http() -> None:
        """Start uvicorn on STREAMREC_API_HOST:STREAMREC_API_PORT once the worker runs."""
        await EmbeddedServer(server_config(create_app(serving.deps()), settings)).serve()

    @app.timer(settings.content_refresh_s)
    async def vectorise_new_items() -> None:
        """Give catalog items added after training content vectors every
        STREAMREC_CONTENT_REFRESH_S seconds (items that reached the catalog table by then)."""
        await serving.refresh_quietly()

    @app.task
    async def follow_model_updates() -> None:
        """Every worker follows `model-updates` on its own (not as a group member), from the
        latest."""
        topic = worker.topics.model_updates.get_topic_name()
        while True:
            try:
                async for value in follow(settings, topic, paced):
                    await serving.apply_activation(value)
            except Exception as error:  # the broker may be away for a while: try again
                log.warning("following model-updates failed, retrying: %r", error)
                await asyncio.sleep(RETRY_S)

    @app.task
    async def follow_experiment_log() -> None:
        """Every worker folds the whole `experiments` topic into its own view."""
        await feed.follow(serving.models)

    @app.task
    async def follow_catalog() -> None:
        """Every worker folds the whole catalog changelog into its own complete map."""
        await catalog.feed.follow()

    if items is not None:

        @app.task
        async def follow_item_summaries() -> None:
            """Every worker folds the whole item-summaries topic into its own complete map."""
            await items.feed.follow()

    return serving
