"""Pages of a purchasing unit around its orders (approvals, budget lines and the approval
amount, the notification inbox) and the public notices, on the ``purchasing`` blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from mall.core.auth import Role
from mall.core.errors import NotFound, ValidationFailed
from mall.extensions import db
from mall.purchasing.budget import services as budget
from mall.purchasing.contracts import notices
from mall.purchasing.contracts.models import NoticeKind
from mall.purchasing.orders import checkout, notifications, queries, splitting
from mall.purchasing.orders import services as orders
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.models import OrderStatus
from mall.purchasing.orders.views import UNIT_ROLES, _int, _yuan, blueprint
from mall.web import current_actor, page


@blueprint.route("/approvals")
@page(Role.APPROVER)
def approvals():
    """Orders of the unit above its approval amount, waiting for the approver."""
    actor = current_actor()
    rows = order_steps.list_orders(db.session, actor, status=OrderStatus.PENDING_APPROVAL.value, limit=200)
    return render_template("purchasing/approvals.html", rows=rows,
                           names=queries.organisation_names(db.session, {o.supplier_id for o in rows}),
                           reasons={o.id: splitting.approval_reason(o) for o in rows})


# -- budget lines and the approval amount ------------------------------------------------------

def _render_budget(errors=None, form=None, status=200):
    actor = current_actor()
    return render_template(
        "purchasing/budget.html", lines=budget.budget_lines(db.session, actor),
        totals=budget.totals(db.session, actor.organisation_id),
        errors=errors or {},
        form=form or {"fiscal_year": str(checkout.fiscal_year())}, year=checkout.fiscal_year(),
        threshold=queries.approval_threshold(db.session, actor.organisation_id)), status


@blueprint.route("/budget", methods=["GET", "POST"])
@page(*UNIT_ROLES)
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
            db.session, current_actor(), fiscal_year=year or 0, project_code=form.get("project_code", ""),
            project_name=form.get("project_name", ""),
            category_code=form.get("category_code", "").strip().upper(),
            amount_fen=amount if amount is not None else 1)
    except ValidationFailed as exc:
        errors = {**{("amount" if k == "amount_fen" else k): v for k, v in exc.errors.items()}, **errors}
    if errors:
        db.session.rollback()
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
            orders.set_approval_threshold(db.session, current_actor(), amount)
        except ValidationFailed as exc:
            errors = {"approval_above": exc.errors.get("approval_above_fen", [exc.detail])}
    if errors:
        db.session.rollback()
        return _render_budget(errors, request.form, 422)
    flash(_("Approval amount saved."), "success")
    return redirect(url_for(".budget_page"))


# -- notifications ------------------------------------------------------------------------------

def notification_text(note) -> str:
    try:
        return _(note.message, **(note.params or {}))
    except (KeyError, ValueError, TypeError):  # a message whose parameters changed since
        return _(note.message) if not note.params else note.message


@blueprint.route("/notifications")
@page()
def notifications_page():
    """The organisation's messages, newest first; opening the page marks them read."""
    actor = current_actor()
    notes = notifications.inbox(db.session, actor, limit=100)
    unread = {n.id for n in notes if n.read_at is None}
    rows = [(n, notification_text(n)) for n in notes]
    notifications.mark_read(db.session, actor)
    return render_template("purchasing/notifications.html", rows=rows, unread=unread)


# -- public notices -------------------------------------------------------------------------------

@blueprint.route("/notices")
def notices_page():
    """Published result and contract notices, searchable without logging in."""
    from mall.purchasing.orders.schemas import NoticeQuerySchema
    from mall.web import flatten_messages

    raw = {k: v.strip() for k, v in request.args.items() if v.strip()}
    schema = NoticeQuerySchema()
    errors = {k: [_(m) for m in v] for k, v in flatten_messages(schema.validate(raw)).items()
              if k in schema.fields}
    query = schema.load({k: v for k, v in raw.items() if k not in errors and k in schema.fields})
    query["page_size"] = min(query["page_size"], 50)
    rows, total = notices.search_notices(db.session, notices.NoticeFilter(**query))
    return render_template("purchasing/notices.html", rows=rows, total=total, raw=raw,
                           errors=errors, kinds=list(NoticeKind), page=query["page"],
                           pages=max(1, -(-total // query["page_size"])))


@blueprint.route("/notices/<int:notice_id>")
def notice_page(notice_id: int):
    notice = notices.get_notice(db.session, notice_id)
    if notice is None:
        raise NotFound()
    return render_template("purchasing/notice.html", notice=notice, body=notice.body or {})
