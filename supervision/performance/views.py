"""Pages of supplier performance and sanctions.

Oversight (operator, supervisor): /supervision/suppliers/performance ranks the suppliers of a
month (filter by name, by score) and lists the suspensions the year's points propose;
/supervision/suppliers/<id>/performance shows a supplier's twelve months, the components of
a month, the trend chart with its numbers, and its sanctions with the forms to impose and
revoke. Suppliers: /supervision/my-performance and /supervision/my-sanctions. Anyone, without
logging in: /supervision/bad-conduct, the public bad-conduct list.

A refused form renders its page again with the errors next to the fields and what was typed
kept (the request commits nothing); a done decision redirects with a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF
from mall.core.clock import local_today
from mall.core.errors import MallError, NotFound, ValidationFailed, translate_field_message
from mall.core.inputs import whole_number
from mall.extensions import db
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes
from supervision.pages import blueprint
from supervision.performance import sanctions, services
from supervision.performance.models import SanctionKind

COMPONENT_LABELS = {
    "confirmation": _l("Orders confirmed"), "confirm_time": _l("Time to confirm"),
    "delivery": _l("Delivered on time"), "acceptance": _l("Accepted in full"),
    "returns": _l("Returns"), "ratings": _l("Buyers' ratings"),
    "price_violations": _l("Price violations (offers frozen)"),
    "challenges_upheld": _l("Challenges upheld against it"),
    "complaints_upheld": _l("Complaints upheld against it"),
}
ADVICE = {
    "confirmation": _l("Confirm every order you can deliver, or decline it at once with a "
                       "reason; an order left for 72 hours is cancelled and counts against you."),
    "confirm_time": _l("Confirm within 24 hours of receiving an order for full marks."),
    "delivery": _l("Deliver within the days promised at checkout, counted from the contract's "
                   "signature (or the settlement order)."),
    "acceptance": _l("Check goods against the order before shipping; a partial acceptance "
                     "or a rejection counts against you."),
    "returns": _l("Pack well and ship what was ordered: every return of goods the operator "
                  "did not rule out counts."),
    "ratings": _l("Buyers rate quality, delivery and service after payment."),
    "price_violations": _l("Keep your prices at or below the reference price and close to "
                           "other suppliers' prices for the same product."),
    "challenges_upheld": _l("Quote truthfully: a quote struck after a challenge costs points."),
    "complaints_upheld": _l("Quote truthfully: a quote struck after a complaint costs points."),
}
BAN_LABELS = {1: _l("1 year"), 2: _l("2 years"), 3: _l("3 years")}
KIND_LABELS = {
    "warning": _l("Warning"), "points": _l("Points deducted"),
    "suspension": _l("Suspension of categories"), "expulsion": _l("Expulsion"),
    "bad_conduct": _l("Bad-conduct list"),
}


def _errors(exc: MallError) -> dict[str, list[str]]:
    found = {key: [translate_field_message(m, _) for m in messages]
             for key, messages in (exc.errors if isinstance(exc, ValidationFailed) else {}).items()}
    return found or {"_form": [exc.translated(_)]}


def _month(text: str | None) -> date | None:
    """A month typed as YYYY-MM (the month input's value), or None."""
    text = (text or "").strip()
    try:
        return date.fromisoformat(text + "-01") if len(text) == 7 else None
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _helpers() -> dict[str, Any]:
    return {"component_label": lambda key: str(COMPONENT_LABELS.get(key, key)),
            "kind_label": lambda kind: str(KIND_LABELS.get(str(getattr(kind, "value", kind)),
                                                           kind)),
            "ban_label": lambda years: str(BAN_LABELS.get(years, years)),
            "weights": services.WEIGHTS, "deductions_table": services.DEDUCTIONS}


def _chart(history) -> dict[str, Any]:
    """The trend chart's data (its numbers are in the table beside it)."""
    return {"labels": [month.strftime("%Y-%m") for month, _row in history],
            "scores": [row.score if row else None for _month_, row in history],
            "label": _("Score")}


def _shown(history):
    """The month whose components a page shows: ``?month=YYYY-MM`` if it has a score, else
    the latest month that has one."""
    chosen = _month(request.args.get("month"))
    rows = {month: row for month, row in history if row}
    if chosen in rows:
        return rows[chosen]
    return next((row for _m, row in reversed(history) if row), None)


# -- oversight -----------------------------------------------------------------------------

@blueprint.route("/suppliers/performance")
@page(*OVERSIGHT_STAFF)
def performance_ranking():
    """A month's ranking by score (best first), with filters, and the proposed suspensions."""
    actor = current_actor()
    session = db.session()
    errors: dict[str, list[str]] = {}
    months = services.months_with_scores(session)
    month = services.month_start(months[0] if months else local_today())
    if request.args.get("month"):
        chosen = _month(request.args.get("month"))
        if chosen is None:
            errors["month"] = [_("Enter a month as YYYY-MM.")]
        else:
            month = chosen
    below = None
    if request.args.get("below", "").strip():
        below = whole_number(request.args.get("below"), low=1, high=100)
        if below is None:
            errors["below"] = [_("Enter a score from 1 to 100.")]
    name = request.args.get("name", "")[:100]
    ranked = services.ranking(session, actor, month=month, name=name, below=below)
    return render_template(
        "supervision/performance_ranking.html", ranked=ranked, month=month, months=months,
        name=name, below=request.args.get("below", ""), typed_month=request.args.get("month", ""),
        errors=errors, proposals=sanctions.suspension_proposals(session, actor),
        threshold=sanctions.POINTS_THRESHOLD, **_helpers()), 422 if errors else 200


def _render_supplier(supplier_id: int, *, errors: Mapping | None = None, form: Any = None,
                     target: str = "", status: int = 200):
    actor = current_actor()
    session = db.session()
    supplier = services.get_supplier(session, actor, supplier_id)
    today = local_today()
    history = services.history(session, actor, supplier_id=supplier.id, until=today)
    kinds = [k for k in SanctionKind if sanctions.may_impose(actor, k)]
    return render_template(
        "supervision/performance_supplier.html", supplier=supplier, history=history,
        latest=_shown(history), chart=_chart(history), components=services.components,
        deductions=services.deductions,
        records=sanctions.sanctions_of(session, actor, supplier_id=supplier.id),
        current={s.id for s in sanctions.current_sanctions(session, supplier.id, today=today)},
        admissions=sanctions.live_admissions(session, actor, supplier_id=supplier.id),
        kinds=kinds, may_revoke=lambda s: sanctions.may_impose(actor, s.kind),
        points=sanctions.points_in_year(session, supplier.id, today.year),
        threshold=sanctions.POINTS_THRESHOLD, ban_years=sanctions.BAN_YEARS,
        law=sanctions.LAW_77, errors=errors or {}, form=form or {}, target=target,
        **_helpers()), status


@blueprint.route("/suppliers/<int:supplier_id>/performance")
@page(*OVERSIGHT_STAFF, *SUPPLIER_STAFF)
def supplier_performance(supplier_id: int):
    """One supplier's twelve months, the components of its latest month, its sanctions; a
    supplier is sent to its own page, and finds no other supplier's (404)."""
    actor = current_actor()
    if not actor.is_oversight:
        services.get_supplier(db.session(), actor, supplier_id)  # another's: 404
        return redirect(url_for(".my_performance"))
    return _render_supplier(supplier_id)


@blueprint.route("/suppliers/<int:supplier_id>/sanctions", methods=["POST"])
@page(*OVERSIGHT_STAFF)
def impose_sanction(supplier_id: int):
    """Decide a sanction; a refusal shows the form again with its errors."""
    form = request.form
    points = form.get("points", "").strip()
    years = form.get("ban_years", "").strip()
    data = sanctions.SanctionInput(
        kind=form.get("kind", ""), reason=form.get("reason", ""),
        legal_basis=form.get("legal_basis", ""),
        points=whole_number(points, low=0, high=1000) if points else None,
        admission_ids=[i for i in (whole_number(v, low=1) for v in form.getlist("admission_ids"))
                       if i],
        ends_on=_day(form.get("ends_on")), ban_years=whole_number(years) if years else None)
    try:
        sanctions.impose(db.session(), current_actor(), supplier_id=supplier_id, data=data)
    except NotFound:
        raise
    except MallError as exc:
        discard_changes()
        return _render_supplier(supplier_id, errors=_errors(exc), form=form, target="impose",
                                status=exc.status)
    flash(_("The sanction was decided and the supplier told."), "success")
    return redirect(url_for(".supplier_performance", supplier_id=supplier_id) + "#sanctions")


@blueprint.route("/sanctions/<int:sanction_id>/revoke", methods=["POST"])
@page(*OVERSIGHT_STAFF)
def revoke_sanction(sanction_id: int):
    """Revoke a sanction with a reason."""
    session = db.session()
    record = session.get(sanctions.Sanction, sanction_id)
    if record is None:
        raise NotFound()
    supplier_id = record.supplier_id
    try:
        sanctions.revoke(session, current_actor(), sanction_id=sanction_id,
                         reason=request.form.get("reason", ""))
    except MallError as exc:
        discard_changes()
        return _render_supplier(supplier_id, errors=_errors(exc), form=request.form,
                                target=f"revoke-{sanction_id}", status=exc.status)
    flash(_("The sanction was revoked and the supplier told."), "success")
    return redirect(url_for(".supplier_performance", supplier_id=supplier_id) + "#sanctions")


# -- the supplier's own pages ----------------------------------------------------------------

@blueprint.route("/my-performance")
@page(*SUPPLIER_STAFF)
def my_performance():
    """The supplier's own twelve months, the components and how to improve each."""
    actor = current_actor()
    session = db.session()
    history = services.history(session, actor, supplier_id=actor.organisation_id,
                               until=local_today())
    return render_template(
        "supervision/performance_mine.html", history=history, chart=_chart(history),
        latest=_shown(history),
        components=services.components, deductions=services.deductions, advice=ADVICE,
        current=sanctions.current_sanctions(session, actor.organisation_id), **_helpers())


@blueprint.route("/my-sanctions")
@page(*SUPPLIER_STAFF)
def my_sanctions():
    """Why the supplier was sanctioned and until when; revoked and ended ones below."""
    actor = current_actor()
    session = db.session()
    today = local_today()
    records = sanctions.sanctions_of(session, actor, supplier_id=actor.organisation_id)
    current = {s.id for s in sanctions.current_sanctions(session, actor.organisation_id,
                                                         today=today)}
    return render_template(
        "supervision/sanctions_mine.html", records=records, current=current,
        points=sanctions.points_in_year(session, actor.organisation_id, today.year),
        threshold=sanctions.POINTS_THRESHOLD, year=today.year, **_helpers())


# -- public ---------------------------------------------------------------------------------

@blueprint.route("/bad-conduct")
def bad_conduct():
    """The public bad-conduct list (不良行为记录名单): current entries only, no login."""
    name = request.args.get("name", "")[:100]
    return render_template("supervision/bad_conduct.html", name=name,
                           entries=sanctions.bad_conduct_list(db.session(), name=name))

