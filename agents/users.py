"""Per-user actors: `track_user_activity` (the dedupe gate) and `apply_user_commands`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from faust.types import EventT

from agents.app import Worker
from agents.batching import BatchWindow, take_batches
from agents.context import SignalBatch, partition_for
from agents.dead_letters import decode_json, send_dead_letter
from agents.invalidation import Invalidator
from agents.keys import check_key
from agents.metrics import APPLY_LAG, DUPLICATES_DROPPED, EVENTS_PROCESSED, observe_all
from agents.state_cache import StateCache, apply_batch, clear_on_rebalance
from agents.table_batch import TableBatch, kafka_producer
from agents.tallies import Tallies
from schemas.records import UserCommand
from schemas.times import InputLimits
from schemas.validate import ValidEvent as Event
from schemas.validate import parse_user_command
from schemas.validate import validate_interaction as parse_event
from streamrec import topics
from streamrec.errors import InvalidRecord
from tables.consent import ConsentState, apply_command, stores_events
from tables.experiments import CREDITED_TYPES
from tables.user import UserState, apply_interaction

BATCH_SIZE = 1000


def event_signal(event: Event) -> list[Any]:
    """The item-keyed signal row of an applied event: [item_id, event_id, type, timestamp, 1]."""
    return [event.item_id, event.event_id, event.type, event.timestamp, 1]


class UserActors:
    """What the user actors share on one worker: its tables, decoded states and the lock."""

    def __init__(self, worker: Worker, tallies: Tallies, invalidator: Invalidator) -> None:
        settings = worker.settings
        self.invalidator = invalidator
        self.worker, self.settings, self.tables = worker, settings, worker.tables
        self.tallies = tallies
        self.limits = InputLimits(settings.rating_min, settings.rating_max, settings.max_future_s)
        """Ratings outside the configured scale are dead-lettered (times are not: the log is
        history)."""
        self.lock = asyncio.Lock()
        """Held while a batch or a command reads and writes user tables, so an erase is never
        undone."""
        self.states = StateCache[UserState](settings.state_cache_size)
        self.catalog_reads = TableBatch(worker.tables.catalog)
        self.consent_reads = TableBatch(worker.tables.user_consent)
        clear_on_rebalance(worker.app, self.states)

    def partition(self, key: str) -> int:
        """The partition of a user or item key."""
        return partition_for(key, self.settings.partitions)

    def consent(self, user_id: str) -> ConsentState | None:
        """The user's stored consent (None when never changed)."""
        data = self.consent_reads.get(user_id, self.partition(user_id))
        return ConsentState.from_json(data) if data else None

    async def apply_user_batch(self, batch: list[EventT[Any]]) -> int:
        """Fold a batch into user states (each user written once); return the events applied."""
        settings = self.settings
        lookups, signals, applied = (
            UserBatch(self),
            SignalBatch(settings.partitions),
            Counter[str](),
        )
        outbox = Outbox(self)
        for event in batch:
            interaction = outbox.decode(event)
            if interaction is None or not lookups.stores(
                interaction.user_id, interaction.timestamp
            ):
                continue
            state, fresh = apply_interaction(
                lookups.state(interaction.user_id),
                interaction,
                lookups.category(interaction.item_id),
                history_size=settings.history_size,
                dedupe_size=settings.dedupe_window,
                consumed_cap=settings.consumed_cap,
                dislike_rating=settings.dislike_rating,
            )
            if not fresh:
                DUPLICATES_DROPPED.inc()
                continue
            lookups.update(interaction.user_id, state)
            applied[interaction.type] += 1
            signals.add(event_signal(interaction))
            outbox.tally(interaction)
        await signals.send(
            kafka_producer(self.worker.app), self.worker.topics.item_signals.get_topic_name()
        )
        lookups.write()
        self.tallies.outcomes(outbox.conversions)
        await outbox.send()
        for event_type, count in applied.items():
            EVENTS_PROCESSED.labels(topics.EVENTS, event_type).inc(count)
        return applied.total()

    def apply_command(self, command: UserCommand) -> None:
        """Record a consent change; an opt-out or erase deletes the user's state (tombstones)."""
        app, partition = self.worker.app, self.partition(command.user_id)
        consent = TableBatch(self.tables.user_consent)
        consent.put(
            command.user_id,
            apply_command(self.consent(command.user_id), command).to_json(),
            partition,
        )
        consent.flush(kafka_producer(app))
        if command.command in {"opt_out", "erase"}:
            state = TableBatch(self.tables.user_state)
            state.put(command.user_id, None, partition)
            state.flush(kafka_producer(app))
            self.states.forget(command.user_id)
            self.tallies.forget(command.user_id)
        self.invalidator.user_changed(command.user_id)


