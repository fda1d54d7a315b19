"""Pages of orders: the list, one order with the forms of the steps the user may take now,
and the one dispatch of those steps (mall.purchasing.orders.steps.transition); the
approver's queue, the notification inbox and the operator's disputed returns."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mall.core.auth import UNIT_STAFF, Role
from mall.core.clock import local_today
from mall.core.errors import (
    MallError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    translate_field_message,
)
from mall.core.inputs import page_number, whole_number
from mall.extensions import db
from mall.purchasing import registry
from mall.purchasing.orders import notifications, queries, returns, splitting
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.forms import form_schema
from mall.purchasing.orders.models import OrderStatus
from mall.purchasing.pages import PAGE_SIZE, blueprint, step_context
from mall.purchasing.payments.stripe_gateway import PaymentGatewayError
from mall.web import current_actor, page
from mall.web.forms import form_field_errors, read_form
from mall.web.security import safe_next
from mall.web.unit_of_work import keep_changes

# What the page says once a step is taken.
DONE = {
    "approve": _l("Order approved and sent to the supplier."),
    "return": _l("Order returned to the buyer and cancelled."),
    "confirm": _l("Order confirmed; its next step is shown below."),
    "decline": _l("Order declined."),
    "cancel": _l("Order cancelled; stock and budget were released."),
    "sign": _l("Contract signed."),
    "ship": _l("Shipment recorded."),
    "receive": _l("Goods marked as received."),
    "accept": _l("Acceptance recorded."),
    "invoice": _l("Invoice recorded."),
    "pay-card": _l("Card payment sent; the order shows as paid once the card network confirms it."),
    "pay-treasury": _l("Treasury payment recorded."),
    "cancel-card-check": _l("The bank's check was cancelled; nothing was charged. You may pay again."),
    "rate": _l("Thank you for rating the supplier."),
    "return-request": _l("Return requested; the supplier agrees or refuses it."),
    "return-agree": _l("Return agreed; the unit sends the goods back."),
    "return-refuse": _l("Return refused; the unit may ask the operator to decide."),
    "return-dispute": _l("The operator will decide the return."),
    "return-decide": _l("Decision recorded; both parties were told."),
    "return-ship": _l("Shipment of the returned goods recorded."),
    "return-receive": _l("Receipt of the returned goods recorded; the page shows the refund."),
    "return-refund-card": _l("Card refund sent."),
    "return-refund-treasury": _l("Refund recorded; budget and totals were released."),
}
STATE_MESSAGES = {
    "order_state_conflict": _l("This step is not possible at the order's current status; "
                               "the page shows where it stands now."),
}


@blueprint.route("/orders")
@page()
def orders_page():
    """The unit's orders (a supplier: the orders to it), newest first, by status."""
    actor = current_actor()
    status = request.args.get("status") or None
    if status not in {s.value for s in OrderStatus}:
        status = None
    number = page_number(request.args.get("page"))
    rows = order_steps.list_orders(db.session(), actor, status=status, limit=PAGE_SIZE,
                              offset=(number - 1) * PAGE_SIZE)
    total = queries.count_orders(db.session(), actor, status=status)
    names = queries.organisation_names(db.session(), {o.supplier_id for o in rows}
                                       | {o.buyer_org_id for o in rows})
    new = {whole_number(i) for i in request.args.get("new", "").split(",")} - {None}
    return render_template("purchasing/orders.html", rows=rows, names=names, status=status,
                           statuses=list(OrderStatus), new=new, page=number,
                           pages=max(1, -(-total // PAGE_SIZE)), total=total)


@blueprint.route("/orders/<int:order_id>")
@page()
def order_page(order_id: int):
    """One order: lines, timeline with deadlines, contract, notices, payments, and the forms of
    the steps the current user may take now."""
    return _render_order(order_id)


def _render_order(order_id: int, *, action: str | None = None, errors=None, form=None,
                  status: int = 200):
    actor = current_actor()
    order = order_steps.get_order(db.session(), actor, order_id)
    record = queries.order_record(db.session(), order,
                                  window_days=current_app.config["RETURN_WINDOW_DAYS"])
    allowed = queries.order_actions(actor, order, payment_in_progress=record.payment_in_progress,
                                    verification_pending=record.verification_pending,
                                    record=record)
    return_allowed = {ret.id: queries.return_actions(actor, order, ret, record)
                      for ret in record.returns}
    return render_template(
        "purchasing/order.html", order=order, record=record, allowed=allowed, action=action,
        approval=splitting.approval_reason(order),
        return_allowed=return_allowed,
        errors=errors or {}, form=form or {}, today=local_today().isoformat(),
        stripe_key=current_app.config.get("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe"),
        is_supplier=actor.organisation_id == order.supplier_id,
        payer=actor.organisation_id == order.buyer_org_id and actor.has_role(*UNIT_STAFF),
    ), status


@blueprint.route("/orders/<int:order_id>/<action>", methods=["POST"])
@page()
def order_action(order_id: int, action: str):
    """Take one step of the order; back to the page (or ``next``) with a message."""
    declared = registry.STEPS.get(action)
    if declared is None:
        abort(404)
    try:
        schema = form_schema(declared)
        data = read_form(schema, request.form)
        if declared.on_return:
            data["return_id"] = _return_id(request.form)
        registry.transition(db.session(), current_actor(), order_id, action, data, **step_context())
    except (NotFound, PermissionDenied):
        raise
    except MallError as exc:
        if exc.keeps_changes:
            keep_changes()
        errors = {}
        if isinstance(exc, ValidationFailed):
            errors = {key: [translate_field_message(m, _) for m in messages]
                      for key, messages in form_field_errors(schema, exc.errors).items()}
        if not errors:
            errors["_form"] = [_refusal_text(exc)]
        return _render_order(order_id, action=action, errors=errors, form=request.form,
                             status=exc.status)
    flash(str(DONE[action]), "success")
    default = url_for(".order_page", order_id=order_id)
    return redirect(safe_next(request.form.get("next"), default))


def _return_id(form) -> int:
    return_id = whole_number(form.get("return_id"))
    if return_id is None or return_id <= 0:
        raise NotFound()
    return return_id


def _refusal_text(exc: MallError) -> str:
    if exc.code in STATE_MESSAGES:
        return str(STATE_MESSAGES[exc.code])
    if isinstance(exc, PaymentGatewayError):
        return _("The card payment did not go through: %(reason)s", reason=exc.detail)
    return exc.translated(_)


@blueprint.route("/approvals")
@page(Role.APPROVER)
def approvals():
    """Orders of the unit above its approval amount, waiting for the approver."""
    actor = current_actor()
    rows = order_steps.list_orders(db.session(), actor, status=OrderStatus.PENDING_APPROVAL.value, limit=200)
    return render_template("purchasing/approvals.html", rows=rows,
                           names=queries.organisation_names(db.session(), {o.supplier_id for o in rows}),
                           reasons={o.id: splitting.approval_reason(o) for o in rows})


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
    notes = notifications.inbox(db.session(), actor, limit=100)
    unread = {n.id for n in notes if n.read_at is None}
    rows = [(n, notification_text(n)) for n in notes]
    if unread:  # a reading request takes the write lock only when something changes
        notifications.mark_read(db.session(), actor)
    return render_template("purchasing/notifications.html", rows=rows, unread=unread)


@blueprint.route("/disputes")
@page(Role.OPERATOR, Role.SUPERVISOR)
def disputes_page():
    """Returns the units took to the operator: those waiting for a decision first."""
    waiting = request.args.get("waiting") == "1"
    rows = returns.list_disputes(db.session(), current_actor(), waiting_only=waiting)
    names = queries.organisation_names(db.session(), {o.buyer_org_id for _r, o in rows}
                                       | {o.supplier_id for _r, o in rows})
    return render_template("purchasing/disputes.html", rows=rows, names=names, waiting=waiting)
