"""Pages of a purchasing unit's budget: its budget lines with what is reserved, committed,
spent and left, new lines, and the approver's approval amount."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from mall.core.auth import UNIT_STAFF, Role
from mall.core.errors import ValidationFailed
from mall.core.inputs import MAX_ID, whole_number
from mall.core.money import parse_yuan
from mall.extensions import db
from mall.purchasing.budget import services as budget
from mall.purchasing.orders import checkout, queries
from mall.purchasing.orders import services as orders
from mall.purchasing.pages import blueprint
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes


def _int(text) -> int | None:
    return whole_number(None if text is None else str(text), low=-MAX_ID, high=MAX_ID)


def _yuan(text: str, field: str, errors: dict) -> int | None:
    try:
        return parse_yuan(text or "")
    except ValueError:
        errors[field] = [_("Enter a price in yuan, e.g. 29.90.")]
        return None


def _render_budget(errors=None, form=None, status=200):
    actor = current_actor()
    return render_template(
        "purchasing/budget.html", lines=budget.budget_lines(db.session(), actor),
        totals=budget.totals(db.session(), actor.organisation_id),
        errors=errors or {},
        form=form or {"fiscal_year": str(checkout.fiscal_year())}, year=checkout.fiscal_year(),
        threshold=queries.approval_threshold(db.session(), actor.organisation_id)), status


@blueprint.route("/budget", methods=["GET", "POST"])
@page(*UNIT_STAFF)
def budget_page():
    """The unit's budget lines with what is reserved, committed, spent and left; new lines."""
    if request.method == "GET":
        return _render_budget()
    form = request.form
    errors: dict = {}
    year = _int(form.get("fiscal_year"))
    if year is None:
        errors["fiscal_year"] = [_("Enter a year such as %(year)d.", year=checkout.fiscal_year())]
    amount = _yuan(form.get("amount", ""), "amount", errors)
    try:
        budget.create_budget_line(
            db.session(), current_actor(), fiscal_year=year or 0, project_code=form.get("project_code", ""),
            project_name=form.get("project_name", ""),
            category_code=form.get("category_code", "").strip().upper(),
            amount_fen=amount if amount is not None else 1)
    except ValidationFailed as exc:
        errors = {**{("amount" if k == "amount_fen" else k): v for k, v in exc.errors.items()}, **errors}
    if errors:
        discard_changes()
        return _render_budget(errors, form, 422)
    flash(_("Budget line %(code)s added.", code=form.get("project_code", "").strip()), "success")
    return redirect(url_for(".budget_page"))


@blueprint.route("/budget/approval-threshold", methods=["POST"])
@page(Role.APPROVER)
def approval_threshold():
    """The approver sets the amount above which orders wait for internal approval."""
    errors: dict = {}
    text = request.form.get("approval_above", "").strip()
    amount = _yuan(text, "approval_above", errors) if text else None
    if not errors:
        try:
            orders.set_approval_threshold(db.session(), current_actor(), amount)
        except ValidationFailed as exc:
            errors = {"approval_above": exc.errors.get("approval_above_fen", [exc.detail])}
    if errors:
        discard_changes()
        return _render_budget(errors, request.form, 422)
    flash(_("Approval amount saved."), "success")
    return redirect(url_for(".budget_page"))
