"""Pages of complaints (投诉): the supplier complains about its answered challenge and reads the
decision; the supervisor's worklist (pending first, the overdue first, with the working days
left), the complaint page where the supervisor suspends the round or decides; a round's
complaints for its unit and oversight; the published decisions (投诉处理决定公告), public.

Registered on bidding_rounds.pages.blueprint; the app imports this module."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bidding_rounds import complaint_reads, complaints
from bidding_rounds.page_helpers import FAILURES, translated_errors
from bidding_rounds.pages import blueprint
from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF, UNIT_STAFF, OrganisationKind, Role
from mall.core.errors import MallError, ValidationFailed
from mall.core.inputs import page_number, whole_number
from mall.extensions import db
from mall.purchasing.contracts.views import ROUND_REASONS
from mall.web import current_actor, optional_actor, page
from mall.web.unit_of_work import discard_changes

PAGE_SIZE = 20
COMPLAINT_STATUS = {
    "pending": _l("Waiting for the supervisor's decision"),
    "dismissed": _l("Complaint dismissed"), "upheld": _l("Complaint upheld"),
    "decided": _l("Decided"), "all": _l("All"),
}
REMEDIES = {
    "strike": _l("A quote struck; the award passes to the next in rank"),
    "void": _l("The result voided: the round fails and may be run again"),
    "finding": _l("A finding only: the result stands"),
}
# A round failed because an upheld complaint voided its result: its name on the round page
# and on the failure notice.
FAILURES[complaints.VOIDED] = _l("The supervisor voided the result after a complaint")
ROUND_REASONS[complaints.VOIDED] = _l("The supervisor upheld a complaint and voided the result")


@blueprint.app_context_processor
def inject_complaint_helpers():
    def complaint_status(value) -> str:
        key = str(getattr(value, "value", value))
        return str(COMPLAINT_STATUS.get(key, key))

    def complaint_remedy(value) -> str:
        key = str(getattr(value, "value", value))
        return str(REMEDIES.get(key, key))

    def round_complaint_rows(round_id: int) -> list[complaint_reads.ComplaintRow]:
        # For the round page's complaint section: that page has authorised the round.
        return complaint_reads.complaints_of_round(db.session(), round_id)

    return {"complaint_status": complaint_status, "complaint_remedy": complaint_remedy,
            "round_complaint_rows": round_complaint_rows}


def _errors(exc: MallError) -> dict[str, list[str]]:
    errors = translated_errors(exc.errors) if isinstance(exc, ValidationFailed) else {}
    if not errors:
        errors["_form"] = [exc.translated(_)]
    return errors


# -- the supplier -----------------------------------------------------------------------------

@blueprint.route("/challenges/<int:challenge_id>/complaint", methods=["GET", "POST"])
@page(*SUPPLIER_STAFF)
def complaint_form(challenge_id: int):
    """The challenger complains to the supervisor (once, within 15 working days of the end of
    the answer period); afterwards, the complaint and its decision."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            complaints.file_complaint(db.session(), actor, challenge_id,
                                      grounds=request.form.get("grounds", ""),
                                      request=request.form.get("request", ""))
        except MallError as exc:
            discard_changes()
            if exc.status == 404:
                raise
            errors, status = _errors(exc), exc.status
        else:
            flash(_("Your complaint was filed; the supervisor decides it within 30 working "
                    "days."), "success")
            return redirect(url_for(".complaint_form", challenge_id=challenge_id))
    view = complaint_reads.filing_view(db.session(), actor, challenge_id)
    return render_template("bidding_rounds/complaint_form.html", view=view, errors=errors,
                           form=request.form), status


@blueprint.route("/complaints/mine")
@page(*SUPPLIER_STAFF)
def my_complaints():
    """The supplier's complaints with their decisions."""
    rows = complaint_reads.my_complaints(db.session(), current_actor())
    return render_template("bidding_rounds/complaint_mine.html", rows=rows)


# -- the supervisor ---------------------------------------------------------------------------

