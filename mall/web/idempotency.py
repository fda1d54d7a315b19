"""The Idempotency-Key header on POST endpoints: a retried request gets the first answer back.

Decorate a view *outside* flask-smorest's ``arguments``/``response`` decorators (just
below ``route``), so it sees the finished JSON response::

    @blueprint.route("/things", methods=["POST"])
    @idempotent
    @blueprint.arguments(ThingSchema)
    @blueprint.response(200, ResultSchema)
    def create_things(data): ...

Keys belong to the actor's organisation. Before running the view the key is claimed by
inserting its record; the answer is written into that record before the request's
single commit, so work and answer commit (or roll back) together. Claiming first means
a concurrent duplicate blocks on the unique (organisation, key) index instead of doing
the work a second time: on PostgreSQL it waits for the first request, then replays its
answer (or, if the first failed and stored nothing, runs normally); SQLite serialises
writing requests anyway (BEGIN IMMEDIATE). If the key is taken but its answer is not
visible, the request gets 409 ``idempotency_key_in_flight`` and may retry later. Error
answers (status >= 400) are never stored, so a corrected retry with the same key runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

from flask import current_app, jsonify, request

from mall.core.clock import now
from mall.core.db import insert_ignoring_conflicts
from mall.core.errors import Conflict, ValidationFailed
from mall.core.idempotency import IdempotencyRecord, find_response, request_fingerprint
from mall.extensions import db
from mall.web import current_actor

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 100
_PENDING_STATUS = 0  # a claimed key whose answer is not written yet (never committed)

OPENAPI_DOC: dict[str, Any] = {
    "parameters": [{
        "in": "header", "name": HEADER, "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "description": "Any unique string (a UUID) per logical request. Retrying with the "
                       "same key and body returns the first answer with the header "
                       f"{REPLAYED_HEADER}: true and changes nothing. Answers are kept "
                       "for 7 days.",
    }],
    "responses": {"409": {"description": "The key was used for a different request "
                                         "(idempotency_key_reused) or is still in use "
                                         "(idempotency_key_in_flight)."}},
}


def idempotent(view: Callable) -> Callable:
    """Make a POST view replay its first successful answer for a repeated Idempotency-Key."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        key = idempotency_key()
        if key is None:
            return view(*args, **kwargs)
        organisation_id = current_actor().organisation_id
        fingerprint = this_request_fingerprint()
        record_id = _claim(organisation_id, key, fingerprint)
        if record_id is None:  # taken: replay its answer (waited for, on PostgreSQL)
            stored = find_response(db.session(), organisation_id=organisation_id, key=key,
                                   fingerprint=fingerprint)
            if stored is not None and stored[0] != _PENDING_STATUS:
                return _replay(*stored)
            raise Conflict("A request with this Idempotency-Key is still being processed; "
                           "retry later.", code="idempotency_key_in_flight")
        response = current_app.make_response(view(*args, **kwargs))
        body = response.get_json(silent=True) if response.is_json else None
        record = IdempotencyRecord.__table__
        if response.status_code >= 400 or body is None:
            # store nothing: a corrected retry must run
            db.session.execute(record.delete().where(record.c.id == record_id))
        else:
            db.session.execute(record.update().where(record.c.id == record_id).values(
                status_code=response.status_code,
                response_body=json.dumps(body, ensure_ascii=False, default=str)))
        return response

    apidoc = deepcopy(getattr(view, "_apidoc", {}))  # flask-smorest's doc of the view
    manual = apidoc.setdefault("manual_doc", {})
    manual.setdefault("parameters", []).extend(OPENAPI_DOC["parameters"])
    manual.setdefault("responses", {}).update(OPENAPI_DOC["responses"])
    wrapper.__dict__["_apidoc"] = apidoc
    return wrapper


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header (None without one); refused if empty or too long."""
    key = request.headers.get(HEADER)
    if key is not None and (not key.strip() or len(key) > MAX_KEY_LENGTH):
        raise ValidationFailed(f"The {HEADER} header must have 1 to {MAX_KEY_LENGTH} "
                               "characters.", code="invalid_idempotency_key",
                               errors={HEADER: [f"1 to {MAX_KEY_LENGTH} characters."]})
    return key


def this_request_fingerprint() -> str:
    """What tells a retry (same method, path and body) from another request with the key."""
    return request_fingerprint(request.method, request.full_path, request.get_data(cache=True))


def _claim(organisation_id: int, key: str, fingerprint: str) -> int | None:
    """Insert the key's record in one statement; None if the key is taken already."""
    return insert_ignoring_conflicts(db.session, IdempotencyRecord, {
        "organisation_id": organisation_id, "key": key, "method": request.method,
        "path": request.path[:300], "request_hash": fingerprint, "status_code": _PENDING_STATUS,
        "response_body": "null", "created_at": now()}, returning=IdempotencyRecord.id)


def _replay(status: int, body: object):
    response = jsonify(body)
    response.status_code = status
    response.headers[REPLAYED_HEADER] = "true"
    return response
