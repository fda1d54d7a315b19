"""The supervision hub (every tool of oversight on one page, with what waits in each) and the
to-dos that home pages show (supervision.todos)."""

from __future__ import annotations

from flask import render_template

from mall.core.auth import OVERSIGHT_STAFF
from mall.extensions import db
from mall.web import current_actor, optional_actor, page
from supervision.pages import blueprint
from supervision.todos import todos


@blueprint.route("/")
@page(*OVERSIGHT_STAFF)
def index():
    """Statistics, price monitoring, anti-splitting, complaints, supplier performance and
    sanctions, expert acceptance and the audit trail, each with its open count."""
    actor = current_actor()
    counts = {item.endpoint: item for item in todos(db.session(), actor)}
    return render_template("supervision/index.html", counts=counts)


@blueprint.app_context_processor
def inject_supervision_todos():
    """``supervision_todos()`` for the home page: read only when a page asks for it."""

    def supervision_todos():
        actor = optional_actor()
        return todos(db.session(), actor) if actor is not None else []

    return {"supervision_todos": supervision_todos}