class Outbox:
    """What a batch does besides its user writes: dead letters and misrouted events to send,
    clicks and conversions to tally, once the fold is done so the fold never yields."""

    def __init__(self, actors: UserActors) -> None:
        self.actors = actors
        self.rejected: list[tuple[EventT[Any], str]] = []
        self.misrouted: list[tuple[str, Any]] = []
        self.conversions: list[Event] = []

    def decode(self, event: EventT[Any]) -> Event | None:
        """The event's interaction; None (and queued to go elsewhere) when invalid or misrouted."""
        try:
            interaction = parse_event(decode_json(event.value), self.actors.limits)
        except (ValueError, InvalidRecord) as error:
            self.rejected.append((event, str(error)))
            return None
        owner = self.actors.partition(interaction.user_id)
        if event.key != interaction.user_id or event.message.partition != owner:
            # Keyed or partitioned wrongly by its producer: send it to the partition of the user.
            self.misrouted.append((interaction.user_id, event.value))
            return None
        return interaction

    def tally(self, interaction: Event) -> None:
        """Queue a click or conversion that came from a served page for its experiments."""
        context = interaction.context
        if interaction.type in CREDITED_TYPES and context and context.get("request_id"):
            self.conversions.append(interaction)

    async def send(self) -> None:
        """Send what the batch queued."""
        worker_topics = self.actors.worker.topics
        for event, reason in self.rejected:
            await send_dead_letter(worker_topics.dead_letters, event, reason)
        for user_id, value in self.misrouted:
            await worker_topics.events.send(key=user_id, value=value)


class UserBatch:
    """Lookups made once per batch (user states, consents, item categories) and its writes."""

    def __init__(self, actors: UserActors) -> None:
        self.actors = actors
        self.states: dict[str, UserState | None] = {}
        self.changed: set[str] = set()
        self.consents: dict[str, ConsentState | None] = {}
        self.categories: dict[str, str | None] = {}
        self.writes = TableBatch(actors.tables.user_state)
        self.generation = actors.states.generation

    def state(self, user_id: str) -> UserState | None:
        """The user's state as this batch left it, else as last written, else as stored."""
        if user_id not in self.states:
            state = self.actors.states.get(user_id)
            if state is None:
                data = self.writes.get(user_id, self.actors.partition(user_id))
                state = UserState.from_json(data) if data else None
            self.states[user_id] = state
        return self.states[user_id]

    def update(self, user_id: str, state: UserState) -> None:
        """Keep the user's new state; it is written when the batch ends."""
        self.states[user_id] = state
        self.changed.add(user_id)

    def stores(self, user_id: str, timestamp: float) -> bool:
        """Whether the user's consent lets an event at `timestamp` be stored."""
        if user_id not in self.consents:
            self.consents[user_id] = self.actors.consent(user_id)
        return stores_events(self.consents[user_id], timestamp)

    def category(self, item_id: str) -> str | None:
        """The item's catalog category (None when unknown)."""
        if item_id not in self.categories:
            entry: Mapping[str, Any] | None = self.actors.catalog_reads.get(
                item_id, self.actors.partition(item_id)
            )
            self.categories[item_id] = (entry.get("category") or None) if entry else None
        return self.categories[item_id]

    def write(self) -> None:
        """Write every changed user state once: RocksDB now, its changelog in the background."""
        actors = self.actors
        now, lags = time.time(), []
        for user_id in self.changed:
            state = self.states[user_id]
            assert state is not None
            self.writes.put(user_id, state.to_json(), actors.partition(user_id))
            actors.states.keep(user_id, state, self.generation)
            if state.last_seen is not None:
                lags.append(max(now - state.last_seen, 0.0))
        self.writes.flush(kafka_producer(actors.worker.app))
        observe_all(APPLY_LAG, lags)


def install(worker: Worker, tallies: Tallies, invalidator: Invalidator) -> UserActors:
    """Register `track_user_activity` and `apply_user_commands` on the worker's app."""
    actors = UserActors(worker, tallies, invalidator)

    @worker.app.agent(worker.topics.events)
    async def track_user_activity(stream: Any) -> None:
        """Drop replayed events, fold the rest into the user's state, forward them keyed by
        item."""
        async for batch in take_batches(stream, BATCH_SIZE, BatchWindow()):
            async with actors.lock:
                await apply_batch("users", actors.states, actors.apply_user_batch, batch)

    @worker.app.agent(worker.topics.users)
    async def apply_user_commands(stream: Any) -> None:
        """Consent changes and erasure: an opt-out or erase deletes the user's state
        (tombstones)."""
        async for event in stream.events():
            try:
                command = parse_user_command(decode_json(event.value))
                check_key(event.key, command.user_id, "user_id")
            except (ValueError, InvalidRecord) as error:
                await send_dead_letter(worker.topics.dead_letters, event, str(error))
                continue
            async with actors.lock:
                actors.apply_command(command)
            EVENTS_PROCESSED.labels(topics.USERS, command.command).inc()

    return actors
