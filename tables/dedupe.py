"""A bounded window of recently applied event ids, cheap to load, check and store.

The ids live in one string, each followed by a space, oldest first: loading and storing it
copy nothing, a membership test is one substring search, and no per-id objects are built on the
hot path. Ids holding a space or a backslash are escaped injectively, so no two ids share a
token and a token never spans two ids.

To keep the window compact, an id whose escaped form is longer than SHORT_TOKEN characters
(a UUID, say) is stored as "~" and a 48-bit BLAKE2b digest in URL-safe base64: always
SHORT_TOKEN + 1 characters, so it can never equal a short id kept as is. Two distinct long ids
share a token with probability 2**-48; with a window of 256 ids a new event is mistaken for a
repeat about once in 10**12 events.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

SEPARATOR = " "
SHORT_TOKEN = 8
DIGEST_BYTES = 6


def token(event_id: str) -> str:
    """The id as stored: spaces and backslashes escaped, long ids replaced by a short digest."""
    if SEPARATOR in event_id or "\\" in event_id:
        event_id = event_id.replace("\\", "\\\\").replace(SEPARATOR, "\\_")
    if len(event_id) <= SHORT_TOKEN:
        return event_id
    digest = hashlib.blake2b(event_id.encode(), digest_size=DIGEST_BYTES).digest()
    return "~" + base64.urlsafe_b64encode(digest).decode()


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
        """The remembered ids as stored (escaped, long ones digested), oldest first."""
        return [stored for stored in self.text.split(SEPARATOR) if stored]
