"""The one error tree of streamrec; every class knows its HTTP status."""

from __future__ import annotations

from typing import Any


class RecsysError(Exception):
    """Raised for any failure streamrec itself detects (the root of the tree)."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        """The JSON error body of the HTTP contract."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ConfigError(RecsysError):
    """Raised when a setting is missing or malformed; names the variable."""

    code = "config_error"


class InvalidRecord(RecsysError):
    """Raised when an input record breaks a rule; names the field and the rule."""

    status = 422
    code = "invalid_record"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", {"field": field, "rule": rule})
        self.field = field
        self.rule = rule


class BadRequest(RecsysError):
    """Raised when a request is malformed (unparseable body, bad parameter)."""

    status = 400
    code = "bad_request"


class Unprocessable(RecsysError):
    """Raised when a request parses but its content is invalid (per-field errors in details)."""

    status = 422
    code = "unprocessable"


class RequestTimeout(RecsysError):
    """Raised when a request body does not arrive in full within STREAMREC_BODY_TIMEOUT_S."""

    status = 408
    code = "request_timeout"


class NotFound(RecsysError):
    """Raised when a named resource does not exist."""

    status = 404
    code = "not_found"


class Conflict(RecsysError):
    """Raised when a request would create something that already exists or contradicts itself."""

    status = 409
    code = "conflict"


class Unauthorized(RecsysError):
    """Raised when a request has no token or a bad one."""

    status = 401
    code = "unauthorized"


class Forbidden(RecsysError):
    """Raised when the token's role may not call this route."""

    status = 403
    code = "forbidden"


class RateLimited(RecsysError):
    """Raised when a client exceeds its request budget."""

    status = 429
    code = "rate_limited"


class NotReady(RecsysError):
    """Raised when the worker cannot answer yet (recovering, rebalancing, no model)."""

    status = 503
    code = "not_ready"


class RedisUnavailable(RecsysError):
    """Raised when Redis is not configured, failed, timed out, or is being bypassed."""

    status = 503
    code = "redis_unavailable"


class BrokerError(RecsysError):
    """Raised when the Kafka broker cannot be reached or refuses a request."""

    status = 503
    code = "broker_unavailable"


class RegistryError(RecsysError):
    """Raised when a model version is missing, corrupted or incomplete."""

    code = "registry_error"


class ModelFitError(RecsysError):
    """Raised when training cannot produce a model from the data it was given."""

    code = "model_fit_error"


class DatasetError(RecsysError):
    """Raised when a public dataset cannot be fetched, found in its package, or read."""

    code = "dataset_error"
