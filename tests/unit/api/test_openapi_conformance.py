"""Property-based conformance of the app to its own /openapi.json (schemathesis)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from api.auth import issue_token
from api.deps import RateLimitPolicy
from tests.unit.api.conftest import SECRET, World, auth_settings

WORLD = World()
# JSON Schema cannot say "at most a day after receipt": event times of any date are allowed here.
APP = create_app(
    WORLD.deps(
        settings=auth_settings(max_future_s=1e306),
        rate_limit=RateLimitPolicy(burst=1_000_000, per_second=1e6),
    )
)
ADMIN = {"Authorization": f"Bearer {issue_token(SECRET, 'conformance', 'admin')}"}
# The coverage phase alone takes about a minute; examples and fuzzing keep this file quick.
# Credentials go in the configuration: headers added per call would turn a case generated
# without valid credentials into a valid one that schemathesis still expects to be rejected.
# A variant's model version must be in the registry (422 naming the variant), which no JSON
# Schema can say: a schema-valid experiment naming an unknown version is rightly refused.
REGISTRY_CHECKED = {
    "include-path": "/v1/experiments",
    "include-method": "POST",
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
        }
    },
}
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}}, "headers": ADMIN, "operations": [REGISTRY_CHECKED]}
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@SCHEMA.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_and_never_fails_with_5xx(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
    case.call_and_validate()
