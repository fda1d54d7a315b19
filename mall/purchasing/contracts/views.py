"""Pages of contracts and notices: a contract (or settlement order) document as signed, and
the public result and contract notices, searchable without logging in."""

from __future__ import annotations

from datetime import datetime

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mall.core.errors import NotFound
from mall.extensions import db
from mall.purchasing.contracts import notices
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.document import render_pdf
from mall.purchasing.contracts.models import ROUND_NOTICE_KINDS, Contract, NoticeKind
from mall.purchasing.pages import blueprint
from mall.web import current_actor, page
from mall.web.security import stored_document_policy


@blueprint.route("/orders/<int:order_id>/contract")
@page()
def contract(order_id: int):
    """The contract as signed (HTML), or ?format=pdf; X-Contract-SHA256 is its fingerprint."""
    return contract_response(contracts.get_contract(db.session(), current_actor(), order_id))


def contract_response(document: Contract) -> Response:
    """A stored contract as HTML under a policy that runs nothing of it, or as PDF with
    ?format=pdf; X-Contract-SHA256 is the fingerprint of its HTML (the page and the API)."""
    if request.args.get("format") == "pdf":
        response = Response(render_pdf(document.html), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{document.number}.pdf"'
    else:
        response = Response(document.html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = stored_document_policy(document.html)
    response.headers["X-Contract-SHA256"] = document.sha256
    return response


# -- public notices -------------------------------------------------------------------------------

@blueprint.route("/notices")
def notices_page():
    """Published result and contract notices, searchable without logging in."""
    from mall.purchasing.contracts.schemas import NoticeQuerySchema
    from mall.web import flatten_messages

    raw = {k: v.strip() for k, v in request.args.items() if v.strip()}
    schema = NoticeQuerySchema()
    errors = {k: [_(m) for m in v] for k, v in flatten_messages(schema.validate(raw)).items()
              if k in schema.fields}
    query = schema.load({k: v for k, v in raw.items() if k not in errors and k in schema.fields})
    query["page_size"] = min(query["page_size"], 50)
    rows, total = notices.search_notices(db.session(), notices.NoticeFilter(**query))
    return render_template("purchasing/notices.html", rows=rows, total=total, raw=raw,
                           errors=errors, kinds=list(NoticeKind), page=query["page"],
                           pages=max(1, -(-total // query["page_size"])))


# Why a round failed or its award passed on (the body's "reason" of a round's notice).
ROUND_REASONS = {
    "too_few_quotes": _l("Fewer valid quotes than the round needs"),
    "no_winner": _l("No supplier in rank confirmed the award"),
    "cancelled": _l("Withdrawn by the purchasing unit"),
    "declined": _l("The supplier declined the award"),
    "lapsed": _l("The supplier did not confirm the award in time"),
    "unresponsive": _l("The purchasing unit declared the supplier unresponsive"),
    "struck": _l("The quote was struck after an upheld challenge"),
}


@blueprint.route("/notices/<int:notice_id>")
def notice_page(notice_id: int):
    notice = notices.get_notice(db.session(), notice_id)
    if notice is None:
        raise NotFound()
    body = notice.body or {}
    if notice.kind in ROUND_NOTICE_KINDS:
        return render_template("purchasing/round_notice.html", notice=notice, body=body,
                               deadline=_moment(body.get("deadline")),
                               reason=ROUND_REASONS.get(body.get("reason") or "",
                                                        body.get("reason")))
    return render_template("purchasing/notice.html", notice=notice, body=body)


def _moment(text) -> datetime | None:
    """A time a notice's body holds as ISO 8601 text (None if it holds none)."""
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
