"""Pages of direct purchase: cart, checkout, orders (buyers and suppliers) with every step of
their lifecycle, approvals, budget lines, notifications, and the public notices.

One module on purpose although it passes the house's ~400 lines: the order steps share one
dispatch table and one error path, and splitting the pages would scatter that table.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from catalog.search_forms import CartAddSchema
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import local_today
from mall.core.errors import MallError, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import MAX_ID, page_number, whole_number
from mall.core.money import format_fen, parse_yuan
from mall.extensions import db
from mall.i18n_messages import N_
from mall.purchasing.budget import services as budget
from mall.purchasing.contracts import services as contracts
from mall.purchasing.orders import cart, checkout, notifications, queries, splitting
from mall.purchasing.orders import services as orders
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.models import OrderStatus
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.stripe_gateway import PaymentGatewayError, StripeSettings
from mall.web import current_actor, load_form, optional_actor, page
from mall.web.security import safe_next, stored_document_policy

log = logging.getLogger(__name__)
blueprint = Blueprint("purchasing", __name__)
BUYERS = (Role.BUYER, Role.APPROVER)
UNIT_ROLES = (Role.BUYER, Role.APPROVER, Role.FINANCE)
PAGE_SIZE = 20

STATUS_LABELS = {
    "submitted": _l("Order submitted"), "approved": _l("Approved internally"),
    "pending_approval": _l("Waiting for internal approval"), "sent": _l("Sent to the supplier"),
    "confirmed": _l("Confirmed by the supplier"), "supplier_signed": _l("Signed by the supplier"),
    "signed": _l("Ready to ship (contract signed or settlement order issued)"),
    "shipped": _l("Shipped"), "delivered": _l("Received"),
    "accepted": _l("Accepted"), "invoiced": _l("Invoiced"), "paid": _l("Paid"),
    "rated": _l("Rated"), "cancelled": _l("Cancelled"), "returned": _l("Returned"),
    # payments
    "pending": _l("Payment pending"), "processing": _l("Payment processing"),
    "succeeded": _l("Payment succeeded"), "failed": _l("Payment failed"),
    "canceled": _l("Payment cancelled"), "requires_action": _l("Card needs confirmation"),
    # notices, acceptance, payment methods
    "result": _l("Result notice"), "contract": _l("Contract notice"),
    "pass": _l("Passed"), "partial": _l("Partly accepted"), "reject": _l("Rejected"),
    "card": _l("Official card"), "treasury": _l("Treasury transfer"),
    "medium": _l("Medium enterprise"), "small": _l("Small enterprise"),
    "micro": _l("Micro enterprise"),
}
# Fixed messages the services raise; listed so that they are extracted and translated.
SERVICE_MESSAGES = [
    N_("Enter the delivery address."), N_("Enter a contact name and phone number."),
    N_("Enter a delivery term of 1 to 180 days."),
    N_("The checkout token is missing; reload the page."), N_("The cart is empty."),
    N_("Not enough budget left on this line."), N_("Give a reason."),
    N_("Enter the carrier."), N_("Enter the tracking number."), N_("Enter the e-invoice number."),
    N_("Enter the payment voucher number."), N_("The payment date cannot be in the future."),
    N_("This voucher is already recorded."), N_("Choose pass, partial or reject."),
    N_("Say why the goods were not accepted in full."),
    N_("A partial acceptance keeps back at least one item."), N_("Give 1 to 5 stars."),
    N_("A confirmed price may be lowered, never raised."), N_("Enter a price in fen above zero."),
    N_("No such line on this order."), N_("Enter the card details."),
    N_("The contract you read is not the current one; reload it."),
    N_("The contract document was changed after it was made."),
    N_("The supplier signed another version of this contract."),
    N_("A payment of this order is still being processed."),
    N_("Nothing is left to pay on this order."), N_("The amount must be positive."),
    N_("Enter the budget project code."), N_("Enter a catalogue code such as A02010105."),
    N_("Enter zero or more."), N_("This offer is not on sale."),
]


def status_label(value) -> str:
    value = getattr(value, "value", value)
    return str(STATUS_LABELS.get(value, value))


# -- header helpers for every page ---------------------------------------------------------

def _cart_count() -> int:
    actor = optional_actor()
    if actor is None or actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        return 0
    try:
        return cart.count_items(db.session, actor)
    except SQLAlchemyError:  # a header badge must never break the error page being rendered
        log.warning("cart count unavailable", exc_info=True)
        return 0


def _unread_count() -> int:
    actor = optional_actor()
    if actor is None:
        return 0
    try:
        return notifications.unread_count(db.session, actor)
    except SQLAlchemyError:
        log.warning("unread count unavailable", exc_info=True)
        return 0


def _supplier_ratings(supplier_ids) -> dict:
    return queries.supplier_ratings(db.session, list(supplier_ids))


@blueprint.app_context_processor
def inject_purchasing_helpers():
    return {"cart_count": _cart_count, "unread_notifications": _unread_count,
            "supplier_ratings": _supplier_ratings, "status_label": status_label}


def _say(messages) -> str:
    return "; ".join(_(m) for m in messages)


def _int(text) -> int | None:
    """A whole number typed into a form (ids, quantities, days: INTEGER columns); None if it
    is none or out of that range (a field error, never an overflow in the database driver)."""
    return whole_number(None if text is None else str(text), low=-MAX_ID, high=MAX_ID)


def _yuan(text: str, field: str, errors: dict) -> int | None:
    try:
        return parse_yuan(text or "")
    except ValueError:
        errors[field] = [_("Enter a price in yuan, e.g. 29.90.")]
        return None


# -- cart ---------------------------------------------------------------------------------------

@blueprint.route("/cart/add", methods=["POST"])
@page(*BUYERS)
def cart_add():
    """Put an offer in the cart from the product page, then go back there."""
    actor = current_actor()
    back = safe_next(request.form.get("next"), url_for("catalog.search"))
    try:
        data = load_form(CartAddSchema(), request.form.to_dict())
        cart.add_item(db.session, actor, offer_id=data["offer_id"], quantity=data["quantity"])
    except NotFound:
        db.session.rollback()
        flash(_("This offer is no longer available."), "error")
        return redirect(back)
    except cart.OutOfStock as exc:
        db.session.rollback()
        flash(_("Not added to your cart: %(reason)s", reason=exc.translated(_)), "error")
        return redirect(back)
    except ValidationFailed as exc:
        db.session.rollback()
        reason = _say(sum(exc.errors.values(), [])) or exc.translated(_)
        flash(_("Not added to your cart: %(reason)s", reason=reason), "error")
        return redirect(back)
    flash(_("Added to your cart (%(count)d items).", count=cart.count_items(db.session, actor)),
          "success")
    return redirect(back)


def limit_notes(preview: checkout.CheckoutPreview) -> list[tuple[str, str]]:
    """(level, message) for each category near or past the direct-purchase limit and each
    supplier's order past it; "error" blocks checking out, "warning" only tells."""
    notes = []
    for check in preview.checks:
        if check.blocked:  # the very refusal checkout would give
            notes.append(("error", budget.limit_exceeded(check).translated(_)))
        elif check.warning:
            notes.append(("warning", _(
                "Category %(code)s: with this cart the unit's direct purchases this fiscal year "
                "reach %(after)s, %(percent)d%% of the direct-purchase limit of %(limit)s.",
                code=check.category_code, after=format_fen(check.after_fen),
                percent=check.after_fen * 100 // check.limit_fen, limit=format_fen(check.limit_fen))))
    limit = preview.checks[0].limit_fen if preview.checks else None
    for group in preview.cart.groups:
        if limit is not None and group.total_fen > limit:
            notes.append(("error", _(budget.ORDER_LIMIT_MESSAGE, supplier=group.supplier_name,
                                     order=format_fen(group.total_fen), limit=format_fen(limit))))
    return notes


def line_problems(preview: checkout.CheckoutPreview) -> dict[int, str]:
    """Offer id → what stops that cart line from being bought."""
    problems = {}
    for group in preview.cart.groups:
        for line in group.lines:
            if not line.available:
                problems[line.offer_id] = _("No longer on sale; remove it from the cart.")
            elif line.short_of_stock:
                problems[line.offer_id] = _("Only %(stock)d in stock.", stock=line.stock)
    return problems


def _render_cart(errors=None, typed=None, status=200):
    preview = checkout.preview(db.session, current_actor())
    return render_template("purchasing/cart.html", preview=preview, notes=limit_notes(preview),
                           problems=line_problems(preview), errors=errors or {},
                           typed=typed or {}), status


@blueprint.route("/cart")
@page(*BUYERS)
def cart_page():
    """The cart grouped by supplier, with the limit standing and lines that cannot be bought."""
    return _render_cart()


@blueprint.route("/cart/update", methods=["POST"])
@page(*BUYERS)
def cart_update():
    """Save the quantities typed in the cart (0 removes a line)."""
    actor = current_actor()
    typed, errors = {}, {}
    for group in cart.view_cart(db.session, actor).groups:
        for line in group.lines:
            key = f"quantity-{line.offer_id}"
            if key not in request.form:
                continue
            typed[key] = request.form[key]
            quantity = _int(request.form[key])
            if quantity is None or quantity < 0:
                errors[key] = [_("Enter a whole number (0 removes the line).")]
                continue
            try:
                cart.set_quantity(db.session, actor, offer_id=line.offer_id, quantity=quantity)
            except cart.OutOfStock as exc:
                errors[key] = [exc.translated(_)]
            except ValidationFailed as exc:
                errors[key] = [_(m) for m in exc.errors.get("quantity", [])] or [exc.translated(_)]
    if errors:
        db.session.rollback()
        return _render_cart(errors, typed, 422)
    flash(_("Cart updated."), "success")
    return redirect(url_for(".cart_page"))


@blueprint.route("/cart/remove", methods=["POST"])
@page(*BUYERS)
def cart_remove():
    try:
        cart.set_quantity(db.session, current_actor(), offer_id=_int(request.form.get("offer_id")) or 0,
                          quantity=0)
    except NotFound:
        db.session.rollback()
        flash(_("That line is no longer in your cart."), "error")
    else:
        flash(_("Removed from your cart."), "success")
    return redirect(url_for(".cart_page"))


# -- checkout ---------------------------------------------------------------------------------

@blueprint.route("/checkout", methods=["GET", "POST"])
@page(*BUYERS)
def checkout_page():
    """Choose the budget line and delivery; one order per supplier; a token per form."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    refusals: list[str] = []
    status = 200
    if request.method == "POST":
        form = request.form
        line_id = _int(form.get("budget_line_id"))
        typed_days = form.get("delivery_days", "").strip()
        # Empty: the default term; anything else must be a whole number of days (else refused).
        days = _int(typed_days) or 0 if typed_days else checkout.DEFAULT_DELIVERY_DAYS
        try:
            result = checkout.checkout(
                db.session, actor, budget_line_id=line_id or 0, token=form.get("token", ""),
                delivery_address=form.get("delivery_address", ""), contact=form.get("contact", ""),
                secret=form.get("secret") in ("1", "on", "true"), delivery_days=days)
        except MallError as exc:
            db.session.rollback()
            errors, refusals = _checkout_refusal(exc)
            status = 422 if isinstance(exc, ValidationFailed | NotFound) else exc.status
            if line_id is None:
                errors["budget_line_id"] = [_("Choose a budget line.")]
        else:
            return _after_checkout(result)
    else:
        form = {"token": secrets.token_urlsafe(24)}
    preview = checkout.preview(db.session, actor)
    if not preview.cart.groups and not refusals:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for(".cart_page"))
    year = checkout.fiscal_year()
    return render_template("purchasing/checkout.html", form=form, errors=errors, refusals=refusals,
                           preview=preview, notes=limit_notes(preview), year=year,
                           problems=line_problems(preview),
                           lines=budget.budget_lines(db.session, actor, fiscal_year=year)), status


def _after_checkout(result: checkout.CheckoutResult):
    numbers = ", ".join(o.number for o in result.orders)
    if result.replayed:
        flash(_("This checkout was already submitted; these are its orders: %(numbers)s",
                numbers=numbers), "info")
    else:
        flash(_("Orders submitted, one per supplier: %(numbers)s", numbers=numbers), "success")
    for check in result.warnings:
        flash(_("Category %(code)s: the unit's direct purchases this fiscal year now reach "
                "%(after)s of the %(limit)s limit; larger purchases need a bidding round.",
                code=check.category_code, after=format_fen(check.after_fen),
                limit=format_fen(check.limit_fen)), "warning")
    return redirect(url_for(".orders_page", new=",".join(str(o.id) for o in result.orders)))


def _checkout_refusal(exc: MallError) -> tuple[dict, list[str]]:
    """Field errors, and messages about the cart (stock, limits), of a refused checkout."""
    if isinstance(exc, NotFound):
        return {"budget_line_id": [_("Choose a budget line.")]}, []
    if isinstance(exc, budget.BudgetExhausted):
        return {"budget_line_id": [exc.translated(_)]}, []
    if isinstance(exc, ValidationFailed):
        errors = dict(exc.errors)
        return errors, [_(m) for m in errors.pop("cart", [])]
    return {}, [exc.translated(_)]  # OutOfStock, LimitExceeded: name the line, limit, total


# -- orders -------------------------------------------------------------------------------------

@blueprint.route("/orders")
@page()
def orders_page():
    """The unit's orders (a supplier: the orders to it), newest first, by status."""
    actor = current_actor()
    status = request.args.get("status") or None
    if status not in {s.value for s in OrderStatus}:
        status = None
    number = page_number(request.args.get("page"))
    rows = order_steps.list_orders(db.session, actor, status=status, limit=PAGE_SIZE,
                              offset=(number - 1) * PAGE_SIZE)
    total = queries.count_orders(db.session, actor, status=status)
    names = queries.organisation_names(db.session, {o.supplier_id for o in rows}
                                       | {o.buyer_org_id for o in rows})
    new = {_int(i) for i in request.args.get("new", "").split(",")} - {None}
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
    order = orders.get_order(db.session, actor, order_id)
    record = queries.order_record(db.session, order,
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
        payer=actor.organisation_id == order.buyer_org_id and actor.has_role(*order_steps.PAYER_ROLES),
    ), status


@blueprint.route("/orders/<int:order_id>/contract")
@page()
def contract(order_id: int):
    """The contract as signed (HTML), or ?format=pdf; X-Contract-SHA256 is its fingerprint."""
    from mall.purchasing.contracts.document import render_pdf

    document = contracts.get_contract(db.session, current_actor(), order_id)
    if request.args.get("format") == "pdf":
        response = Response(render_pdf(document.html), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{document.number}.pdf"'
    else:
        response = Response(document.html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = stored_document_policy(document.html)
    response.headers["X-Contract-SHA256"] = document.sha256
    return response


def _stripe() -> StripeSettings:
    return StripeSettings.from_config(current_app.config)


def _confirm(actor, order_id: int, form) -> None:
    order = orders.get_order(db.session, actor, order_id)
    prices, errors = {}, {}
    for line in order.lines:
        text = (form.get(f"price-{line.id}") or "").strip()
        if not text:
            continue
        price = _yuan(text, f"prices.{line.id}", errors)
        if price is not None and price != line.unit_price_fen:
            prices[line.id] = price
    if errors:
        raise ValidationFailed(errors=errors)
    orders.confirm(db.session, actor, order_id, prices)


def _sign(actor, order_id: int, form) -> None:
    order = orders.get_order(db.session, actor, order_id)
    sha256 = form.get("sha256") or None
    if actor.organisation_id == order.supplier_id:
        contracts.sign_as_supplier(db.session, actor, order_id, sha256)
    else:
        contracts.sign_as_buyer(db.session, actor, order_id, sha256)


def _date(text: str | None, field: str, errors: dict, *, required: bool) -> date | None:
    if not (text or "").strip():
        if required:
            errors[field] = [_("Not a valid date.")]
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = [_("Not a valid date.")]
        return None


def _accept(actor, order_id: int, form) -> None:
    order = orders.get_order(db.session, actor, order_id)
    errors: dict = {}
    on = _date(form.get("accepted_on"), "accepted_on", errors, required=False)
    quantities = {}
    if form.get("result") == "partial":
        for line in order.lines:
            value = _int(form.get(f"quantity-{line.id}", line.quantity))
            quantities[line.id] = -1 if value is None else value  # the service names the range
    if errors:
        raise ValidationFailed(errors=errors)
    orders.accept(db.session, actor, order_id, result=form.get("result", ""),
                  quantities=quantities, reasons=form.get("reasons", ""), accepted_on=on)


def _pay_treasury(actor, order_id: int, form) -> None:
    errors: dict = {}
    paid_on = _date(form.get("paid_on"), "paid_on", errors, required=True)
    amount = _yuan(form.get("amount", ""), "amount", errors)
    if errors:
        raise ValidationFailed(errors=errors)
    try:
        payments.record_treasury_payment(db.session, actor, order_id,
                                         voucher_number=form.get("voucher_number", ""),
                                         paid_on=paid_on, amount_fen=amount)
    except ValidationFailed as exc:
        if "amount_fen" in exc.errors:
            due = orders.get_order(db.session, actor, order_id).amount_due_fen
            exc.errors["amount"] = [_("Enter the amount due: %(amount)s.", amount=format_fen(due))]
            del exc.errors["amount_fen"]
        raise


def _rate(actor, order_id: int, form) -> None:
    orders.rate(db.session, actor, order_id, quality=_int(form.get("quality")) or 0,
                delivery=_int(form.get("delivery")) or 0, service=_int(form.get("service")) or 0,
                comment=form.get("comment", ""))


ACTIONS = {
    "approve": (lambda a, o, f: orders.approve(db.session, a, o),
                _l("Order approved and sent to the supplier.")),
    "return": (lambda a, o, f: orders.return_to_buyer(db.session, a, o, f.get("reason", "")),
               _l("Order returned to the buyer and cancelled.")),
    "confirm": (_confirm, _l("Order confirmed; its next step is shown below.")),
    "decline": (lambda a, o, f: orders.decline(db.session, a, o, f.get("reason", "")),
                _l("Order declined.")),
    "cancel": (lambda a, o, f: orders.cancel(db.session, a, o, f.get("reason", "")),
               _l("Order cancelled; stock and budget were released.")),
    "sign": (_sign, _l("Contract signed.")),
    "ship": (lambda a, o, f: orders.ship(db.session, a, o, carrier=f.get("carrier", ""),
                                         tracking_number=f.get("tracking_number", "")),
             _l("Shipment recorded.")),
    "receive": (lambda a, o, f: orders.receive(db.session, a, o), _l("Goods marked as received.")),
    "accept": (_accept, _l("Acceptance recorded.")),
    "invoice": (lambda a, o, f: orders.invoice(db.session, a, o,
                                               invoice_number=f.get("invoice_number", "")),
                _l("Invoice recorded.")),
    "pay-card": (lambda a, o, f: payments.pay_by_card(
        db.session, a, o, _stripe(), payment_method=f.get("payment_method", "")),
        _l("Card payment sent; the order shows as paid once the card network confirms it.")),
    "pay-treasury": (_pay_treasury, _l("Treasury payment recorded.")),
    "cancel-card-check": (lambda a, o, f: payments.cancel_card_verification(
        db.session, a, o, _stripe()),
        _l("The bank's check was cancelled; nothing was charged. You may pay again.")),
    "rate": (_rate, _l("Thank you for rating the supplier.")),
}
STATE_MESSAGES = {
    "order_state_conflict": _l("This step is not possible at the order's current status; "
                               "the page shows where it stands now."),
}


@blueprint.route("/orders/<int:order_id>/<action>", methods=["POST"])
@page()
def order_action(order_id: int, action: str):
    """Take one step of the order; back to the page (or ``next``) with a message."""
    if action not in ACTIONS:
        abort(404)
    call, done = ACTIONS[action]
    try:
        call(current_actor(), order_id, request.form)
    except (NotFound, PermissionDenied):
        db.session.rollback()
        raise
    except MallError as exc:
        if action == "pay-card" and isinstance(exc, PaymentGatewayError) \
                and exc.code == "payment_failed":
            db.session.commit()  # keep the declined attempt: the next one needs a new key
        else:
            db.session.rollback()
        errors = {}
        if isinstance(exc, ValidationFailed):
            errors = {key: [_(m) for m in messages] for key, messages in exc.errors.items()}
        if not errors:
            errors["_form"] = [_refusal_text(exc)]
        return _render_order(order_id, action=action, errors=errors, form=request.form,
                             status=exc.status)
    flash(str(done), "success")
    default = url_for(".order_page", order_id=order_id)
    return redirect(safe_next(request.form.get("next"), default))


def _refusal_text(exc: MallError) -> str:
    if exc.code in STATE_MESSAGES:
        return str(STATE_MESSAGES[exc.code])
    if isinstance(exc, PaymentGatewayError):
        return _("The card payment did not go through: %(reason)s", reason=exc.detail)
    return exc.translated(_)


# The unit's own pages (approvals, budget, inbox) and the public notices live in
# unit_views, the return steps (they join ACTIONS) and the operator's disputes page in
# return_views; they register on this blueprint when imported here.
from mall.purchasing.orders import return_views, unit_views  # noqa: E402,F401
