"""The settings object: defaults, parsing, and failing fast with the variable's name."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from streamrec.errors import ConfigError
from streamrec.settings import ENV_NAMES, Settings


def test_defaults_match_the_documented_contract() -> None:
    settings = Settings.from_env({})
    assert settings.broker == "kafka://127.0.0.1:9092"
    assert settings.data_dir == Path("./var")
    assert settings.registry == Path("./var/registry")
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.api_host, settings.api_port, settings.partitions) == ("127.0.0.1", 8000, 8)
    assert settings.auth is False
    assert (settings.rocksdb_write_buffer_mb, settings.rocksdb_block_cache_mb) == (16, 16)


def test_values_are_read_from_streamrec_variables() -> None:
    settings = Settings.from_env(
        {
            "STREAMREC_BROKER": "kafka://a:1,b:2",
            "STREAMREC_PARTITIONS": "3",
            "STREAMREC_AUTH": "on",
            "STREAMREC_JWT_SECRET": "s",
            "STREAMREC_FORWARD_SECRET": "f",
            "STREAMREC_REDIS_URL": "",
            "STREAMREC_RATE_LIMIT_BURST": "50",
            "STREAMREC_RATE_LIMIT_PER_S": "12.5",
        }
    )
    assert settings.bootstrap_servers == ["a:1", "b:2"]
    assert settings.partitions == 3
    assert settings.auth and not settings.redis_enabled
    assert (settings.rate_limit_burst, settings.rate_limit_per_s) == (50, 12.5)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STREAMREC_BROKER": "localhost:9092"}, "STREAMREC_BROKER: must look like"),
        ({"STREAMREC_PARTITIONS": "many"}, "STREAMREC_PARTITIONS: must be an integer"),
        ({"STREAMREC_PARTITIONS": "0"}, "STREAMREC_PARTITIONS: must be at least 1"),
        ({"STREAMREC_AUTH": "maybe"}, "STREAMREC_AUTH: must be on or off"),
        ({"STREAMREC_AUTH": "on"}, "STREAMREC_JWT_SECRET: required when STREAMREC_AUTH=on"),
        (
            {"STREAMREC_AUTH": "on", "STREAMREC_JWT_SECRETS": "a,b"},
            "STREAMREC_FORWARD_SECRET: required when STREAMREC_AUTH=on",
        ),
        ({"STREAMREC_JWT_MAX_TTL_S": "0"}, "STREAMREC_JWT_MAX_TTL_S: must be positive"),
        (
            {"STREAMREC_TRUSTED_PROXIES": "10.0.0.0/8,proxy"},
            "STREAMREC_TRUSTED_PROXIES: 'proxy' is not an IP network",
        ),
        ({"STREAMREC_TLS_CERTFILE": "/nonexistent.pem"}, "STREAMREC_TLS_CERTFILE: no such file"),
        ({"STREAMREC_RATING_MIN": "5"}, "STREAMREC_RATING_MAX: must exceed STREAMREC_RATING_MIN"),
        ({"STREAMREC_RATING_MAX": "nan"}, "STREAMREC_RATING_MAX: must be a finite number"),
        ({"STREAMREC_REDIS_TIMEOUT_S": "-1"}, "STREAMREC_REDIS_TIMEOUT_S: must be positive"),
        ({"STREAMREC_BODY_TIMEOUT_S": "x"}, "STREAMREC_BODY_TIMEOUT_S: must be a number"),
        ({"STREAMREC_BROKER_FIXES": "magic"}, "STREAMREC_BROKER_FIXES: unknown ['magic']"),
        ({"STREAMREC_DATA_DIR": ""}, "STREAMREC_DATA_DIR: must be a directory path"),
        ({"STREAMREC_RATE_LIMIT_BURST": "0"}, "STREAMREC_RATE_LIMIT_BURST: must be at least 1"),
        ({"STREAMREC_RATE_LIMIT_PER_S": "0"}, "STREAMREC_RATE_LIMIT_PER_S: must be positive"),
        (
            {"STREAMREC_ROCKSDB_BLOCK_CACHE_MB": "0"},
            "STREAMREC_ROCKSDB_BLOCK_CACHE_MB: must be at least 1",
        ),
        ({"STREAMREC_REBUY": "sometimes"}, "STREAMREC_REBUY: must be on or off"),
        (
            {"STREAMREC_CONSUMED_TYPES": "rating,watch"},
            "STREAMREC_CONSUMED_TYPES: unknown interaction types ['watch']",
        ),
        ({"STREAMREC_CONSUMED_CAP": "0"}, "STREAMREC_CONSUMED_CAP: must be at least 1"),
        ({"STREAMREC_DISLIKE_RATING": "low"}, "STREAMREC_DISLIKE_RATING: must be a number"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as failed:
        Settings.from_env(env)
    assert failed.value.message.startswith(message)


def test_every_field_has_an_environment_name() -> None:
    assert "STREAMREC_BROKER" in ENV_NAMES and "STREAMREC_JWT_SECRET" in ENV_NAMES
    assert len(ENV_NAMES) == len(set(ENV_NAMES))


def test_the_advertised_url_defaults_to_the_api_address() -> None:
    assert Settings(api_port=8123).public_url == "http://127.0.0.1:8123"
    assert Settings(advertised_url="http://w1:8000/").public_url == "http://w1:8000"


def test_consumption_settings_default_to_following_the_model() -> None:
    settings = Settings.from_env({})

    assert settings.rebuy is None and settings.consumed_types == ()
    assert (settings.consumed_cap, settings.dislike_rating) == (5000, 2.0)


@pytest.mark.parametrize(
    ("raw", "rebuy"), [("on", True), ("off", False), ("", None), ("auto", None)]
)
def test_rebuy_is_on_off_or_left_to_the_model(raw: str, rebuy: bool | None) -> None:
    assert Settings.from_env({"STREAMREC_REBUY": raw}).rebuy is rebuy


def test_consumption_settings_are_read_from_their_variables() -> None:
    settings = Settings.from_env(
        {
            "STREAMREC_CONSUMED_TYPES": " purchase, rating,,purchase ",
            "STREAMREC_CONSUMED_CAP": "300",
            "STREAMREC_DISLIKE_RATING": "1.5",
        }
    )

    assert settings.consumed_types == ("purchase", "rating")
    assert (settings.consumed_cap, settings.dislike_rating) == (300, 1.5)


def test_several_jwt_secrets_are_accepted_and_the_old_variable_still_counts() -> None:
    both = Settings.from_env({"STREAMREC_JWT_SECRETS": " new, older ", "STREAMREC_JWT_SECRET": "x"})
    legacy = Settings.from_env({"STREAMREC_JWT_SECRET": "only"})

    assert both.jwt_keys == ("new", "older", "x")
    assert legacy.jwt_keys == ("only",)


def test_a_certificate_needs_its_key_and_makes_the_public_url_https(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("-")
    with pytest.raises(ConfigError, match="STREAMREC_TLS_KEYFILE: give both"):
        Settings.from_env({"STREAMREC_TLS_CERTFILE": str(cert)})
    settings = Settings.from_env(
        {"STREAMREC_TLS_CERTFILE": str(cert), "STREAMREC_TLS_KEYFILE": str(cert)}
    )

    assert settings.tls and settings.public_url == "https://127.0.0.1:8000"


def test_hardening_settings_have_safe_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.jwt_max_ttl_s == 86_400 and settings.trusted_proxies == ()
    assert (settings.rating_min, settings.rating_max, settings.max_future_s) == (0.5, 5.0, 86_400)
    assert (settings.redis_connect_timeout_s, settings.redis_timeout_s) == (0.25, 0.25)
    assert settings.body_timeout_s == 10 and not settings.tls


def test_every_setting_that_is_not_text_is_parsed_to_its_type() -> None:
    settings = Settings()
    for field in fields(Settings):
        default = getattr(settings, field.name)
        if isinstance(default, str) or default is None:
            continue
        name = "STREAMREC_" + field.name.upper()
        parsed = Settings.from_env({name: render(default)})
        assert type(getattr(parsed, field.name)) is type(default), name


def render(value: object) -> str:
    """A setting's value as it would be written in the environment."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(str(part) for part in value)
    return str(value)
