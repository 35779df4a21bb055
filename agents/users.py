"""Per-user actors: `track_user_activity` (the dedupe gate) and `apply_user_commands`."""

from __future__ import annotations

import json
import time
from typing import Any

from faust.types import EventT

from agents.app import (
    app,
    events_topic,
    item_signals_topic,
    settings,
    tables,
    tally_updates_topic,
    users_topic,
)
from agents.context import write
from agents.dead_letters import decode_json, send_dead_letter
from agents.metrics import APPLY_LAG, DUPLICATES_DROPPED, EVENTS_PROCESSED
from schemas.records import Interaction
from schemas.validate import parse_interaction, parse_user_command
from streamrec.errors import InvalidRecord
from tables.consent import ConsentState, apply_command, stores_events
from tables.experiments import CONVERSION_TYPES
from tables.user import UserState, apply_interaction

BATCH_SIZE = 1000
BATCH_WITHIN_S = 0.005
TALLIED_TYPES = CONVERSION_TYPES | {"click"}


def event_signal(event: Interaction) -> bytes:
    """The item-keyed copy of an applied event."""
    return json.dumps(
        {
            "kind": "event",
            "type": event.type,
            "timestamp": event.timestamp,
            "event_id": event.event_id,
            "user_id": event.user_id,
            "item_id": event.item_id,
        },
        separators=(",", ":"),
    ).encode()


def _category(item_id: str) -> str | None:
    entry = tables.catalog.get(item_id)
    return entry.get("category") or None if entry else None


def _consent(user_id: str) -> ConsentState | None:
    data = tables.user_consent.get(user_id)
    return ConsentState.from_json(data) if data else None


async def _decode(event: EventT) -> Interaction | None:
    try:
        interaction = parse_interaction(decode_json(event.value))
    except (ValueError, InvalidRecord) as error:
        await send_dead_letter(event, str(error))
        return None
    if event.key != interaction.user_id:
        # Keyed wrongly by its producer: send it to the partition that owns the user.
        await events_topic.send(key=interaction.user_id, value=event.value)
        return None
    return interaction


async def _tally_conversion(interaction: Interaction) -> None:
    context = interaction.context or {}
    if interaction.type not in TALLIED_TYPES or not context.get("request_id"):
        return
    for experiment_id, variant in (tables.user_experiments.get(interaction.user_id) or {}).items():
        payload = {"kind": interaction.type, "n_items": 0, "new_user": False}
        await tally_updates_topic.send(
            key=f"{experiment_id}|{variant}", value=json.dumps(payload).encode()
        )


async def apply_user_batch(batch: list[EventT]) -> int:
    """Fold a batch into user states (each user written once); return the events applied."""
    pending: dict[str, tuple[UserState, EventT]] = {}
    applied = 0
    for event in batch:
        interaction = await _decode(event)
        if interaction is None:
            continue
        user_id = interaction.user_id
        if not stores_events(_consent(user_id), interaction.timestamp):
            continue
        state = pending[user_id][0] if user_id in pending else _load_user(user_id)
        state, fresh = apply_interaction(
            state,
            interaction,
            _category(interaction.item_id),
            history_size=settings.history_size,
            dedupe_size=settings.dedupe_window,
        )
        if not fresh:
            DUPLICATES_DROPPED.inc()
            continue
        pending[user_id] = (state, event)
        applied += 1
        EVENTS_PROCESSED.labels("events", interaction.type).inc()
        await item_signals_topic.send(key=interaction.item_id, value=event_signal(interaction))
        await _tally_conversion(interaction)
    now = time.time()
    for user_id, (state, event) in pending.items():
        write(tables.user_state, user_id, state.to_json(), event)
        if state.last_seen is not None:
            APPLY_LAG.observe(max(now - state.last_seen, 0.0))
    return applied


def _load_user(user_id: str) -> UserState | None:
    data = tables.user_state.get(user_id)
    return UserState.from_json(data) if data else None


@app.agent(events_topic)
async def track_user_activity(stream: Any) -> None:
    """Drop replayed events, fold the rest into the user's state, forward them keyed by item."""
    async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
        await apply_user_batch(list(batch))


@app.agent(users_topic)
async def apply_user_commands(stream: Any) -> None:
    """Consent changes and erasure: an opt-out or erase deletes the user's state (tombstones)."""
    async for event in stream.events():
        try:
            command = parse_user_command(decode_json(event.value))
        except (ValueError, InvalidRecord) as error:
            await send_dead_letter(event, str(error))
            continue
        consent = apply_command(_consent(command.user_id), command)
        write(tables.user_consent, command.user_id, consent.to_json(), event)
        if command.command in {"opt_out", "erase"}:
            write(tables.user_state, command.user_id, None, event)
            write(tables.user_experiments, command.user_id, None, event)
        EVENTS_PROCESSED.labels("users", command.command).inc()
