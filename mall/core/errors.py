"""Errors services raise; each has a stable snake_case ``code`` and an HTTP status for views."""

from __future__ import annotations


class MallError(Exception):
    """Base of every rule violation a user can cause; views turn it into a clear message."""

    code = "mall_error"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str = "", *, code: str | None = None,
                 errors: dict[str, list[str]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        self.errors = errors or {}


class ValidationFailed(MallError):
    """Input that breaks a rule; ``errors`` maps field names to messages."""

    code = "validation_failed"
    status = 422
    title = "Invalid input"


class NotFound(MallError):
    """The object does not exist, or the actor may not know that it does."""

    code = "not_found"
    status = 404
    title = "Not found"


class PermissionDenied(MallError):
    """The actor is known but may not do this."""

    code = "permission_denied"
    status = 403
    title = "Forbidden"


class AuthenticationRequired(MallError):
    """No valid session or API token was presented."""

    code = "authentication_required"
    status = 401
    title = "Authentication required"


class Conflict(MallError):
    """The request clashes with the current state (duplicate, wrong state, stale)."""

    code = "conflict"
    status = 409
    title = "Conflict"


class TooManyRequests(MallError):
    """Throttled: too many attempts in a short time."""

    code = "too_many_requests"
    status = 429
    title = "Too many requests"
