"""Experiments through the log: the wire codec, the folded view, and writes that return only
once this worker's view has applied them (read-your-writes).

The worker feeds `ExperimentView.apply` from a consumer of the whole `experiments` topic and
sends through its producer; tests and benchmarks use `memory_log()`, which applies at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from api.experiments import Experiment, ExperimentBook, Variant
from schemas.records import ExperimentSpec, VariantSpec
from streamrec import topics
from streamrec.errors import NotReady

APPLY_TIMEOUT_S = 30.0
"""How long a write waits for this worker's view (a variant's model is loaded first)."""
Send = Callable[[str, bytes | None], Awaitable[tuple[int, int]]]
"""Publish (key, value or None to delete) and return the record's (partition, offset)."""


def encode(experiment: Experiment) -> bytes:
    """The record of `experiment` on the `experiments` topic."""
    spec = ExperimentSpec(
        id=experiment.id,
        variants=[
            VariantSpec(
                name=v.name,
                weight=v.weight,
                model_version=v.model_version,
                config=dict(v.config) or None,
                shadow=v.shadow,
            )
            for v in experiment.variants
        ],
        status=experiment.status,
        run_id=experiment.run_id,
        revision=experiment.revision,
        created_at=experiment.created_at,
        updated_at=experiment.updated_at,
        description=experiment.description,
        layer=experiment.layer,
        promoted=experiment.promoted,
    )
    data: bytes = spec.dumps()
    return data


def decode(value: bytes) -> Experiment:
    """The experiment a record holds; ValueError when it is not one."""
    try:
        spec: Any = ExperimentSpec.loads(value)
        variants = tuple(
            Variant(v.name, float(v.weight), v.model_version, dict(v.config or {}), bool(v.shadow))
            for v in spec.variants
        )
        return Experiment(
            id=spec.id,
            variants=variants,
            description=spec.description,
            status=spec.status,
            created_at=float(spec.created_at),
            layer=spec.layer,
            run_id=spec.run_id,
            revision=spec.revision,
            updated_at=float(spec.updated_at),
            promoted=spec.promoted,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not an experiment record: {error!r}") from error


class ExperimentView:
    """The book folded from the topic, the offsets applied, and writers waiting for them."""

    def __init__(self) -> None:
        self.book = ExperimentBook()
        self.positions: dict[int, int] = {}
        """Per partition, the offset after the last record applied."""
        self._changed = asyncio.Condition()

    async def apply(self, partition: int, offset: int, key: str, value: bytes | None) -> None:
        """Fold one record (an undecodable one is skipped) and wake writers waiting for it."""
        try:
            experiment = None if value is None else decode(value)
        except ValueError:
            experiment = self.book.experiments.get(key)
        self.book = self.book.applied(key, experiment)
        async with self._changed:
            self.positions[partition] = offset + 1
            self._changed.notify_all()

    async def wait(self, partition: int, offset: int, timeout: float = APPLY_TIMEOUT_S) -> None:
        """Return once the record at (partition, offset) is applied; NotReady after `timeout`."""

        def applied() -> bool:
            return self.positions.get(partition, 0) > offset

        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(applied), timeout)
        except TimeoutError:
            raise NotReady(
                "the experiment was published but this worker has not applied it yet; "
                "read it again shortly",
                {"partition": partition, "offset": offset, "retry_after": 1},
            ) from None


class ExperimentLog:
    """What the API reads (`book`) and writes (`write`) of the experiments."""

    def __init__(self, view: ExperimentView, send: Send) -> None:
        self.view = view
        self._send = send

    def book(self) -> ExperimentBook:
        """The experiments as this worker last applied them."""
        return self.view.book

    async def write(self, experiment_id: str, experiment: Experiment | None) -> ExperimentBook:
        """Publish the experiment's new state (None deletes it) and return the book once this
        worker has applied it."""
        value = None if experiment is None else encode(experiment)
        partition, offset = await self._send(experiment_id, value)
        await self.view.wait(partition, offset)
        return self.view.book


Recorder = Callable[[str, str | None, bytes | None], Awaitable[None]]


def memory_log(record: Recorder | None = None) -> ExperimentLog:
    """A log applied in memory at once; `record` also receives each (topic, key, value)."""
    view = ExperimentView()
    offsets = [0]

    async def send(key: str, value: bytes | None) -> tuple[int, int]:
        if record is not None:
            await record(topics.EXPERIMENTS, key, value)
        offset = offsets[0]
        offsets[0] += 1
        await view.apply(0, offset, key, value)
        return 0, offset

    return ExperimentLog(view, send)
