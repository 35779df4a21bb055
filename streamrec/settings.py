"""The one settings object, read from STREAMREC_* environment variables."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from streamrec.errors import ConfigError
from streamrec.interactions import CONSUMED_CAP, DISLIKE_RATING, TYPE_BITS

PREFIX = "STREAMREC_"
BROKER_FIXES = ("true_highwaters", "fast_fetch", "commit_before_revoke", "direct_delivery")


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"on", "true", "1", "yes"}:
        return True
    if value in {"off", "false", "0", "no", ""}:
        return False
    raise ConfigError(f"{name}: must be on or off, got {raw!r}")


def _int(name: str, raw: str, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {value}")
    return value


def _auto_flag(name: str, raw: str) -> bool | None:
    if raw.strip().lower() in {"", "auto"}:
        return None
    return _flag(name, raw)


def _types(name: str, raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [part for part in names if part not in TYPE_BITS]
    if unknown:
        raise ConfigError(
            f"{name}: unknown interaction types {unknown}; use some of {', '.join(TYPE_BITS)}"
        )
    return names


def _broker(name: str, raw: str) -> str:
    if not raw.startswith("kafka://") or len(raw) <= len("kafka://"):
        raise ConfigError(f"{name}: must look like kafka://host:port[,host:port], got {raw!r}")
    for hostport in raw.removeprefix("kafka://").split(","):
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{name}: {hostport!r} is not host:port")
    return raw


@dataclass(frozen=True)
class Settings:
    """Every knob of streamrec; environment names are STREAMREC_ + the field name upper-cased."""

    broker: str = "kafka://127.0.0.1:9092"
    data_dir: Path = Path("./var")
    registry: Path = Path("./var/registry")
    redis_url: str = "redis://127.0.0.1:6379/0"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    advertised_url: str = ""
    partitions: int = 8
    replication: int = 1
    auth: bool = False
    jwt_secret: str = ""
    app_id: str = "streamrec"
    fetch_wait_ms: int = 30
    producer_linger_ms: int = 5
    session_timeout_s: float = 10.0
    history_size: int = 50
    dedupe_window: int = 256
    state_cache_size: int = 20_000
    rocksdb_write_buffer_mb: int = 16
    rocksdb_block_cache_mb: int = 16
    cache_ttl_s: float = 30.0
    content_refresh_s: float = 30.0
    rate_limit_burst: int = 200
    rate_limit_per_s: float = 100.0
    exploration_slots: int = 2
    rebuy: bool | None = None
    """Whether bought items may come back; None (unset or "auto") follows the model's policy."""
    consumed_types: tuple[str, ...] = ()
    """Interaction types that consume an item; empty follows the model's policy."""
    consumed_cap: int = CONSUMED_CAP
    dislike_rating: float = DISLIKE_RATING
    log_level: str = "info"
    broker_fixes: str = "all"

    @property
    def bootstrap_servers(self) -> list[str]:
        """The broker URL as aiokafka bootstrap servers."""
        return self.broker.removeprefix("kafka://").split(",")

    @property
    def broker_fix_names(self) -> tuple[str, ...]:
        """Workarounds to apply: "all", "none" or a comma-separated list of fix names."""
        if self.broker_fixes == "all":
            return BROKER_FIXES
        if self.broker_fixes in {"none", ""}:
            return ()
        return tuple(name.strip() for name in self.broker_fixes.split(","))

    @property
    def public_url(self) -> str:
        """The URL other workers use to reach this one's API (forwarding)."""
        if self.advertised_url:
            return self.advertised_url.rstrip("/")
        host = socket.gethostname() if self.api_host in {"0.0.0.0", "::"} else self.api_host
        return f"http://{host}:{self.api_port}"

    @property
    def redis_enabled(self) -> bool:
        """Whether a Redis URL is configured (empty disables the cache)."""
        return bool(self.redis_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from the environment, failing fast with the variable's name."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in fields(cls):
            name = PREFIX + field.name.upper()
            if name in env:
                values[field.name] = _parse(field.name, name, env[name])
        settings = cls(**values)  # type: ignore[arg-type]
        unknown = set(settings.broker_fix_names) - set(BROKER_FIXES)
        if unknown:
            raise ConfigError(
                f"STREAMREC_BROKER_FIXES: unknown {sorted(unknown)}; "
                f"use all, none or some of {', '.join(BROKER_FIXES)}"
            )
        if settings.auth and not settings.jwt_secret:
            raise ConfigError("STREAMREC_JWT_SECRET: required when STREAMREC_AUTH=on")
        return settings


def _parse(attr: str, name: str, raw: str) -> object:
    if attr == "broker":
        return _broker(name, raw)
    if attr in {"data_dir", "registry"}:
        if not raw:
            raise ConfigError(f"{name}: must be a directory path, got an empty value")
        return Path(raw)
    if attr == "auth":
        return _flag(name, raw)
    if attr == "rebuy":
        return _auto_flag(name, raw)
    if attr == "consumed_types":
        return _types(name, raw)
    if attr in {
        "api_port",
        "partitions",
        "replication",
        "fetch_wait_ms",
        "history_size",
        "dedupe_window",
        "producer_linger_ms",
        "rate_limit_burst",
        "rocksdb_write_buffer_mb",
        "rocksdb_block_cache_mb",
        "consumed_cap",
    }:
        return _int(name, raw, minimum=1 if attr != "fetch_wait_ms" else 0)
    if attr in {"exploration_slots", "state_cache_size"}:
        return _int(name, raw)
    float_settings = {
        "cache_ttl_s",
        "session_timeout_s",
        "rate_limit_per_s",
        "content_refresh_s",
        "dislike_rating",
    }
    if attr in float_settings:
        return _float(name, raw)
    return raw


ENV_NAMES: tuple[str, ...] = tuple(PREFIX + f.name.upper() for f in fields(Settings))