@blueprint.route("/complaints")
@page(*OVERSIGHT_STAFF)
def complaints_page():
    """The supervisor's worklist (the operator reads it): pending complaints by their decision
    deadline, the overdue first; decided ones newest first."""
    chosen = request.args.get("status", "pending")
    if chosen not in complaint_reads.STATUSES:
        chosen = "pending"
    rows = complaint_reads.worklist(db.session(), current_actor(), status=chosen)
    return render_template("bidding_rounds/complaints.html", rows=rows, status=chosen,
                           statuses=complaint_reads.STATUSES)


def _can_decide() -> bool:
    actor = current_actor()
    return (actor.organisation_kind is OrganisationKind.SUPERVISOR
            and actor.has_role(Role.SUPERVISOR))


def _render_complaint(complaint_id: int, *, errors: dict[str, list[str]] | None = None,
                      status: int = 200):
    session = db.session()
    row = complaint_reads.complaint_row(session, current_actor(), complaint_id)
    return render_template(
        "bidding_rounds/complaint.html", row=row, errors=errors or {},
        form=request.form if request.method == "POST" else {},
        quotes=complaint_reads.strikable_quotes(session, row.round.id),
        can_decide=_can_decide(), remedies=REMEDIES), status


@blueprint.route("/complaints/<int:complaint_id>")
@page(*OVERSIGHT_STAFF)
def complaint_page(complaint_id: int):
    """One complaint with its challenge and the round's ranking; the supervisor's actions."""
    return _render_complaint(complaint_id)


@blueprint.route("/complaints/<int:complaint_id>/suspend", methods=["POST"])
@page(Role.SUPERVISOR)
def suspend_complaint_round(complaint_id: int):
    """Suspend the round while deciding (暂停采购活动): no confirmation nor signing meanwhile."""
    try:
        complaints.suspend(db.session(), current_actor(), complaint_id)
    except MallError as exc:
        discard_changes()
        if exc.status == 404:
            raise
        return _render_complaint(complaint_id, errors=_errors(exc), status=exc.status)
    flash(_("The round is suspended until the decision; the unit and the winner were told."),
          "success")
    return redirect(url_for(".complaint_page", complaint_id=complaint_id))


@blueprint.route("/complaints/<int:complaint_id>/decide", methods=["POST"])
@page(Role.SUPERVISOR)
def decide_complaint(complaint_id: int):
    """Dismiss or uphold (with its remedy) the complaint, with the reasons; published."""
    form = request.form
    try:
        complaints.decide(db.session(), current_actor(), complaint_id,
                          decision=form.get("decision", ""), reason=form.get("reason", ""),
                          remedy=form.get("remedy") or None,
                          strike_quote_id=whole_number(form.get("strike_quote_id"), low=1))
    except MallError as exc:
        discard_changes()
        if exc.status == 404:
            raise
        return _render_complaint(complaint_id, errors=_errors(exc), status=exc.status)
    flash(_("The complaint was decided and the decision published; the complainant, the unit "
            "and the operator were told."), "success")
    return redirect(url_for(".complaint_page", complaint_id=complaint_id))


# -- the round's unit and oversight -----------------------------------------------------------

@blueprint.route("/<int:round_id>/complaints")
@page(*UNIT_STAFF, *OVERSIGHT_STAFF)
def round_complaints(round_id: int):
    """A round's complaints: filed, suspended, decided, as its unit and oversight see them."""
    rows = complaint_reads.round_complaints(db.session(), current_actor(), round_id)
    return render_template("bidding_rounds/complaint_round.html", rows=rows,
                           round_id=round_id, number=rows[0].round.number if rows else None)


# -- the public decision notices --------------------------------------------------------------

@blueprint.route("/complaints/decisions")
def published_decisions():
    """The supervisor's decisions on complaints (投诉处理决定公告), readable without logging in."""
    number = page_number(request.args.get("page"))
    rows, total = complaint_reads.published_decisions(db.session(), page=number,
                                                      page_size=PAGE_SIZE)
    return render_template("bidding_rounds/complaint_decisions.html", rows=rows, page=number,
                           pages=max(1, -(-total // PAGE_SIZE)), total=total,
                           signed_in=optional_actor() is not None)


@blueprint.route("/complaints/decisions/<int:complaint_id>")
def published_decision(complaint_id: int):
    """One decision notice: the complainant, the round, the decision, its reasons."""
    row = complaint_reads.published_decision(db.session(), complaint_id)
    return render_template("bidding_rounds/complaint_notice.html", row=row)
