"""The client address behind trusted proxies."""

from __future__ import annotations

from starlette.requests import Request

from api.identity import client_address


def _request(peer: str, *forwarded_for: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded_for]
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_the_rightmost_address_not_a_trusted_proxy_is_the_client() -> None:
    proxies = ("10.0.0.0/8",)
    spoofed = _request("10.0.0.5", "6.6.6.6, 198.51.100.7", "10.0.0.9")
    assert client_address(spoofed, proxies) == "198.51.100.7"
    assert client_address(_request("10.0.0.5"), proxies) == "10.0.0.5"
    assert client_address(_request("10.0.0.5", "garbage, 10.0.0.8"), proxies) == "10.0.0.8"
    assert client_address(_request("10.0.0.5", "2001:db8::1"), proxies) == "2001:db8::1"


def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    assert client_address(_request("192.0.2.1", "198.51.100.7"), ("10.0.0.0/8",)) == "192.0.2.1"
    assert client_address(_request("10.0.0.5", "198.51.100.7")) == "10.0.0.5"
