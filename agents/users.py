"""Per-user actors: `track_user_activity` (the dedupe gate) and `apply_user_commands`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from faust.types import EventT

from agents.app import Worker
from agents.dead_letters import decode_json, emit_dead_letter, send_dead_letter
from agents.feeds import CatalogFeed
from agents.invalidation import Invalidator
from agents.keys import check_key
from agents.runtime.batching import BatchWindow, take_batches
from agents.runtime.context import SignalBatch, partition_for
from agents.runtime.metrics import APPLY_LAG, DUPLICATES_DROPPED, EVENTS_PROCESSED, observe_all
from agents.runtime.state_cache import StateCache, apply_batch, clear_on_rebalance
from agents.runtime.tables import USER_CONSENT, USER_STATE
from agents.runtime.transaction import Runtime, Transaction
from agents.tallies import Tallies
from schemas.records import UserCommand
from schemas.times import InputLimits
from schemas.validate import ValidEvent as Event
from schemas.validate import parse_user_command
from schemas.validate import validate_interaction as parse_event
from streamrec import topics
from streamrec.errors import InvalidRecord
from streamrec.settings import Settings
from tables.consent import ConsentState, apply_command, stores_events
from tables.experiments import CREDITED_TYPES
from tables.user import UserState, apply_interaction

BATCH_SIZE = 1000
CatalogRow = Callable[[str], Mapping[str, Any] | None]
"""An item's catalog row (None: unknown), whichever worker owns the item."""


def event_signal(event: Event) -> list[Any]:
    """The item-keyed signal row of an applied event: [item_id, event_id, type, timestamp, 1]."""
    return [event.item_id, event.event_id, event.type, event.timestamp, 1]


class UserActors:
    """What the user actors share on one worker: its tables, decoded states and the lock."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        tallies: Tallies,
        invalidator: Invalidator,
        catalog: CatalogRow,
    ) -> None:
        self.invalidator = invalidator
        self.settings, self.runtime = settings, runtime
        self.tallies = tallies
        self.catalog = catalog
        """Every catalog row, whichever worker owns the item (categories for affinity)."""
        self.limits = InputLimits(settings.rating_min, settings.rating_max, settings.max_future_s)
        """Ratings outside the configured scale are dead-lettered (times are not: the log is
        history)."""
        self.lock = tallies.lock
        """Held while a batch or a command reads and writes user tables, so an erase is never
        undone; the impression actor holds it too (both change the tallies)."""
        self.states = StateCache[UserState](settings.state_cache_size)

    def partition(self, key: str) -> int:
        """The partition of a user or item key."""
        return partition_for(key, self.settings.partitions)

    def consent(self, user_id: str) -> ConsentState | None:
        """The user's stored consent (None when never changed)."""
        data = self.runtime.read(USER_CONSENT, user_id, self.partition(user_id))
        return ConsentState.from_json(data) if data else None

    async def apply_user_batch(self, batch: list[EventT[Any]]) -> int:
        """Fold a batch into user states (each user written once); return the events applied."""
        settings, transaction = self.settings, self.runtime.transaction()
        lookups, signals, applied = (
            UserBatch(self, transaction),
            SignalBatch(settings.partitions),
            Counter[str](),
        )
        outbox = Outbox(self, transaction)
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
        lookups.write()
        self.tallies.outcomes(transaction, outbox.conversions)
        signals.emit(transaction, topics.ITEM_SIGNALS)
        await transaction.commit()
        lookups.keep()
        for event_type, count in applied.items():
            EVENTS_PROCESSED.labels(topics.EVENTS, event_type).inc(count)
        return applied.total()

    async def apply_command(self, command: UserCommand) -> None:
        """Record a consent change; an opt-out or erase deletes the user's state (tombstones)."""
        user_id, partition = command.user_id, self.partition(command.user_id)
        transaction = self.runtime.transaction()
        consent = apply_command(self.consent(user_id), command)
        transaction.put(USER_CONSENT, user_id, consent.to_json(), partition)
        if command.command in {"opt_out", "erase"}:
            transaction.delete(USER_STATE, user_id, partition)
            self.tallies.forget(transaction, user_id)
            self.states.forget(user_id)
        await transaction.commit()
        self.invalidator.user_changed(user_id)


class Outbox:
    """What a batch does besides its user writes: dead letters and misrouted events to emit,
    clicks and conversions to tally."""

    def __init__(self, actors: UserActors, transaction: Transaction) -> None:
        self.actors, self.transaction = actors, transaction
        self.conversions: list[Event] = []

    def decode(self, event: EventT[Any]) -> Event | None:
        """The event's interaction; None (and queued to go elsewhere) when invalid or misrouted."""
        try:
            interaction = parse_event(decode_json(event.value), self.actors.limits)
        except (ValueError, InvalidRecord) as error:
            emit_dead_letter(self.transaction, event, str(error))
            return None
        owner = self.actors.partition(interaction.user_id)
        if event.key != interaction.user_id or event.message.partition != owner:
            # Keyed or partitioned wrongly by its producer: send it to the partition of the user.
            self.transaction.emit(topics.EVENTS, interaction.user_id, event.value, owner)
            return None
        return interaction

    def tally(self, interaction: Event) -> None:
        """Queue a click or conversion that came from a served page for its experiments."""
        context = interaction.context
        if interaction.type in CREDITED_TYPES and context and context.get("request_id"):
            self.conversions.append(interaction)


class UserBatch:
    """Lookups made once per batch (user states, consents, item categories) and its writes."""

    def __init__(self, actors: UserActors, transaction: Transaction) -> None:
        self.actors, self.transaction = actors, transaction
        self.states: dict[str, UserState | None] = {}
        self.changed: set[str] = set()
        self.consents: dict[str, ConsentState | None] = {}
        self.categories: dict[str, str | None] = {}
        self.generation = actors.states.generation

    def state(self, user_id: str) -> UserState | None:
        """The user's state as this batch left it, else as last written, else as stored."""
        if user_id not in self.states:
            state = self.actors.states.get(user_id)
            if state is None:
                data = self.transaction.get(USER_STATE, user_id, self.actors.partition(user_id))
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
            entry = self.actors.catalog(item_id)
            self.categories[item_id] = (entry.get("category") or None) if entry else None
        return self.categories[item_id]

    def write(self) -> None:
        """Put every changed user state once in the transaction."""
        actors = self.actors
        for user_id in self.changed:
            state = self.states[user_id]
            assert state is not None
            self.transaction.put(USER_STATE, user_id, state.to_json(), actors.partition(user_id))

    def keep(self) -> None:
        """Once committed, cache the decoded states and observe how far behind they were."""
        actors = self.actors
        now, lags = time.time(), []
        for user_id in self.changed:
            state = self.states[user_id]
            assert state is not None
            actors.states.keep(user_id, state, self.generation)
            if state.last_seen is not None:
                lags.append(max(now - state.last_seen, 0.0))
        observe_all(APPLY_LAG, lags)


def install(
    worker: Worker, tallies: Tallies, invalidator: Invalidator, catalog: CatalogFeed
) -> UserActors:
    """Register `track_user_activity` and `apply_user_commands` on the worker's app."""
    actors = UserActors(worker.settings, worker.runtime, tallies, invalidator, catalog.entry)
    clear_on_rebalance(worker.app, actors.states)

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
                await send_dead_letter(worker.runtime, event, str(error))
                continue
            async with actors.lock:
                await actors.apply_command(command)
            EVENTS_PROCESSED.labels(topics.USERS, command.command).inc()

    return actors
