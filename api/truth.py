"""What a cached page depends on besides the user's state version, kept in Redis.

A page is cached under the catalog epoch and the user's generation. Every item change bumps the
epoch twice: when the API accepts it and when each worker's catalog applies it; every consent
change or erasure bumps the user's generation the same way and records the latest command, so
the next page honours it even before the user's actor has folded it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from api.redis_guard import RedisGuard
from models.types import UserView
from streamrec import topics
from streamrec.errors import RedisUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

CATALOG_EPOCH = "streamrec:catalog-epoch"
USER_MARK_TTL_S = 86_400
"""How long a user's generation and last command are kept (far beyond any cached page)."""


def user_mark(user_id: str) -> str:
    """The Redis hash of a user's generation and latest consent or erase command."""
    return f"streamrec:user-truth:{user_id}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class Truth:
    """The catalog epoch, the user's generation and the latest consent command accepted."""

    catalog_epoch: int = 0
    user_generation: int = 0
    command: str | None = None
    command_at: float = 0.0

    @property
    def tag(self) -> str:
        """The part of a cache key these make: `c{epoch}.u{generation}`."""
        return f"c{self.catalog_epoch}.u{self.user_generation}"

    def overlay(self, user: UserView) -> UserView:
        """`user` as the latest command leaves it: an erased user's earlier state is ignored,
        an opted-out user is not personalised."""
        latest = max((h.timestamp for h in user.history), default=0.0)
        if self.command == "erase" and latest <= self.command_at:
            return UserView(user.user_id, opted_out=user.opted_out)
        if self.command == "opt_out" and not user.opted_out:
            return UserView(user.user_id, opted_out=True)
        return user

    @classmethod
    def parse(cls, epoch: Any, mark: Mapping[Any, Any]) -> Truth:
        """From the raw epoch and user hash Redis returned."""
        fields = {_text(k): _text(v) for k, v in mark.items()}
        return cls(
            catalog_epoch=int(_text(epoch) or 0),
            user_generation=int(fields.get("gen") or 0),
            command=fields.get("command"),
            command_at=float(fields.get("at") or 0.0),
        )


class TruthMarks:
    """Reads and bumps the epoch and user generations; a Redis failure reads as None."""

    def __init__(self, guard: RedisGuard) -> None:
        self._guard = guard

    async def read(self, user_id: str) -> Truth | None:
        """The current marks for a page of `user_id`; None when Redis cannot answer."""
        if not self._guard.configured:
            return None

        async def both(redis: Redis) -> list[Any]:
            pipe = redis.pipeline(transaction=False)
            pipe.get(CATALOG_EPOCH)
            pipe.hgetall(user_mark(user_id))
            return list(await pipe.execute())

        try:
            epoch, mark = await self._guard.run("cache", both)
        except RedisUnavailable:
            return None
        return Truth.parse(epoch, mark or {})

    async def published(self, topic: str, key: str | None, value: bytes | None) -> None:
        """Bump what a record the API just published changes (items: the epoch; users: the
        user's generation and latest command)."""
        if not self._guard.configured or key is None:
            return
        if topic == topics.ITEMS:
            await self._quietly(lambda redis: redis.incr(CATALOG_EPOCH))
        elif topic == topics.USERS and value is not None:
            command = orjson.loads(value)
            await self._quietly(
                lambda redis: bump_user(
                    redis, key, str(command["command"]), float(command["timestamp"])
                )
            )

    async def _quietly(self, operation: Any) -> None:
        with contextlib.suppress(RedisUnavailable):
            await self._guard.run("cache", operation)


async def bump_user(
    redis: Redis, user_id: str, command: str | None = None, at: float | None = None
) -> None:
    """Increment the user's generation, recording `command` at `at` when given."""
    pipe = redis.pipeline(transaction=True)
    key = user_mark(user_id)
    pipe.hincrby(key, "gen", 1)
    if command is not None and at is not None:
        pipe.hset(key, mapping={"command": command, "at": repr(at)})
    pipe.expire(key, USER_MARK_TTL_S)
    await pipe.execute()


async def bump_catalog(redis: Redis) -> None:
    """Increment the catalog epoch."""
    await redis.incr(CATALOG_EPOCH)
