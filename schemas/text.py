"""Text every record may carry: no control characters, no lone UTF-16 surrogates."""

from __future__ import annotations

import re

from streamrec.errors import InvalidRecord

# C0 controls, DEL and the surrogate range (a lone surrogate cannot be encoded as UTF-8).
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"
_FORBIDDEN_IN_IDS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# Free text (titles, descriptions) may hold a tab.
_FORBIDDEN_IN_TEXT = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
TEXT_RULE = "must not contain control characters or lone UTF-16 surrogates"
PATH_IDS = frozenset({"user_id", "item_id"})
"""Ids that are URL path segments (`/v1/users/{user_id}`, `/v1/items/{item_id}`)."""
SLASH_RULE = "must not contain '/': it is a path segment of the HTTP API"


def check_clean(value: str, field: str, free_text: bool = False) -> str:
    """`value` unchanged, or InvalidRecord naming the field (a user or item id holding '/'
    could never be read, changed or erased through its path)."""
    if (_FORBIDDEN_IN_TEXT if free_text else _FORBIDDEN_IN_IDS).search(value) is not None:
        raise InvalidRecord(field, TEXT_RULE)
    if field in PATH_IDS and "/" in value:
        raise InvalidRecord(field, SLASH_RULE)
    return value


def printable(text: str) -> str:
    """`text` with characters that cannot be encoded as UTF-8 escaped (safe to echo back)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
