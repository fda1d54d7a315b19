"""One error envelope: problem+json on the API, templates/errors/page.html on pages."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mall.core.errors import MallError
from mall.i18n_messages import N_
from mall.web import flatten_messages, is_api_request, problem

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "authentication_required", 403: "permission_denied",
          404: "not_found", 405: "method_not_allowed", 409: "conflict", 413: "too_large",
          415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
          500: "internal_error"}


# What an error page says for the HTTP errors Werkzeug raises (its own names and texts are
# English and not in the catalogue); the API keeps Werkzeug's names in its problem documents.
PAGE_TEXTS = {
    400: (N_("Bad request"), N_("The page could not read what was sent; go back and try again.")),
    403: (N_("Not allowed"), N_("Your role does not allow this page.")),
    404: (N_("Not found"), N_("There is nothing at this address, or it is not yours to see.")),
    405: (N_("Not possible here"), N_("This address does not take that kind of request; use "
                                      "the page's links and buttons.")),
    409: (N_("Conflict"), N_("Someone changed this in the meantime; reload the page.")),
    429: (N_("Too many requests"), N_("Too many requests in a short time; wait a moment and "
                                      "try again.")),
}


def _page(status: int, title: str, detail: str):
    return render_template("errors/page.html", status=status, title=gettext(title),
                           detail=gettext(detail) if detail else ""), status


def register_error_handlers(app: Flask) -> None:
    """Install the handlers for rule violations, HTTP errors, CSRF failures and crashes."""

    @app.errorhandler(MallError)
    def handle_mall_error(exc: MallError):
        if is_api_request():
            return problem(exc.status, exc.code, exc.title, exc.detail, exc.errors)
        return _page(exc.status, exc.title, exc.translated(gettext))

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        detail = "The form expired or was not sent by this site; reload the page and retry."
        if is_api_request():
            return problem(400, "csrf_failed", "CSRF check failed", detail)
        return _page(400, "CSRF check failed", detail)

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(_exc: RequestEntityTooLarge):
        """A body over MAX_CONTENT_LENGTH, refused before it is read: nothing was saved."""
        title = N_("Too large")
        detail = N_("What you sent is larger than %(mb)s MB, so none of it was kept. "
                    "Choose a smaller file, or split it into several.")
        limit = current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024)
        if is_api_request():
            return problem(413, "too_large", title, detail % {"mb": limit})
        return render_template("errors/page.html", status=413, title=gettext(title),
                               detail=gettext(detail, mb=limit),
                               back="/" + request.path.lstrip("/")), 413

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        code = _CODES.get(status, "http_error")
        errors = None
        data = getattr(exc, "data", None)  # webargs/flask-smorest put field errors here
        if data and "messages" in data:
            messages = data["messages"]
            # webargs nests by location (json/query/form); callers care about the field.
            if isinstance(messages, dict) and set(messages) <= {"json", "query", "form",
                                                                "files", "headers", "view_args"}:
                merged: dict = {}
                for part in messages.values():
                    # a location's messages are per field, or a list about the whole part
                    if isinstance(part, dict):
                        merged.update(part)
                    else:
                        merged.setdefault("_schema", []).extend(
                            part if isinstance(part, list) else [part])
                messages = merged
            errors = flatten_messages(messages)
            code = "validation_failed"
        headers = dict(exc.get_headers()) if status == 405 else None
        if headers:
            headers.pop("Content-Type", None)
        if is_api_request():
            return problem(status, code, exc.name, exc.description or exc.name, errors,
                           headers=headers)
        if status in PAGE_TEXTS and not errors:
            return _page(status, *PAGE_TEXTS[status])
        return _page(status, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def handle_crash(exc: Exception):
        log.exception("unhandled error")
        title = "Internal error"
        detail = "Something went wrong on our side; nothing you sent was saved."
        if is_api_request():
            return problem(500, "internal_error", title, detail)
        return _page(500, title, detail)
