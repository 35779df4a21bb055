"""Token lifetime, issuer and audience, secret rotation, and `streamrec token`."""

from __future__ import annotations

import time

import jwt
import pytest

from api.auth import issue_token, verify_token
from cli.main import main
from tests.unit.api.conftest import SECRET, World, auth_settings, serve

OLD = "the-previous-secret-still-accepted-for-a-while"
ROUTE = "/v1/experiments"


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _status(world: World, token: str, **settings: object) -> int:
    async with serve(world.deps(settings=auth_settings(**settings))) as client:
        return (await client.get(ROUTE, headers=_bearer(token))).status_code


async def test_a_token_without_an_expiry_is_refused(world: World) -> None:
    forever = jwt.encode({"sub": "c", "role": "admin"}, SECRET, algorithm="HS256")
    async with serve(world.deps(settings=auth_settings())) as client:
        answer = await client.get(ROUTE, headers=_bearer(forever))
    assert answer.status_code == 401
    assert "exp" in answer.json()["error"]["message"]


async def test_a_token_living_longer_than_the_maximum_is_refused(world: World) -> None:
    week = issue_token(SECRET, "c", "reader", 7 * 86_400)
    unstamped = jwt.encode(
        {"sub": "c", "role": "reader", "exp": int(time.time()) + 7200}, SECRET, algorithm="HS256"
    )
    assert await _status(world, week) == 401
    assert await _status(world, week, jwt_max_ttl_s=8 * 86_400) == 200
    assert await _status(world, unstamped, jwt_max_ttl_s=3600) == 401
    assert await _status(world, unstamped) == 200


async def test_issuer_and_audience_are_checked_when_configured(world: World) -> None:
    expected = {"jwt_issuer": "https://id.example", "jwt_audience": "streamrec"}
    right = issue_token(SECRET, "c", "reader", issuer="https://id.example", audience="streamrec")
    wrong_issuer = issue_token(SECRET, "c", "reader", issuer="evil", audience="streamrec")
    no_audience = issue_token(SECRET, "c", "reader", issuer="https://id.example")
    assert await _status(world, right, **expected) == 200
    assert await _status(world, wrong_issuer, **expected) == 401
    assert await _status(world, no_audience, **expected) == 401


async def test_tokens_of_every_configured_secret_are_accepted_during_rotation(
    world: World,
) -> None:
    rotating = {"jwt_secrets": ("the-new-secret-signing-tokens-from-now-on", OLD)}
    new = issue_token("the-new-secret-signing-tokens-from-now-on", "c", "reader")
    old = issue_token(OLD, "c", "reader")
    legacy = issue_token(SECRET, "c", "reader")
    retired = issue_token("a-secret-nobody-configures-any-more!!", "c", "reader")
    assert await _status(world, new, **rotating) == 200
    assert await _status(world, old, **rotating) == 200
    assert await _status(world, legacy, **rotating) == 200  # STREAMREC_JWT_SECRET still counts
    assert await _status(world, retired, **rotating) == 401
    assert await _status(world, old) == 401


def test_the_token_command_prints_a_token_the_workers_accept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMREC_JWT_SECRETS", f"{SECRET},{OLD}")
    monkeypatch.setenv("STREAMREC_JWT_AUDIENCE", "streamrec")
    assert main(["token", "--role", "writer", "--ttl", "2h", "--subject", "ingest"]) == 0
    token = capsys.readouterr().out.strip()
    claims = verify_token(token, auth_settings(jwt_audience="streamrec"))
    assert (claims["sub"], claims["role"], claims["aud"]) == ("ingest", "writer", "streamrec")
    assert claims["exp"] - claims["iat"] == 7200


def test_the_token_command_refuses_a_ttl_beyond_the_maximum_and_explains_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMREC_JWT_SECRET", SECRET)
    assert main(["token", "--role", "reader", "--ttl", "30d"]) == 2
    assert "exceeds STREAMREC_JWT_MAX_TTL_S" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["token", "--help"])
    assert "--ttl" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["token", "--role", "reader", "--ttl", "soon"])
    assert "not a positive duration" in capsys.readouterr().err
