"""Errors services raise; each has a stable snake_case ``code`` and an HTTP status for views."""

from __future__ import annotations


class MallError(Exception):
    """Base of every rule violation a user can cause; views turn it into a clear message."""

    code = "mall_error"
    status = 400
    title = "Request refused"
    # A refusal after which what the service recorded must still be committed (a declined
    # card attempt: the next attempt needs a new idempotency key). The web unit of work
    # rolls every other refusal back.
    keeps_changes = False

    def __init__(self, detail: str = "", *, code: str | None = None,
                 errors: dict[str, list[str]] | None = None,
                 params: dict[str, object] | None = None):
        # With ``params``, ``detail`` is a message id (marked with N_) and pages show its
        # translation filled in; the API answers with the English text filled in.
        self.msgid = detail or self.title
        self.params = params or {}
        self.detail = self.msgid % self.params if params else self.msgid
        super().__init__(self.detail)
        if code:
            self.code = code
        self.errors = errors or {}

    def translated(self, gettext) -> str:
        """The detail in the user's language, given flask_babel's gettext."""
        return gettext(self.msgid, **self.params) if self.params else gettext(self.msgid)


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


class FieldMessage(str):
    """A field error with parameters: reads as the English text filled in (the API's
    problem document) and keeps its message id and parameters, so that pages show it
    translated (``translate_field_message``)."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> FieldMessage:
        made = super().__new__(cls, msgid % params if params else msgid)
        made.msgid, made.params = msgid, params
        return made


def translate_field_message(message: str, gettext) -> str:
    """A field error in the user's language, given flask_babel's gettext."""
    if isinstance(message, FieldMessage):
        return gettext(message.msgid, **message.params)
    return gettext(message)

