"""Consent per user, folded from the compacted `users` topic.

An opted-out user's events are not stored. Erasure deletes the user's state from every table
(the agents write tombstones: no user state survives it); the consent entry keeps only
`erased_at`, so that a replay of the log cannot rebuild the erased state from older events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.records import USER_COMMANDS, UserCommand
from streamrec.errors import InvalidRecord


@dataclass(slots=True)
class ConsentState:
    """Whether the user opted out, when that last changed, and when they were last erased."""

    opted_out: bool = False
    updated_at: float = 0.0
    erased_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return {
            "opted_out": self.opted_out,
            "updated_at": self.updated_at,
            "erased_at": self.erased_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConsentState:
        """Inverse of `to_json`."""
        return cls(
            opted_out=data["opted_out"], updated_at=data["updated_at"], erased_at=data["erased_at"]
        )


def apply_command(state: ConsentState | None, command: UserCommand) -> ConsentState:
    """The consent after one command (a new object; `state` is not modified).

    A command older than the last change is ignored (the latest timestamp wins), so applying
    the same commands in any order gives the same consent.
    """
    if command.command not in USER_COMMANDS:
        raise InvalidRecord("command", f"must be one of {', '.join(USER_COMMANDS)}")
    current = ConsentState() if state is None else state
    if command.command == "erase":
        erased_at = max(command.timestamp, current.erased_at or command.timestamp)
        return ConsentState(current.opted_out, current.updated_at, erased_at)
    if state is not None and command.timestamp < current.updated_at:
        return current
    opted_out = command.command == "opt_out"
    if state is not None and command.timestamp == current.updated_at:
        opted_out = opted_out or current.opted_out
    return ConsentState(opted_out, command.timestamp, current.erased_at)


def stores_events(state: ConsentState | None, timestamp: float) -> bool:
    """Whether an event at `timestamp` may be stored: not opted out, not before an erasure."""
    if state is None:
        return True
    if state.opted_out:
        return False
    return state.erased_at is None or timestamp > state.erased_at
