"""Every worker reads the whole `experiments` topic (no group, no partition ownership) and folds
it into its `ExperimentView`; writes through the API return once this view has applied them.

A record of a running experiment has its variants' model versions loaded before it is applied,
so a variant is never served with another model while its own is loading.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents.app import Worker
from agents.runtime.consumers import paced
from api.experiment_log import ExperimentLog, ExperimentView, decode
from api.model_holder import ModelHolder
from streamrec.kafka import keep_reading, read_whole

log = logging.getLogger(__name__)
RETRY_S = 2.0


class ExperimentFeed:
    """This worker's view of the `experiments` topic and the log the API reads and writes."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.topic: str = worker.topics.experiments.get_topic_name()
        self.view = ExperimentView()
        self.caught_up = asyncio.Event()
        """Set once the view has applied every record the topic held when this worker
        started."""
        self.log = ExperimentLog(self.view, self.send)
        """What the API reads and writes; the user and impression actors read its book too."""

    async def send(self, key: str, value: bytes | None) -> tuple[int, int]:
        """Publish one experiments record; return its (partition, offset) once acknowledged."""
        metadata: Any = await self.worker.app.producer.send_and_wait(
            self.topic, key.encode(), value, None, None, None
        )
        return int(metadata.partition), int(metadata.offset)

    async def follow(self, models: ModelHolder) -> None:
        """Fold the topic from its start, then every new record; reconnect after a failure."""
        await keep_reading("experiments", lambda: self._follow(models), RETRY_S)

    async def _follow(self, models: ModelHolder) -> None:
        view = self.view

        async def apply(partition: int, records: list[Any]) -> None:
            for record in records:
                await self._apply(models, partition, record)

        await read_whole(
            self.worker.settings,
            self.topic,
            lambda partition: view.positions.get(partition, 0),
            apply,
            self._loaded,
            paced,
        )

    def _loaded(self) -> None:
        if not self.caught_up.is_set():
            self.caught_up.set()
            log.info("experiments loaded: %d", len(self.view.book.experiments))

    async def _apply(self, models: ModelHolder, partition: int, record: Any) -> None:
        key = record.key.decode("utf-8", "replace") if record.key is not None else ""
        if record.value is not None:
            await _load_models(models, record.value)
        await self.view.apply(partition, record.offset, key, record.value)
        models.retain(self.view.book.model_versions())


async def _load_models(models: ModelHolder, value: bytes) -> None:
    try:
        experiment = decode(value)
    except ValueError as error:
        log.error("skipping an undecodable experiments record: %s", error)
        return
    if experiment.status != "running":
        return
    for version in sorted(experiment.model_versions()):
        try:
            await models.pin(version)
        except Exception as error:  # a missing version must not stop the feed
            log.error("experiment %s: cannot load model %s: %r", experiment.id, version, error)
