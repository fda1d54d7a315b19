"""Pages of returns of goods: the return steps posted from the order page (they join the
order steps' dispatch table) and the operator's list of disputed returns."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mall.core.auth import Role
from mall.core.errors import NotFound, ValidationFailed
from mall.core.money import format_fen, parse_yuan
from mall.extensions import db
from mall.purchasing.orders import queries, returns
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.views import ACTIONS, STATUS_LABELS, _date, _int, _stripe, blueprint
from mall.web import current_actor, page

# The order's timeline: each return step is an entry of its own.
STATUS_LABELS.update({
    "return_requested": _l("Return requested"), "return_agreed": _l("Return agreed by the supplier"),
    "return_refused": _l("Return refused by the supplier"),
    "return_disputed": _l("Return taken to the operator"),
    "return_dispute_agreed": _l("Operator decided: the goods go back"),
    "return_dispute_rejected": _l("Operator decided: the goods stay"),
    "return_shipped": _l("Returned goods sent back"),
    "return_received": _l("Returned goods received by the supplier"),
    "return_refund_pending": _l("Card refund sent, waiting for the card network"),
    "return_refund_failed": _l("Card refund failed"),
    "return_refunded": _l("Money refunded"),
    "return_completed": _l("Return completed, less is due"),
})
RETURN_LABELS = {
    "requested": _l("Waiting for the supplier"), "refused": _l("Refused by the supplier"),
    "disputed": _l("Waiting for the operator's decision"), "agreed": _l("Agreed: send the goods back"),
    "shipped": _l("Sent back: waiting for the supplier's receipt"),
    "received": _l("Received: waiting for the refund"),
    "refund_pending": _l("Card refund processing"), "completed": _l("Completed"),
    "rejected": _l("Refused by the operator"),
}


@blueprint.app_context_processor
def inject_return_helpers():
    return {"return_label": lambda value: str(RETURN_LABELS.get(getattr(value, "value", value),
                                                                value))}


def _return_id(form) -> int:
    return_id = _int(form.get("return_id"))
    if return_id is None or return_id <= 0:
        raise NotFound()
    return return_id


def _request(actor, order_id: int, form) -> None:
    order = orders.get_order(db.session, actor, order_id)
    quantities, errors = {}, {}
    for line in order.lines:
        text = (form.get(f"quantity-{line.id}") or "").strip()
        if not text:
            continue
        value = _int(text)
        if value is None:
            errors[f"quantities.{line.id}"] = [_("Enter a whole number.")]
        else:
            quantities[line.id] = value
    try:
        returns.request_return(db.session, actor, order_id, quantities=quantities,
                               reason=form.get("reason", ""),
                               window_days=current_app.config["RETURN_WINDOW_DAYS"])
    except ValidationFailed as exc:
        exc.errors = {**exc.errors, **errors}
        raise
    if errors:
        raise ValidationFailed(errors=errors)


def _decide(actor, order_id: int, form) -> None:
    decision = form.get("decision", "")
    if decision not in ("agree", "refuse"):
        raise ValidationFailed(errors={"decision": [_("Choose whether the goods go back.")]})
    returns.decide_dispute(db.session, actor, order_id, _return_id(form), agree=decision == "agree",
                           note=form.get("note", ""))


def _refund_treasury(actor, order_id: int, form) -> None:
    errors: dict = {}
    refunded_on = _date(form.get("refunded_on"), "refunded_on", errors, required=True)
    try:
        amount = parse_yuan(form.get("amount", "") or "")
    except ValueError:
        amount = None
        errors["amount"] = [_("Enter the amount in yuan, e.g. 29.90.")]
    if errors:
        raise ValidationFailed(errors=errors)
    return_id = _return_id(form)
    try:
        returns.record_treasury_refund(db.session, actor, order_id, return_id,
                                       voucher_number=form.get("voucher_number", ""),
                                       refunded_on=refunded_on, amount_fen=amount)
    except ValidationFailed as exc:
        if "amount_fen" in exc.errors:
            order = orders.get_order(db.session, actor, order_id)
            due = next((r.refund_due_fen for r in returns.returns_of(db.session, order)
                        if r.id == return_id), 0)
            exc.errors["amount"] = [_("Enter the refund due: %(amount)s.", amount=format_fen(due))]
            del exc.errors["amount_fen"]
        raise


ACTIONS.update({
    "return-request": (_request, _l("Return requested; the supplier agrees or refuses it.")),
    "return-agree": (lambda a, o, f: returns.agree_return(db.session, a, o, _return_id(f)),
                     _l("Return agreed; the unit sends the goods back.")),
    "return-refuse": (lambda a, o, f: returns.refuse_return(db.session, a, o, _return_id(f),
                                                            reason=f.get("reason", "")),
                      _l("Return refused; the unit may ask the operator to decide.")),
    "return-dispute": (lambda a, o, f: returns.dispute_return(db.session, a, o, _return_id(f),
                                                              reason=f.get("reason", "")),
                       _l("The operator will decide the return.")),
    "return-decide": (_decide, _l("Decision recorded; both parties were told.")),
    "return-ship": (lambda a, o, f: returns.ship_return(
        db.session, a, o, _return_id(f), carrier=f.get("carrier", ""),
        tracking_number=f.get("tracking_number", "")), _l("Shipment of the returned goods recorded.")),
    "return-receive": (lambda a, o, f: returns.receive_return(db.session, a, o, _return_id(f),
                                                              settings=_stripe()),
                       _l("Receipt of the returned goods recorded; the page shows the refund.")),
    "return-refund-card": (lambda a, o, f: returns.retry_card_refund(db.session, a, o,
                                                                     _return_id(f),
                                                                     settings=_stripe()),
                           _l("Card refund sent.")),
    "return-refund-treasury": (_refund_treasury,
                               _l("Refund recorded; budget and totals were released.")),
})


@blueprint.route("/disputes")
@page(Role.OPERATOR, Role.SUPERVISOR)
def disputes_page():
    """Returns the units took to the operator: those waiting for a decision first."""
    waiting = request.args.get("waiting") == "1"
    rows = returns.list_disputes(db.session, current_actor(), waiting_only=waiting)
    names = queries.organisation_names(db.session, {o.buyer_org_id for _r, o in rows}
                                       | {o.supplier_id for _r, o in rows})
    return render_template("purchasing/disputes.html", rows=rows, names=names, waiting=waiting)
