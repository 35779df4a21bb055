"""Parsers of STREAMREC_* values; each failure is a ConfigError naming the variable."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from pathlib import Path

from streamrec.errors import ConfigError
from streamrec.interactions import TYPE_BITS


def flag(name: str, raw: str) -> bool:
    """on/off (also true/false, 1/0, yes/no; empty is off)."""
    value = raw.strip().lower()
    if value in {"on", "true", "1", "yes"}:
        return True
    if value in {"off", "false", "0", "no", ""}:
        return False
    raise ConfigError(f"{name}: must be on or off, got {raw!r}")


def integer(name: str, raw: str, minimum: int = 0) -> int:
    """An integer of at least `minimum`."""
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def number(name: str, raw: str) -> float:
    """Any finite number."""
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}: must be a finite number, got {raw!r}")
    return value


def positive(name: str, raw: str) -> float:
    """A number above zero."""
    value = number(name, raw)
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {value}")
    return value


def auto_flag(name: str, raw: str) -> bool | None:
    """on/off, or None for empty or "auto"."""
    if raw.strip().lower() in {"", "auto"}:
        return None
    return flag(name, raw)


def words(raw: str) -> tuple[str, ...]:
    """A comma-separated list, stripped, empty parts and repeats dropped."""
    return tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def types(name: str, raw: str) -> tuple[str, ...]:
    """A comma list of interaction types."""
    names = words(raw)
    unknown = [part for part in names if part not in TYPE_BITS]
    if unknown:
        raise ConfigError(
            f"{name}: unknown interaction types {unknown}; use some of {', '.join(TYPE_BITS)}"
        )
    return names


def networks(name: str, raw: str) -> tuple[str, ...]:
    """A comma list of CIDRs (or single addresses), normalised."""
    parsed = []
    for part in words(raw):
        try:
            parsed.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(f"{name}: {part!r} is not an IP network such as 10.0.0.0/8") from None
    return tuple(parsed)


def broker(name: str, raw: str) -> str:
    """kafka://host:port[,host:port]."""
    if not raw.startswith("kafka://") or len(raw) <= len("kafka://"):
        raise ConfigError(f"{name}: must look like kafka://host:port[,host:port], got {raw!r}")
    for hostport in raw.removeprefix("kafka://").split(","):
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{name}: {hostport!r} is not host:port")
    return raw


def directory(name: str, raw: str) -> Path:
    """A non-empty path."""
    if not raw:
        raise ConfigError(f"{name}: must be a directory path, got an empty value")
    return Path(raw)


def existing_file(name: str, raw: str) -> str:
    """A path to a readable file, or empty."""
    if raw and not Path(raw).is_file():
        raise ConfigError(f"{name}: no such file {raw!r}")
    return raw


POSITIVE_INTS = frozenset(
    {
        "api_port",
        "partitions",
        "replication",
        "history_size",
        "dedupe_window",
        "producer_linger_ms",
        "rate_limit_burst",
        "rocksdb_write_buffer_mb",
        "rocksdb_block_cache_mb",
        "consumed_cap",
    }
)
NATURAL_INTS = frozenset(
    {"fetch_wait_ms", "idle_fetch_interval_ms", "exploration_slots", "state_cache_size"}
)
POSITIVE_FLOATS = frozenset(
    {
        "cache_ttl_s",
        "session_timeout_s",
        "rate_limit_per_s",
        "content_refresh_s",
        "pools_max_age_s",
        "dislike_rating",
        "jwt_max_ttl_s",
        "forward_max_age_s",
        "max_future_s",
        "body_timeout_s",
        "header_timeout_s",
        "redis_connect_timeout_s",
        "redis_timeout_s",
        "redis_backoff_s",
        "idle_after_s",
        "max_category_share",
    }
)
PARSERS: dict[str, Callable[[str, str], object]] = {
    "broker": broker,
    "data_dir": directory,
    "registry": directory,
    "auth": flag,
    "item_summaries": flag,
    "rebuy": auto_flag,
    "consumed_types": types,
    "jwt_secrets": lambda _name, raw: words(raw),
    "trusted_proxies": networks,
    "tls_certfile": existing_file,
    "tls_keyfile": existing_file,
    "tls_ca_file": existing_file,
    "rating_min": number,
    "rating_max": number,
}


def parse(attr: str, name: str, raw: str) -> object:
    """The typed value of setting `attr` from its environment text."""
    if attr in PARSERS:
        return PARSERS[attr](name, raw)
    if attr in POSITIVE_INTS:
        return integer(name, raw, minimum=1)
    if attr in NATURAL_INTS:
        return integer(name, raw)
    if attr in POSITIVE_FLOATS:
        return positive(name, raw)
    return raw
