"""JWT HS256 bearer tokens with a `role` claim (reader < writer < admin) and a bounded life."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.requests import Request

from api.identity import client_address
from streamrec.errors import Forbidden, Unauthorized
from streamrec.settings import Settings

ROLES: tuple[str, ...] = ("reader", "writer", "admin")
ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the rate-limit identity and the role the token grants."""

    client_id: str
    role: str | None


def role_allows(granted: str, needed: str) -> bool:
    """Whether `granted` may call a route that needs `needed` (higher roles include lower)."""
    return ROLES.index(granted) >= ROLES.index(needed)


def issue_token(
    secret: str,
    subject: str,
    role: str,
    ttl_s: float = 3600.0,
    *,
    now: float | None = None,
    issuer: str = "",
    audience: str = "",
) -> str:
    """A signed token for `subject` with `role`, issued `now` and expiring `ttl_s` later."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    issued = time.time() if now is None else now
    claims: dict[str, object] = {
        "sub": subject,
        "role": role,
        "iat": int(issued),
        "exp": int(issued + ttl_s),
    }
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def authenticate(request: Request, settings: Settings, needed: str | None) -> Principal:
    """The caller; raises Unauthorized or Forbidden when the route's role is not granted."""
    address = client_address(request, settings.trusted_proxies)
    if not settings.auth or needed is None:
        return Principal(f"ip:{address}", None)
    claims = verify_token(_bearer(request.headers.get("authorization", "")), settings)
    role, subject = str(claims["role"]), claims.get("sub")
    if not role_allows(role, needed):
        raise Forbidden(
            f"role {role} may not call this route (needs {needed})",
            {"role": role, "needed": needed},
        )
    return Principal(f"sub:{subject}" if subject else f"ip:{address}", role)


def _bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required")
    return token.strip()


def verify_token(token: str, settings: Settings, now: float | None = None) -> dict[str, Any]:
    """The claims of a token signed with any configured secret; Unauthorized otherwise."""
    for secret in settings.jwt_keys:
        try:
            claims = _decode(token, secret, settings)
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token: {error}") from None
        _check_claims(claims, settings, time.time() if now is None else now)
        return claims
    raise Unauthorized("invalid token: signature verification failed")


def _decode(token: str, secret: str, settings: Settings) -> dict[str, Any]:
    required = ["exp"]
    required += ["iss"] if settings.jwt_issuer else []
    required += ["aud"] if settings.jwt_audience else []
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        options={"require": required},
        issuer=settings.jwt_issuer or None,
        audience=settings.jwt_audience or None,
    )
    return claims


def _check_claims(claims: dict[str, Any], settings: Settings, now: float) -> None:
    expires = float(claims["exp"])
    issued = claims.get("iat")
    start = float(issued) if isinstance(issued, int | float) else now
    if max(expires - start, expires - now) > settings.jwt_max_ttl_s:
        raise Unauthorized(
            f"invalid token: lives longer than {settings.jwt_max_ttl_s:g} s "
            "(STREAMREC_JWT_MAX_TTL_S)"
        )
    if claims.get("role") not in ROLES:
        raise Unauthorized(f"token role must be one of {', '.join(ROLES)}")
