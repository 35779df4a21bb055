"""The activation history shared by the CLI and the HTTP route: who came before, what a
rollback restores, and the registry's mirror of the latest activation."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from schemas.records import ModelActivated

HISTORY_LIMIT = 20
"""Earlier activated versions an activation record carries, newest last."""
ACTIVE_FILE = "ACTIVE"


def history_after(current: ModelActivated | None) -> list[str]:
    """The history a new activation records: the current one's history plus its version."""
    if current is None:
        return []
    earlier = list(current.history or ([current.previous] if current.previous else []))
    if not earlier or earlier[-1] != current.version:
        earlier.append(current.version)
    return earlier[-HISTORY_LIMIT:]


def activation(
    version: str,
    current: ModelActivated | None,
    at: float,
    config: dict[str, float] | None = None,
    promoted_from: str | None = None,
) -> ModelActivated:
    """The record activating a verified `version` after `current`."""
    return ModelActivated(
        version=version,
        activated_at=at,
        previous=None if current is None else current.version,
        config=config,
        promoted_from=promoted_from,
        history=history_after(current) or None,
    )


def rollback_target(current: ModelActivated | None, verifies: Callable[[str], bool]) -> str | None:
    """The newest version in the history, other than the active one, that still verifies."""
    if current is None:
        return None
    for version in reversed(current.history or ([current.previous] if current.previous else [])):
        if version != current.version and verifies(version):
            return version
    return None


def fallbacks(record: ModelActivated) -> Sequence[str]:
    """The versions to try, newest first, when the record's own version cannot load."""
    earlier = record.history or ([record.previous] if record.previous else [])
    return [v for v in reversed(earlier) if v != record.version]


def write_mirror(registry: Path, record: ModelActivated) -> None:
    """Write `ACTIVE` (version, time, previous, history) atomically when the registry exists."""
    if not registry.is_dir():
        return
    path = registry / ACTIVE_FILE
    staging = path.with_suffix(".tmp")
    body = {
        "version": record.version,
        "activated_at": record.activated_at,
        "previous": record.previous,
        "history": list(record.history or []),
    }
    staging.write_text(json.dumps(body))
    staging.replace(path)
