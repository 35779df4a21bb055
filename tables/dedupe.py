"""A bounded window of recently applied event ids, cheap to load, check and store.

The ids live in one string, each followed by a space, oldest first: loading and storing it
copy nothing, a membership test is one substring search, and no per-id objects are built on the
hot path. Ids holding a space or a backslash are escaped injectively, so no two ids share a
token and a token never spans two ids.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = " "


def token(event_id: str) -> str:
    """The id as stored: spaces and backslashes escaped."""
    if SEPARATOR in event_id or "\\" in event_id:
        return event_id.replace("\\", "\\\\").replace(SEPARATOR, "\\_")
    return event_id


@dataclass(slots=True)
class RecentIds:
    """The last `count` ids: `text` is SEPARATOR, then each token followed by SEPARATOR."""

    text: str = SEPARATOR
    count: int = 0

    def __contains__(self, event_id: str) -> bool:
        return f"{SEPARATOR}{token(event_id)}{SEPARATOR}" in self.text

    def remember(self, event_id: str, limit: int) -> None:
        """Add an id, forgetting the oldest beyond `limit` (mutates)."""
        text = self.text
        count = self.count + 1
        cut = 0
        while count > limit:
            cut = text.index(SEPARATOR, cut + 1)
            count -= 1
        self.text = f"{text[cut:]}{token(event_id)}{SEPARATOR}"
        self.count = count

    def ids(self) -> list[str]:
        """The remembered ids as stored (escaped), oldest first."""
        return [stored for stored in self.text.split(SEPARATOR) if stored]
