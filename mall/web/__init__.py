"""Web glue shared by every package's views: the acting user, problem+json, page helpers.

Nothing here imports a domain package: the app factory puts the Actor on ``g``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, redirect, request, session, url_for
from flask_login import login_user
from marshmallow import Schema
from marshmallow import ValidationError as SchemaValidationError

from mall.core.auth import Actor, Role
from mall.core.errors import AuthenticationRequired, ValidationFailed

PROBLEM_MIME = "application/problem+json"


def is_api_request() -> bool:
    """API paths answer in JSON; everything else renders pages."""
    return request.path.startswith("/api/")


def current_actor() -> Actor:
    """The Actor of this request, or AuthenticationRequired."""
    actor = getattr(g, "actor", None)
    if actor is None:
        raise AuthenticationRequired("Please log in.")
    return actor


def optional_actor() -> Actor | None:
    return getattr(g, "actor", None)


def page(*roles: Role) -> Callable:
    """Decorate a page view: logged-in users only (optionally with one of ``roles``)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            actor = optional_actor()
            if actor is None:
                return redirect(url_for("accounts.login", next=request.full_path))
            if roles:
                actor.require_role(*roles)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def problem(status: int, code: str, title: str, detail: str = "",
            errors: dict[str, list[str]] | None = None, headers: dict | None = None):
    """An RFC 9457 problem document with our stable ``code`` and field ``errors``."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIME
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def load_form(schema: Schema, data: Any) -> dict[str, Any]:
    """Validate submitted data with a marshmallow schema; field errors become ValidationFailed."""
    try:
        return schema.load(data)
    except SchemaValidationError as exc:
        raise ValidationFailed(errors=_flatten(exc.messages)) from exc


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow nests messages by field; pages and problem documents want field -> list."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(_flatten(value, name))
            else:
                flat[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    else:
        flat[prefix or "_schema"] = [str(m) for m in messages]
    return flat


flatten_messages = _flatten


def form_dict(form, list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """A submitted form as a dict for a schema: lists for multi-value fields, blanks dropped."""
    data: dict[str, Any] = {}
    for key in form:
        if key in list_fields:
            data[key] = [v for v in form.getlist(key) if v.strip()]
        elif form.get(key, "").strip() != "":
            data[key] = form.get(key).strip()
    for key in list_fields:
        data.setdefault(key, [])
    return data


def sign_in(user: Any) -> None:
    """Start a fresh session for ``user`` (no value of the session before the login survives,
    so a session fixed by someone else is worthless), keeping only the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
