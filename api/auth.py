"""JWT HS256 bearer tokens with a `role` claim: reader < writer < admin."""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from starlette.requests import Request

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


def issue_token(secret: str, subject: str, role: str, expires_at: float | None = None) -> str:
    """A signed token for `subject` with `role` (for tooling and tests)."""
    claims: dict[str, object] = {"sub": subject, "role": role}
    if expires_at is not None:
        claims["exp"] = int(expires_at)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def client_address(request: Request) -> str:
    """The caller's IP address (the rate-limit identity without a token)."""
    return request.client.host if request.client is not None else "unknown"


def authenticate(request: Request, settings: Settings, needed: str | None) -> Principal:
    """The caller; raises Unauthorized or Forbidden when the route's role is not granted."""
    address = client_address(request)
    if not settings.auth or needed is None:
        return Principal(f"ip:{address}", None)
    role, subject = _claims(request.headers.get("authorization", ""), settings.jwt_secret)
    if not role_allows(role, needed):
        raise Forbidden(
            f"role {role} may not call this route (needs {needed})",
            {"role": role, "needed": needed},
        )
    return Principal(f"sub:{subject}" if subject else f"ip:{address}", role)


def _claims(header: str, secret: str) -> tuple[str, str | None]:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required")
    try:
        claims = jwt.decode(token.strip(), secret, algorithms=[ALGORITHM])
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}") from None
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized(f"token role must be one of {', '.join(ROLES)}")
    subject = claims.get("sub")
    return str(role), str(subject) if subject is not None else None
