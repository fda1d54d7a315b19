"""Pages of price monitoring. Operator and supervisor: the worklist of price cases
(/supervision/price-cases), a case with its evidence and price history, the inspection's
settings and its last runs; the operator freezes or dismisses a case. Supplier: its own
cases (/supervision/my-price-cases) and each case's page. Both: the monthly report of a
supplier, as a page or a PDF (/supervision/price-report)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF, Role
from mall.core.clock import now as clock_now
from mall.core.errors import MallError, NotFound, ValidationFailed, translate_field_message
from mall.core.inputs import page_number, whole_number
from mall.extensions import db
from mall.purchasing.contracts.document import render_pdf
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes
from supervision.pages import blueprint
from supervision.prices import cases, reports
from supervision.prices import settings as price_settings
from supervision.prices.models import ABOVE_PEERS, ABOVE_REFERENCE, CaseStatus, PriceInspection

STATUS_NAMES = {
    CaseStatus.OPEN: _l("Waiting for the operator"),
    CaseStatus.FROZEN: _l("Offer frozen"),
    CaseStatus.DISMISSED: _l("Dismissed: price accepted"),
    CaseStatus.RESOLVED: _l("Resolved: price lowered"),
}
REASON_NAMES = {
    ABOVE_REFERENCE: _l("Above its reference price"),
    ABOVE_PEERS: _l("Well above other suppliers' prices (upper quartile)"),
}
ACTIONS = {"freeze": (cases.freeze_case, _l("The offer is frozen and the case closed.")),
           "dismiss": (cases.dismiss_case, _l("The case is dismissed; the offer stays on sale."))}


def _words() -> dict[str, Any]:
    return {"status_names": STATUS_NAMES, "reason_names": REASON_NAMES}


def _errors(exc: MallError) -> dict[str, list[str]]:
    found = {key: [translate_field_message(m, _) for m in messages]
             for key, messages in (exc.errors if isinstance(exc, ValidationFailed) else {}).items()}
    return found or {"_form": [exc.translated(_)]}


def _status(text: str | None) -> CaseStatus | None:
    try:
        return CaseStatus(text) if text else None
    except ValueError:
        return None


@blueprint.route("/price-cases")
@page(*OVERSIGHT_STAFF)
def price_cases():
    """The worklist: every supplier's cases, open first, filtered by supplier, category and
    status; the last inspection's figures above it."""
    actor, session = current_actor(), db.session()
    filters = cases.CaseFilter(
        supplier_id=whole_number(request.args.get("supplier_id"), low=1),
        category_id=whole_number(request.args.get("category_id"), low=1),
        status=_status(request.args.get("status")))
    current_page = page_number(request.args.get("page"))
    rows, total = cases.worklist(session, actor, filters=filters, page=current_page)
    supplier_choices, category_choices = cases.filter_choices(session, actor)
    last = session.scalar(select(PriceInspection).order_by(PriceInspection.id.desc()).limit(1))
    return render_template(
        "supervision/price_cases.html", rows=rows, total=total, filters=filters,
        page=current_page, pages=max(1, -(-total // cases.PAGE_SIZE)),
        supplier_choices=supplier_choices, category_choices=category_choices, last=last,
        **_words())


@blueprint.route("/my-price-cases")
@page(*SUPPLIER_STAFF)
def my_price_cases():
    """A supplier's own price cases with the reason in words and the state of each."""
    current_page = page_number(request.args.get("page"))
    rows, total = cases.supplier_cases(db.session(), current_actor(), page=current_page)
    return render_template("supervision/price_cases_supplier.html", rows=rows, total=total,
                           page=current_page, pages=max(1, -(-total // cases.PAGE_SIZE)),
                           **_words())


def _render_case(case_id: int, *, errors: dict | None = None, form: Any = None,
                 status: int = 200):
    actor, session = current_actor(), db.session()
    row = cases.get_case(session, actor, case_id)
    history = cases.price_history(session, actor, case_id)
    chart = {
        "labels": [point.at.isoformat() for point in history],
        "prices": [point.price_fen / 100 for point in history],
        "reference": (row.case.reference_price_fen / 100
                      if row.case.reference_price_fen is not None else None),
        "median": (row.case.peer_median_fen / 100
                   if row.case.peer_median_fen is not None else None),
        "names": {"price": _("Offer price (yuan)"), "reference": _("Reference price (yuan)"),
                  "median": _("Other suppliers' median (yuan)")},
    }
    return render_template("supervision/price_case.html", row=row, history=history, chart=chart,
                           errors=errors or {}, form=form or {}, **_words()), status


@blueprint.route("/price-cases/<int:case_id>")
@page(*OVERSIGHT_STAFF, *SUPPLIER_STAFF)
def price_case(case_id: int):
    """One case: its evidence, the offer's price history (chart and table) and, for the
    operator while it is open, the freeze and dismiss forms."""
    return _render_case(case_id)


@blueprint.route("/price-cases/<int:case_id>/<any(freeze, dismiss):action>", methods=["POST"])
@page(Role.OPERATOR)
def decide_price_case(case_id: int, action: str):
    """The operator freezes the offer or dismisses the case, with a note."""
    decide, done = ACTIONS[action]
    try:
        decide(db.session(), current_actor(), case_id, note=request.form.get("note", ""))
    except NotFound:
        raise
    except MallError as exc:
        discard_changes()
        return _render_case(case_id, errors=_errors(exc), form=request.form, status=exc.status)
    flash(str(done), "success")
    return redirect(url_for(".price_case", case_id=case_id))


@blueprint.route("/price-settings", methods=["GET", "POST"])
@page(*OVERSIGHT_STAFF)
def price_settings_page():
    """The inspection's thresholds (the operator changes them) and its last runs."""
    actor, session = current_actor(), db.session()
    errors: dict[str, list[str]] = {}
    form: Any = {}
    status = 200
    if request.method == "POST":
        form = request.form
        try:
            price_settings.save(
                session, actor, min_peers=whole_number(form.get("min_peers"), low=0),
                quartile_margin_pct=whole_number(form.get("quartile_margin_pct"), low=0),
                hard_ratio_pct=whole_number(form.get("hard_ratio_pct"), low=0))
        except MallError as exc:
            discard_changes()
            errors, status = _errors(exc), exc.status
        else:
            flash(_("The settings are saved; they apply from the next inspection."), "success")
            return redirect(url_for(".price_settings_page"))
    runs = session.scalars(select(PriceInspection).order_by(PriceInspection.id.desc())
                           .limit(10)).all()
    return render_template("supervision/price_settings.html",
                           settings=price_settings.current(session), runs=runs, errors=errors,
                           form=form, can_edit=actor.has_role(Role.OPERATOR)), status


@blueprint.route("/price-report")
@page(*OVERSIGHT_STAFF, *SUPPLIER_STAFF)
def price_report():
    """A supplier's monthly inspection report; ?format=pdf prints it."""
    actor, session = current_actor(), db.session()
    choices = reports.report_suppliers(session, actor)
    supplier_id = (whole_number(request.args.get("supplier_id"), low=1)
                   if actor.is_oversight else actor.organisation_id)
    errors: dict[str, list[str]] = {}
    try:
        month = reports.parse_month(request.args.get("month"))
    except ValidationFailed as exc:
        errors, month = _errors(exc), reports.months_back(1)[0]
    report = None
    if supplier_id is not None and not errors:
        report = reports.monthly_report(session, actor, supplier_id=supplier_id, month=month)
    if report is not None and request.args.get("format") == "pdf":
        html = render_template("supervision/price_report_pdf.html", report=report,
                               now=clock_now(), **_words())
        response = Response(render_pdf(html), mimetype="application/pdf")
        name = f"price-report-{report.supplier_id}-{month:%Y-%m}.pdf"
        response.headers["Content-Disposition"] = f'inline; filename="{name}"'
        return response
    return render_template("supervision/price_report.html", report=report, choices=choices,
                           months=reports.months_back(), month=month, supplier_id=supplier_id,
                           errors=errors, typed=request.args.get("month", ""),
                           **_words()), 422 if errors else 200
