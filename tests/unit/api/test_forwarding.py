"""Signed forwarding between workers, and who a request is charged to."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry

from api.app import create_app
from api.deps import RateLimitPolicy, ServingDeps
from api.signing import FORWARDED_HEADER, canonical_target, sign, verify
from models.types import HistoryItem, UserView
from tests.unit.api.conftest import FORWARD_SECRET, NOW, World, auth_settings, serve

OWNER = "http://owner.test"
HISTORY = "/v1/users/u/history"
TIGHT = RateLimitPolicy(burst=1, per_second=0.01)


def _owner_world() -> World:
    world = World()
    world.users["u"] = UserView("u", history=(HistoryItem("crime-1", "view", NOW),))
    return world


def _signed(
    path: str, query: list[tuple[str, str]], at: float = NOW, secret: str = FORWARD_SECRET
) -> dict[str, str]:
    return {FORWARDED_HEADER: sign(secret, "GET", canonical_target(path, query), b"", at)}


def test_a_signature_covers_method_target_time_and_body() -> None:
    header = sign("k", "POST", "/v1/x?a=1", b"{}", NOW)
    assert verify("k", header, "POST", "/v1/x?a=1", b"{}", NOW + 5, 30)
    assert not verify("k", header, "GET", "/v1/x?a=1", b"{}", NOW, 30)
    assert not verify("k", header, "POST", "/v1/x?a=2", b"{}", NOW, 30)
    assert not verify("k", header, "POST", "/v1/x?a=1", b"[]", NOW, 30)
    assert not verify("k", header, "POST", "/v1/x?a=1", b"{}", NOW + 31, 30)
    assert not verify("other", header, "POST", "/v1/x?a=1", b"{}", NOW, 30)
    assert not verify("", header, "POST", "/v1/x?a=1", b"{}", NOW, 30)
    assert not verify("k", "1", "POST", "/v1/x?a=1", b"{}", NOW, 30)


async def test_a_worker_forwards_signed_and_the_owner_answers_without_charging_again() -> None:
    owner = create_app(_owner_world().deps(settings=auth_settings(), rate_limit=TIGHT))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=owner), base_url=OWNER)
    front = World().deps(
        settings=auth_settings(),
        owner=lambda user_id: OWNER,
        http=http,
        registry=CollectorRegistry(),
    )
    token = _reader_token()
    async with serve(front) as client:
        answers = [await client.get(HISTORY, headers=token) for _ in range(3)]
    await http.aclose()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["items"][0]["item_id"] == "crime-1"


async def test_a_clients_forwarded_header_is_ignored_unless_its_signature_verifies() -> None:
    calls: list[str] = []

    def elsewhere(user_id: str) -> str:
        calls.append(user_id)
        return OWNER

    unreachable = httpx.AsyncClient(transport=httpx.MockTransport(_refuse))
    deps = _owner_world().deps(
        settings=auth_settings(auth=False), owner=elsewhere, http=unreachable
    )
    async with serve(deps) as client:
        forged = await client.get(HISTORY, headers={FORWARDED_HEADER: "1"})
        stale = await client.get(HISTORY, headers=_signed(HISTORY, [], at=NOW - 120))
        wrong = await client.get(HISTORY, headers=_signed(HISTORY, [], secret="guess"))
        signed = await client.get(HISTORY, headers=_signed(HISTORY, []))
    await unreachable.aclose()
    assert [forged.status_code, stale.status_code, wrong.status_code] == [503, 503, 503]
    assert signed.status_code == 200
    assert len(calls) == 3


async def test_unsigned_forwarded_requests_are_charged_like_any_client() -> None:
    deps = _owner_world().deps(settings=auth_settings(), rate_limit=TIGHT)
    query = [("user_id", "u")]
    async with serve(deps) as client:
        signed = [
            await client.get(
                "/v1/recommendations",
                params=query,
                headers={**_reader_token(), **_signed("/v1/recommendations", query)},
            )
            for _ in range(3)
        ]
        forged = [
            await client.get(
                "/v1/recommendations",
                params=query,
                headers={**_reader_token(), FORWARDED_HEADER: "1"},
            )
            for _ in range(2)
        ]
    assert [a.status_code for a in signed] == [200, 200, 200]
    assert [a.status_code for a in forged] == [200, 429]


async def test_x_forwarded_for_is_believed_only_from_trusted_proxies(world: World) -> None:
    async def statuses(deps: ServingDeps) -> list[int]:
        async with serve(deps) as client:
            return [
                (await client.get("/v1/experiments", headers={"x-forwarded-for": ip})).status_code
                for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.1")
            ]

    trusting = world.deps(settings=auth_settings(auth=False, trusted_proxies=("127.0.0.1/32",)))
    untrusting = world.deps(settings=auth_settings(auth=False))
    assert await statuses(_tight(trusting)) == [200, 200, 429]
    assert await statuses(_tight(untrusting)) == [200, 429, 429]


def _tight(deps: ServingDeps) -> ServingDeps:
    deps.rate_limit = TIGHT
    return deps


def _reader_token() -> dict[str, str]:
    from api.auth import issue_token
    from tests.unit.api.conftest import SECRET

    return {"authorization": f"Bearer {issue_token(SECRET, 'client', 'reader')}"}


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("owner down", request=request)
