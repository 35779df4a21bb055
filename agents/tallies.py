"""The experiment tallies in `variant_tallies`: the impression actor folds served pages into
them, the user actor credits clicks and conversions and forgets erased users, and the API reads
this worker's share of them.

Tallies live in the user's partition of `variant_tallies` (see `tables.experiments`). A batch
is folded without yielding into the transaction of the actor's batch, so its changes to a
partition are written and logged together with the batch's other writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, cast

from agents.app import Worker
from agents.runtime.context import partition_for
from agents.runtime.tables import VARIANT_TALLIES
from agents.runtime.transaction import Runtime, Transaction
from api.experiment_log import ExperimentLog
from api.experiments import Experiment
from schemas.records import Impression
from schemas.validate import ValidEvent
from streamrec.errors import NotReady
from tables.experiments import TallyFold, arm_key, sums_key, timeline_key
from tables.timeline import Timeline
from tables.variant_sums import TallyShard, VariantSums


def impression_arms(impression: Impression) -> list[str]:
    """The arm keys of every experiment that shaped the page."""
    if impression.experiments:
        return [arm_key(a.experiment_id, a.run_id, a.variant) for a in impression.experiments]
    if impression.experiment_id and impression.variant:
        return [arm_key(impression.experiment_id, "", impression.variant)]
    return []


class TallyBatch:
    """One `TallyFold` per partition a batch touches, put in its transaction at the end."""

    def __init__(self, partitions: int, transaction: Transaction) -> None:
        self.partitions, self.transaction = partitions, transaction
        self.folds: dict[int, TallyFold] = {}

    def fold(self, user_id: str) -> TallyFold:
        """The fold of the user's partition."""
        partition = partition_for(user_id, self.partitions)
        fold = self.folds.get(partition)
        if fold is None:
            read = partial(self.transaction.get, VARIANT_TALLIES, partition=partition)
            fold = self.folds[partition] = TallyFold(partition, read)
        return fold

    def put(self) -> None:
        """Put what every fold changed in the transaction."""
        for partition, fold in self.folds.items():
            for key, value in fold.writes.items():
                self.transaction.put(VARIANT_TALLIES, key, value, partition)
        self.folds = {}


class Tallies:
    """The tallies of one worker: folded by its actors, read by its API."""

    def __init__(
        self,
        runtime: Runtime,
        partitions: int,
        experiments: ExperimentLog,
        owned_partitions: Callable[[], list[int]],
    ) -> None:
        self.runtime, self.partitions = runtime, partitions
        self.experiments = experiments
        self.owned_partitions = owned_partitions
        """The user-keyed partitions this worker owns now (NotReady while they move)."""
        self.lock = asyncio.Lock()
        """Held by the user and impression actors around a batch: both change tallies, and a
        transaction yields (while its records are acknowledged) between its reads and its
        writes, so two of them over the same tallies would lose one's changes."""

    def impressions(self, transaction: Transaction, impressions: Iterable[Impression]) -> None:
        """Fold served pages into their arms' tallies (a request id already seen is dropped)."""
        batch = TallyBatch(self.partitions, transaction)
        for impression in impressions:
            arms = impression_arms(impression)
            if arms:
                fold = batch.fold(impression.user_id)
                fold.impression(
                    impression.user_id,
                    impression.request_id,
                    arms,
                    len(impression.items),
                    at=impression.timestamp,
                )
        batch.put()

    def outcomes(self, transaction: Transaction, events: Iterable[ValidEvent]) -> None:
        """Credit clicks and conversions carrying a request id to the arms that served it (an
        outcome whose page is not tallied yet waits for it while any experiment exists)."""
        events = list(events)
        if not events:
            return
        hold = bool(self.experiments.book().experiments)
        batch = TallyBatch(self.partitions, transaction)
        for event in events:
            request_id = (event.context or {}).get("request_id")
            if request_id:
                fold = batch.fold(event.user_id)
                fold.outcome(
                    event.user_id,
                    event.event_id,
                    request_id,
                    event.type,
                    hold=hold,
                    at=event.timestamp,
                )
        batch.put()

    def forget(self, transaction: Transaction, user_id: str) -> None:
        """Remove an opted-out or erased user from every tally."""
        batch = TallyBatch(self.partitions, transaction)
        batch.fold(user_id).erase(user_id)
        batch.put()

    def read(self, experiment: Experiment) -> TallyShard:
        """The sums of the experiment's variants over the partitions this worker owns."""
        owned = self.owned_partitions()
        read = self.runtime.read
        variants, timelines = {}, {}
        for variant in experiment.live:
            arm = arm_key(experiment.id, experiment.run_id, variant.name)
            sums, timeline = VariantSums(), Timeline()
            for partition in owned:
                stored = read(VARIANT_TALLIES, sums_key(arm, partition), partition)
                if stored:
                    sums = sums.merge(VariantSums.from_json(stored))
                stored = read(VARIANT_TALLIES, timeline_key(arm, partition), partition)
                if stored:
                    timeline = timeline.merge(Timeline.from_json(stored))
            variants[variant.name], timelines[variant.name] = sums, timeline
        return TallyShard(tuple(owned), variants, timelines)


def owned_partitions(worker: Worker) -> Callable[[], list[int]]:
    """The user-keyed partitions `worker` owns at each call."""
    app = worker.app
    topic = worker.topics.events.get_topic_name()

    def owned() -> list[int]:
        if app.rebalancing:
            raise NotReady("partitions are being rebalanced; retry shortly")
        assigned = cast(Any, app.assignor).assigned_actives()
        return sorted(tp.partition for tp in assigned if tp.topic == topic)

    return owned
