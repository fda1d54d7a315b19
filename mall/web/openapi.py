"""The error answers of the OpenAPI document, declared in one place.

Every error the API gives is an ``application/problem+json`` document (the ``Problem``
schema). Rather than each view listing them, ``ProblemResponses`` (an apispec plugin) adds to
every operation the statuses its shape can give:

- 400 always (a malformed JSON body, a CSRF failure of a browser session, a bad request) and
  401 always (a bearer token that is invalid, expired or revoked is refused even on public
  operations);
- 403 unless the operation is public (``@access(None)``);
- 404 when the path or a query parameter names an object, or the operation writes (a body
  may name one);
- 409 when it writes (a state that does not allow the step, a duplicate);
- 413 when it takes a body (larger than MAX_CONTENT_LENGTH), 422 when it takes any input.

Responses a view documents itself (a 403's scope, a 409's codes) keep their description and
get the problem content if they have none.
"""

from __future__ import annotations

import http

from apispec import BasePlugin
from marshmallow import Schema, fields

from mall.web import PROBLEM_MIME

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


class ProblemSchema(Schema):
    """An RFC 9457 problem document with the mall's stable ``code`` and field ``errors``."""

    type = fields.Str(required=True, metadata={"description": "/problems/<code>"})
    title = fields.Str(required=True)
    status = fields.Int(required=True)
    detail = fields.Str(required=True)
    code = fields.Str(required=True, metadata={
        "description": "Stable snake_case code of the refusal (e.g. malformed_json, "
                       "validation_failed, not_found, scope_required)"})
    errors = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()), metadata={
        "description": "Field name to its messages (``_schema``/``_body`` for the whole input)"})


def problem_response(status: int, description: str | None = None) -> dict:
    """An OpenAPI response object answering ``status`` with a problem document."""
    return {"description": description or http.HTTPStatus(status).phrase,
            "content": {PROBLEM_MIME: {"schema": "Problem"}}}


class ProblemResponses(BasePlugin):
    """Adds each operation's problem+json error answers (see the module's docstring)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method.upper() not in http.HTTPMethod.__members__:
                continue
            for status in self._statuses(path or "", method, operation):
                responses = operation.setdefault("responses", {})
                key = next((k for k in (status, str(status)) if k in responses), None)
                if key is None:
                    responses[status] = problem_response(status)
                elif isinstance(responses[key], dict) and "content" not in responses[key]:
                    responses[key]["content"] = problem_response(status)["content"]
            (operation.get("responses") or {}).pop("default", None)

    @staticmethod
    def _statuses(path: str, method: str, operation: dict) -> list[int]:
        writes = method.lower() in WRITE_METHODS
        body = "requestBody" in operation
        statuses = [400, 401]
        if operation.get("security") != []:
            statuses.append(403)
        if "{" in path or writes or operation.get("parameters"):
            statuses.append(404)
        if writes:
            statuses.append(409)
        if body:
            statuses.append(413)
        if body or operation.get("parameters") or "{" in path:
            statuses.append(422)
        return statuses
