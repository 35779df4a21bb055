"""The one settings object, read from STREAMREC_* environment variables."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from streamrec.errors import ConfigError
from streamrec.interactions import CONSUMED_CAP, DEDUPE_WINDOW, DISLIKE_RATING, HISTORY_SIZE
from streamrec.settings_parse import parse

PREFIX = "STREAMREC_"
BROKER_FIXES = (
    "true_highwaters",
    "fast_fetch",
    "commit_before_revoke",
    "direct_delivery",
    "keep_recovered_deliveries",
)


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
    """How long the broker may hold a worker's fetch (the embedded broker holds half of it)."""
    idle_fetch_interval_ms: int = 1000
    """Longest rest between an idle worker's fetches: records published by other processes
    (other workers, external producers) may take this much longer to reach an idle worker;
    anything this worker publishes ends the rest at once."""
    idle_after_s: float = 5.0
    """Seconds without records fetched or published before a worker's fetches rest."""
    producer_linger_ms: int = 5
    session_timeout_s: float = 10.0
    history_size: int = HISTORY_SIZE
    dedupe_window: int = DEDUPE_WINDOW
    state_cache_size: int = 20_000
    rocksdb_write_buffer_mb: int = 16
    rocksdb_block_cache_mb: int = 16
    cache_ttl_s: float = 30.0
    content_refresh_s: float = 30.0
    rate_limit_burst: int = 200
    rate_limit_per_s: float = 100.0
    exploration_slots: int = 2
    item_summaries: bool = True
    """Whether item owners publish summaries every worker serves item signals from; off, a
    worker serves the signals of its own partitions only (complete with one worker)."""
    pools_max_age_s: float = 10.0
    """How old the trending, unexposed and per-category pools may get before a new sweep."""
    max_category_share: float = 0.5
    """Largest share of a page one category may take (1 turns the diversity rule off)."""
    rebuy: bool | None = None
    """Whether bought items may come back; None (unset or "auto") follows the model's policy."""
    consumed_types: tuple[str, ...] = ()
    """Interaction types that consume an item; empty follows the model's policy."""
    consumed_cap: int = CONSUMED_CAP
    dislike_rating: float = DISLIKE_RATING
    log_level: str = "info"
    broker_fixes: str = "all"
    jwt_secrets: tuple[str, ...] = ()
    """Secrets accepted at once (rotation); the first signs new tokens, before jwt_secret."""
    jwt_max_ttl_s: float = 86_400.0
    jwt_issuer: str = ""
    jwt_audience: str = ""
    forward_secret: str = ""
    """Shared by the workers: signs requests forwarded to a user's owner (HMAC-SHA256)."""
    forward_max_age_s: float = 30.0
    trusted_proxies: tuple[str, ...] = ()
    """Networks whose X-Forwarded-For is believed (the rate-limit identity without a token)."""
    tls_certfile: str = ""
    tls_keyfile: str = ""
    tls_ca_file: str = ""
    rating_min: float = 0.5
    rating_max: float = 5.0
    max_future_s: float = 86_400.0
    body_timeout_s: float = 10.0
    header_timeout_s: float = 10.0
    redis_connect_timeout_s: float = 0.25
    redis_timeout_s: float = 0.25
    redis_backoff_s: float = 15.0

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
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.api_port}"

    @property
    def tls(self) -> bool:
        """Whether the worker serves HTTPS (a certificate and key are configured)."""
        return bool(self.tls_certfile)

    @property
    def jwt_keys(self) -> tuple[str, ...]:
        """Every secret a token may be signed with; the first signs new tokens."""
        keys = (*self.jwt_secrets, self.jwt_secret) if self.jwt_secret else self.jwt_secrets
        return tuple(dict.fromkeys(keys))

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
                values[field.name] = parse(field.name, name, env[name])
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that contradict each other, naming a variable."""
        unknown = set(self.broker_fix_names) - set(BROKER_FIXES)
        if unknown:
            raise ConfigError(
                f"STREAMREC_BROKER_FIXES: unknown {sorted(unknown)}; "
                f"use all, none or some of {', '.join(BROKER_FIXES)}"
            )
        if self.auth and not self.jwt_keys:
            raise ConfigError(
                "STREAMREC_JWT_SECRET: required when STREAMREC_AUTH=on "
                "(or STREAMREC_JWT_SECRETS, comma-separated)"
            )
        if self.auth and not self.forward_secret:
            raise ConfigError(
                "STREAMREC_FORWARD_SECRET: required when STREAMREC_AUTH=on "
                "(workers sign the requests they forward with it)"
            )
        if bool(self.tls_certfile) != bool(self.tls_keyfile):
            raise ConfigError("STREAMREC_TLS_KEYFILE: give both a certificate and its key, or none")
        if not 0.0 < self.max_category_share <= 1.0:
            raise ConfigError("STREAMREC_MAX_CATEGORY_SHARE: must be in (0, 1]")
        if self.rating_min >= self.rating_max:
            raise ConfigError(
                f"STREAMREC_RATING_MAX: must exceed STREAMREC_RATING_MIN ({self.rating_min})"
            )


ENV_NAMES: tuple[str, ...] = tuple(PREFIX + f.name.upper() for f in fields(Settings))
