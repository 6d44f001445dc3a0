"""Errors the admin API answers with, raised by services and mapped to HTTP by the handlers.

Every error becomes ``{"error": {"code", "message", "field"}}``.  Services
raise these instead of returning flags so a rule is enforced in one place.
"""

from __future__ import annotations


class ApiError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds; sent as Retry-After (rate limits)

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class BadRequest(ApiError):
    status, code = 400, "invalid"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    """The caller sees the object but his role does not allow this action on it."""

    status, code = 403, "forbidden"


class NotFound(ApiError):
    """Missing, or outside the caller's scope: the two are indistinguishable on purpose."""

    status, code = 404, "not_found"

    def __init__(self, what: str = "object", **kw):
        super().__init__(f"{what} not found", **kw)


class Conflict(ApiError):
    status, code = 409, "conflict"


class PreconditionFailed(ApiError):
    status, code = 412, "precondition_failed"


class PreconditionRequired(ApiError):
    """The call changes what the caller must have read first, and he did not say which revision he read."""

    status, code = 428, "precondition_required"


class Unprocessable(ApiError):
    status, code = 422, "unprocessable"


class UpstreamError(ApiError):
    """WeChat (or another upstream) refused or failed; the request may be retried."""

    status, code = 502, "upstream_error"
