"""`streamrec token --role R --ttl T [--subject S]`: issue a bearer token for the API."""

from __future__ import annotations

import argparse
import re
import uuid

from streamrec.errors import ConfigError, RecsysError
from streamrec.settings import Settings

ROLES = ("reader", "writer", "admin")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")


def duration(text: str) -> float:
    """Seconds from `3600`, `90s`, `30m`, `12h` or `7d`."""
    found = DURATION.fullmatch(text.strip().lower())
    if found is None or float(found[1]) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive duration such as 3600, 90s, 30m, 12h or 7d"
        )
    return float(found[1]) * UNITS[found[2] or "s"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `token` command."""
    parser = sub.add_parser(
        "token",
        help="issue a signed bearer token (JWT) for the HTTP API",
        description="Print a JWT (HS256) signed with the first of STREAMREC_JWT_SECRETS, else "
        "STREAMREC_JWT_SECRET, carrying the role, the subject (the client's rate-limit "
        "identity), its issue time and its expiry, plus STREAMREC_JWT_ISSUER and "
        "STREAMREC_JWT_AUDIENCE when set. Workers refuse tokens that live longer than "
        "STREAMREC_JWT_MAX_TTL_S. Send it as 'Authorization: Bearer <token>'.",
    )
    parser.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help="reader (GET routes), writer (also events and catalog), admin (everything)",
    )
    parser.add_argument(
        "--ttl",
        required=True,
        type=duration,
        help="lifetime: seconds or a number with s, m, h or d (e.g. 12h)",
    )
    parser.add_argument(
        "--subject", help="who the token is for (sub claim; default: a random token-<id>)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the token."""
    from api.auth import issue_token

    settings = Settings.from_env()
    if not settings.jwt_keys:
        raise ConfigError(
            "STREAMREC_JWT_SECRET (or STREAMREC_JWT_SECRETS) must be set to issue tokens"
        )
    if args.ttl > settings.jwt_max_ttl_s:
        raise RecsysError(
            f"--ttl {args.ttl:g} s exceeds STREAMREC_JWT_MAX_TTL_S ({settings.jwt_max_ttl_s:g} s):"
            " workers would refuse the token"
        )
    subject = args.subject or f"token-{uuid.uuid4().hex[:12]}"
    print(
        issue_token(
            settings.jwt_keys[0],
            subject,
            args.role,
            args.ttl,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    )
    return 0
