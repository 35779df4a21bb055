"""Publishing a model activation: the one path of `POST /v1/models/{v}/activate` and of an
experiment's promotion. The record carries the default ranking overrides, so they live in the
log with the version and every worker applies both together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from api.state import ApiState
from schemas.records import ModelActivated
from streamrec import topics
from streamrec.errors import NotFound

POLL_S = 0.02


async def publish_activation(
    api: ApiState,
    version: str,
    config: Mapping[str, float] | None = None,
    promoted_from: str | None = None,
) -> dict[str, Any]:
    """Publish ModelActivated for `version` with the default overrides `config` (None keeps
    the current ones); every worker loads the version and swaps to it."""
    if version not in api.deps.models.versions():
        raise NotFound(f"model version {version!r} is not in the registry")
    current = api.deps.models.current()
    defaults = dict(current.config if config is None else config)
    record = ModelActivated(
        version=version,
        activated_at=api.deps.clock(),
        previous=current.version,
        config=defaults or None,
        promoted_from=promoted_from,
    )
    await api.publish(topics.MODEL_UPDATES, topics.MODEL_UPDATES_KEY, record.dumps())
    return {"version": version, "previous": current.version, "config": defaults}


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
