"""Record keys as text that never fails to decode: a key that is not UTF-8 keeps its bytes as
lone surrogates (`surrogateescape`), so it reaches the actor, which refuses it by name instead
of crashing on it (see `check_key`)."""

from __future__ import annotations

from typing import Any

from faust.serializers import codecs

from schemas.text import check_clean
from streamrec.errors import InvalidRecord

KEY_SERIALIZER = "streamrec_key"


class TolerantKey(codecs.Codec):
    """UTF-8 keys; undecodable bytes survive as lone surrogates instead of raising."""

    def _loads(self, s: bytes) -> Any:
        return s.decode("utf-8", "surrogateescape")

    def _dumps(self, s: Any) -> bytes:
        return s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)


codecs.register(KEY_SERIALIZER, TolerantKey())


def check_key(key: Any, record_id: str | None, field: str) -> str:
    """The key, unless it is not the record's `field` (`record_id`; None for a tombstone, whose
    key is the id): a compacted topic keeps the last record per key, and a partition holds the
    state of its own keys. InvalidRecord names the key otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidRecord("key", f"is required (the record's {field})")
    if key != record_id:
        try:
            check_clean(key, "key")
        except InvalidRecord:
            raise InvalidRecord("key", "must be UTF-8 text without control characters") from None
        if record_id is not None:
            raise InvalidRecord("key", f"must equal the record's {field} ({record_id!r})")
    return key
