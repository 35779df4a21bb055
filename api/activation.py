"""Publishing a model activation: the one path of `POST /v1/models/{v}/activate` and of an
experiment's promotion. The record carries the default ranking overrides, so they live in the
log with the version and every worker applies both together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from api.state import ApiState
from models.activation_chain import activation, write_mirror
from schemas.records import ModelActivated
from streamrec import topics
from streamrec.errors import InvalidRecord, NotFound, RecsysError

POLL_S = 0.02


async def publish_activation(
    api: ApiState,
    version: str,
    config: Mapping[str, float] | None = None,
    promoted_from: str | None = None,
) -> dict[str, Any]:
    """Publish ModelActivated for `version` with the default overrides `config` (None keeps
    the current ones); every worker loads the version and swaps to it."""
    holder = api.deps.models
    if version not in holder.versions():
        raise NotFound(f"model version {version!r} is not in the registry")
    try:
        await asyncio.to_thread(holder.verify, version)
    except RecsysError as error:
        raise InvalidRecord("version", f"{version!r} fails verification: {error.message}") from None
    current = holder.current()
    defaults = dict(current.config if config is None else config)
    last = holder.record
    if last is None or last.version != current.version:
        last = ModelActivated(version=current.version, activated_at=0.0, previous=holder.previous)
    record = activation(
        version,
        last if holder.loaded else None,
        api.deps.clock(),
        defaults or None,
        promoted_from,
    )
    await api.publish(topics.MODEL_UPDATES, topics.MODEL_UPDATES_KEY, record.dumps())
    write_mirror(api.deps.settings.registry, record)
    return {
        "version": version,
        "previous": record.previous,
        "history": list(record.history or []),
        "config": defaults,
    }


async def wait_active(api: ApiState, version: str, config: Mapping[str, Any]) -> bool:
    """Whether this worker serves `version` with default overrides `config` within
    `activation_wait_s` (an API without a worker following `model-updates` waits 0 s)."""
    deadline = time.monotonic() + api.deps.activation_wait_s
    while True:
        active = api.deps.models.current()
        if active.version == version and dict(active.config) == dict(config):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)
