"""Purchasing API: /api/v1/cart, /api/v1/orders (+ transitions), /api/v1/budget-lines,
the Stripe webhook, and the public notices feed."""

from __future__ import annotations

import hashlib
import secrets

from flask import Response, current_app, g, request

from mall.core.auth import Role, Scope
from mall.extensions import db
from mall.purchasing.budget import services as budget
from mall.purchasing.contracts import notices
from mall.purchasing.contracts import services as contracts
from mall.purchasing.orders import cart, checkout, returns
from mall.purchasing.orders import services as orders
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.schemas import (
    AcceptSchema,
    BudgetLineInSchema,
    BudgetLineSchema,
    CardPaymentSchema,
    CardVerificationSchema,
    CartItemInSchema,
    CartSchema,
    CheckoutResultSchema,
    CheckoutSchema,
    ConfirmSchema,
    DisputeDecisionSchema,
    DisputeQuerySchema,
    DisputeSchema,
    EmptySchema,
    InvoiceSchema,
    NoticePageSchema,
    NoticeQuerySchema,
    NoticeSchema,
    OrderQuerySchema,
    OrderSchema,
    PaymentSchema,
    QuantitySchema,
    RateSchema,
    ReasonSchema,
    ReturnCreateSchema,
    ReturnNoteSchema,
    ReturnSchema,
    ReturnShipSchema,
    ShipSchema,
    SignSchema,
    TreasuryPaymentSchema,
    TreasuryRefundSchema,
)
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.stripe_gateway import PaymentGatewayError, StripeSettings, parse_webhook
from mall.web import current_actor
from mall.web.access import access
from mall.web.idempotency import (
    OPENAPI_DOC,
    REPLAYED_HEADER,
    idempotency_key,
    this_request_fingerprint,
)
from mall.web.parsing import Blueprint
from mall.web.security import stored_document_policy

blueprint = Blueprint("purchasing_api", __name__, url_prefix="",
                      description="Cart, checkout, orders and their steps, payments, notices")
CHECKOUT_KEY_DOC = {"parameters": [{
    **OPENAPI_DOC["parameters"][0],
    "description": "Any unique string (a UUID) per checkout, per user. A retry with the same "
                   "key and body gets the orders of the first checkout back (as they stand "
                   f"now, with the header {REPLAYED_HEADER}: true) and buys nothing twice; the "
                   "same key with another body is refused (idempotency_key_reused). A checkout "
                   "keeps its key for good."}], "responses": {
    "409": {"description": "Refused: out_of_stock, budget_exhausted, "
                           "direct_purchase_limit_exceeded, idempotency_key_reused (the key "
                           "was sent with another request)."}}}


BUYERS = (Role.BUYER, Role.APPROVER)
PAYERS = (Role.FINANCE, Role.BUYER, Role.APPROVER)
SUPPLIER_STAFF = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR)
UNIT_STAFF = (Role.BUYER, Role.APPROVER, Role.FINANCE)
# Who may read orders: the unit's staff, the supplier's staff, the operator and the supervisor.
ORDER_READERS = (*UNIT_STAFF, *SUPPLIER_STAFF, Role.OPERATOR, Role.SUPERVISOR)


def _cart_answer(actor):
    view = cart.view_cart(db.session, actor)
    checks = checkout.preview(db.session, actor).checks if view.groups else []
    return {"groups": view.groups, "total_fen": view.total_fen, "count": view.count,
            "checks": checks}


@blueprint.route("/cart")
@access(Scope.ORDERS_READ, *BUYERS)
@blueprint.response(200, CartSchema)
def get_cart():
    """Your cart grouped by supplier at today's prices, with the limit standing per category."""
    return _cart_answer(current_actor())


@blueprint.route("/cart/items", methods=["POST"])
@access(Scope.ORDERS_WRITE, *BUYERS)
@blueprint.arguments(CartItemInSchema)
@blueprint.response(201, CartSchema)
def add_cart_item(data):
    """Put an offer in the cart (quantities add up); refused beyond the stock."""
    actor = current_actor()
    cart.add_item(db.session, actor, **data)
    return _cart_answer(actor)


@blueprint.route("/cart/items/<int:offer_id>", methods=["PUT"])
@access(Scope.ORDERS_WRITE, *BUYERS)
@blueprint.arguments(QuantitySchema)
@blueprint.response(200, CartSchema)
def set_cart_quantity(data, offer_id: int):
    """Change a line's quantity; 0 removes it."""
    actor = current_actor()
    cart.set_quantity(db.session, actor, offer_id=offer_id, quantity=data["quantity"])
    return _cart_answer(actor)


@blueprint.route("/cart/items/<int:offer_id>", methods=["DELETE"])
@access(Scope.ORDERS_WRITE, *BUYERS)
@blueprint.response(200, CartSchema)
def remove_cart_item(offer_id: int):
    actor = current_actor()
    cart.set_quantity(db.session, actor, offer_id=offer_id, quantity=0)
    return _cart_answer(actor)


@blueprint.route("/orders/checkout", methods=["POST"])
@access(Scope.ORDERS_WRITE, *BUYERS)
@blueprint.arguments(CheckoutSchema)
@blueprint.response(201, CheckoutResultSchema)
@blueprint.doc(**CHECKOUT_KEY_DOC)
def checkout_orders(data):
    """Check out the cart (or ``items``) into one order per supplier.

    Send an Idempotency-Key: a retried request gets the orders of the first one back (as they
    stand now, with the header Idempotent-Replayed: true) and buys nothing twice. Refusals:
    out_of_stock, budget_exhausted, direct_purchase_limit_exceeded (the message names the
    limit and the running total), budget_line_mismatch, idempotency_key_reused.
    """
    actor = current_actor()
    key = idempotency_key()  # the checkout's own token keeps it once-only (see checkout.py)
    given = data.pop("items")  # None: check out the cart
    items = None if given is None else [(i["offer_id"], i["quantity"]) for i in given]
    result = checkout.checkout(db.session, actor, token=_checkout_token(key), items=items,
                               fingerprint=this_request_fingerprint() if key else None, **data)
    answer = {"orders": result.orders, "warnings": result.warnings}
    return (answer, 201, {REPLAYED_HEADER: "true"}) if result.replayed else answer


def _checkout_token(key: str | None) -> str:
    """The checkout's token: from the Idempotency-Key (hashed, since a key may be longer than a
    token), or a one-time token without one."""
    if key:
        return "api:" + hashlib.sha256(key.encode()).hexdigest()
    return "api-once:" + secrets.token_urlsafe(24)


@blueprint.route("/orders")
@access(Scope.ORDERS_READ, *ORDER_READERS)
@blueprint.arguments(OrderQuerySchema, location="query")
@blueprint.response(200, OrderSchema(many=True))
def list_orders(query):
    """Your unit's orders (a supplier: orders to it), newest first."""
    return order_steps.list_orders(db.session, current_actor(), status=query["status"],
                              limit=query["page_size"], offset=(query["page"] - 1) * query["page_size"])


@blueprint.route("/orders/<int:order_id>")
@access(Scope.ORDERS_READ, *ORDER_READERS)
@blueprint.response(200, OrderSchema)
def get_order(order_id: int):
    """One order with its lines and its timeline of steps and deadlines."""
    return orders.get_order(db.session, current_actor(), order_id)


CONTRACT_DOC = {
    "parameters": [{"in": "query", "name": "format", "required": False,
                    "schema": {"type": "string", "enum": ["html", "pdf"], "default": "html"}}],
    "responses": {"200": {
        "description": "The contract (or settlement order) document; X-Contract-SHA256 is the "
                       "fingerprint of its HTML",
        "content": {"text/html": {"schema": {"type": "string"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}}
WEBHOOK_DOC = {
    "parameters": [{"in": "header", "name": "Stripe-Signature", "required": True,
                    "schema": {"type": "string"}}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "description": "A Stripe event, signed with the webhook secret"}}}},
    "responses": {
        "200": {"description": "Received (a replay is acknowledged and changes nothing)",
                "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"received": {"type": "string"},
                                                     "outcome": {"type": "string"}}}}}},
        "400": {"description": "webhook_signature_invalid or webhook_payload_invalid"}}}


@blueprint.route("/orders/<int:order_id>/contract")
@access(Scope.ORDERS_READ, *ORDER_READERS)
@blueprint.doc(**CONTRACT_DOC)
def get_contract(order_id: int):
    """The contract document as HTML (?format=pdf for PDF); X-Contract-SHA256 is its fingerprint."""
    from mall.purchasing.contracts.document import render_pdf

    contract = contracts.get_contract(db.session, current_actor(), order_id)
    if request.args.get("format") == "pdf":
        response = Response(render_pdf(contract.html), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{contract.number}.pdf"'
    else:
        response = Response(contract.html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = stored_document_policy(contract.html)
    response.headers["X-Contract-SHA256"] = contract.sha256
    return response


def _transition(name: str, roles: tuple[Role, ...], schema, doc: str, call):
    """Register POST /orders/<id>/<name> calling ``call(actor, order_id, data)``."""

    def view(data, order_id: int):
        call(current_actor(), order_id, data)
        return orders.get_order(db.session, current_actor(), order_id)

    view.__name__ = "order_" + name.replace("-", "_")
    # Who takes the step is the order service's rule (it answers buyer_required or
    # supplier_required, and 404 to other organisations); the roles are documented here.
    view.__doc__ = doc + "\n\nTaken by: " + ", ".join(sorted(r.value for r in roles)) + "."
    blueprint.route(f"/orders/<int:order_id>/{name}", methods=["POST"])(
        access(Scope.ORDERS_WRITE)(
            blueprint.arguments(schema)(blueprint.response(200, OrderSchema)(view))))


def _settings():
    return StripeSettings.from_config(current_app.config)


def _sign(actor, order_id, data):
    order = orders.get_order(db.session, actor, order_id)
    if actor.organisation_id == order.supplier_id:
        return contracts.sign_as_supplier(db.session, actor, order_id, data["sha256"])
    return contracts.sign_as_buyer(db.session, actor, order_id, data["sha256"])


def _pay_by_card(actor, order_id, data):
    try:
        return payments.pay_by_card(db.session, actor, order_id, _settings(), **data)
    except PaymentGatewayError as error:
        if error.code == "payment_failed":
            g.keep_changes = True  # keep the declined attempt: the next one needs a new key
        raise


_TRANSITIONS = [
    ("approve", (Role.APPROVER,),
     EmptySchema, "The unit's approver approves an order above its approval amount.",
     lambda a, o, d: orders.approve(db.session, a, o)),
    ("return", (Role.APPROVER,),
     ReasonSchema, "The approver returns the order (cancelled, everything released).",
     lambda a, o, d: orders.return_to_buyer(db.session, a, o, d["reason"])),
    ("confirm", SUPPLIER_STAFF,
     ConfirmSchema, "The supplier confirms, optionally lowering (never raising) prices.",
     lambda a, o, d: orders.confirm(db.session, a, o, {int(k): v for k, v in d["prices"].items()})),
    ("decline", SUPPLIER_STAFF, ReasonSchema, "The supplier declines the order.",
     lambda a, o, d: orders.decline(db.session, a, o, d["reason"])),
    ("cancel", BUYERS, ReasonSchema, "The buyer cancels an order not yet confirmed.",
     lambda a, o, d: orders.cancel(db.session, a, o, d["reason"])),
    ("sign", (*BUYERS, Role.SUPPLIER_ADMIN),
     SignSchema, "Sign the contract: the supplier first, then the buyer "
                         "(no_contract_to_sign for a settlement order).", _sign),
    ("ship", SUPPLIER_STAFF, ShipSchema, "The supplier ships (carrier and tracking number).",
     lambda a, o, d: orders.ship(db.session, a, o, **d)),
    ("receive", BUYERS, EmptySchema, "The buyer records the goods as received.",
     lambda a, o, d: orders.receive(db.session, a, o)),
    ("accept", BUYERS, AcceptSchema, "The acceptance record: pass, partial (with quantities) or reject.",
     lambda a, o, d: orders.accept(db.session, a, o, result=d["result"].value,
                                   quantities={int(k): v for k, v in d["quantities"].items()},
                                   reasons=d["reasons"], accepted_on=d["accepted_on"])),
    ("invoice", SUPPLIER_STAFF,
     InvoiceSchema, "The supplier issues its e-invoice; payment is due in 30 days.",
     lambda a, o, d: orders.invoice(db.session, a, o, **d)),
    ("pay-card", PAYERS, CardPaymentSchema, "Pay by official card through Stripe; paid once confirmed.",
     _pay_by_card),
    ("pay-treasury", (Role.FINANCE,), TreasuryPaymentSchema, "The finance user records a treasury transfer.",
     lambda a, o, d: payments.record_treasury_payment(db.session, a, o, **d)),
    ("rate", BUYERS, RateSchema, "Rate the supplier (quality, delivery, service: 1 to 5).",
     lambda a, o, d: orders.rate(db.session, a, o, **d)),
]
for _name, _roles, _schema, _doc, _call in _TRANSITIONS:
    _transition(_name, _roles, _schema, _doc, _call)


@blueprint.route("/orders/<int:order_id>/payments")
@access(Scope.ORDERS_READ, *ORDER_READERS)
@blueprint.response(200, PaymentSchema(many=True))
def list_payments(order_id: int):
    return payments.payments_of(db.session, orders.get_order(db.session, current_actor(), order_id))


@blueprint.route("/orders/<int:order_id>/card-verification", methods=["POST"])
@access(Scope.ORDERS_WRITE)  # who may pay is the service's rule (buyer_required)
@blueprint.arguments(EmptySchema)
@blueprint.response(200, CardVerificationSchema)
def verify_card_payment(_data, order_id: int):
    """The 3-D Secure check of the order's card payment: the client secret for
    ``stripe.confirmCardPayment`` while the bank waits for the buyer, or (no secret) what the
    payment became meanwhile, applied to the order. 404 ``no_verification_pending`` if no
    card payment waits for a check."""
    return payments.card_verification(db.session, current_actor(), order_id, _settings())


@blueprint.route("/orders/<int:order_id>/card-verification/cancel", methods=["POST"])
@access(Scope.ORDERS_WRITE, *PAYERS)
@blueprint.arguments(EmptySchema)
@blueprint.response(200, PaymentSchema)
def cancel_card_verification(_data, order_id: int):
    """Give up the 3-D Secure check of the order's card payment: its PaymentIntent is cancelled
    at the gateway, so nothing can be charged by it later, and the order may be paid another
    way. 404 ``no_verification_pending`` if no card payment waits for a check."""
    return payments.cancel_card_verification(db.session, current_actor(), order_id, _settings())


# -- returns of goods: the unit asks, the supplier (or the operator) decides -------------------

@blueprint.route("/orders/<int:order_id>/returns")
@access(Scope.ORDERS_READ, *ORDER_READERS)
@blueprint.response(200, ReturnSchema(many=True))
def list_returns(order_id: int):
    """The order's returns of goods with where each stands and what was refunded."""
    return returns.returns_of(db.session, orders.get_order(db.session, current_actor(), order_id))


@blueprint.route("/orders/<int:order_id>/returns", methods=["POST"])
@access(Scope.ORDERS_WRITE, *BUYERS)
@blueprint.arguments(ReturnCreateSchema)
@blueprint.response(201, ReturnSchema)
def request_return(data, order_id: int):
    """The unit asks to return accepted goods (quantities per line, reason) within
    RETURN_WINDOW_DAYS of the acceptance; the supplier agrees or refuses. Refusals:
    return_window_closed, return_already_open, order_state_conflict."""
    return returns.request_return(
        db.session, current_actor(), order_id, reason=data["reason"],
        quantities={int(k): v for k, v in data["quantities"].items()},
        window_days=current_app.config.get("RETURN_WINDOW_DAYS", returns.DEFAULT_WINDOW_DAYS))


def _return_step(name: str, roles: tuple[Role, ...], schema, doc: str, call):
    """Register POST /orders/<id>/returns/<return_id>/<name> calling
    ``call(actor, order_id, return_id, data)``."""

    def view(data, order_id: int, return_id: int):
        return call(current_actor(), order_id, return_id, data)

    view.__name__ = "return_" + name.replace("-", "_")
    view.__doc__ = doc
    blueprint.route(f"/orders/<int:order_id>/returns/<int:return_id>/{name}", methods=["POST"])(
        access(Scope.ORDERS_WRITE, *roles)(
            blueprint.arguments(schema)(blueprint.response(200, ReturnSchema)(view))))


_RETURN_STEPS = [
    ("agree", SUPPLIER_STAFF, EmptySchema, "The supplier agrees: the unit sends the goods back.",
     lambda a, o, r, d: returns.agree_return(db.session, a, o, r)),
    ("refuse", SUPPLIER_STAFF, ReturnNoteSchema,
     "The supplier refuses, with a reason; the unit may take it to the operator.",
     lambda a, o, r, d: returns.refuse_return(db.session, a, o, r, reason=d["reason"])),
    ("dispute", BUYERS, ReturnNoteSchema, "The unit asks the operator to decide a refused return.",
     lambda a, o, r, d: returns.dispute_return(db.session, a, o, r, reason=d["reason"])),
    ("decide", (Role.OPERATOR,), DisputeDecisionSchema,
     "The operator decides a disputed return (agree or refuse), with a note to both parties.",
     lambda a, o, r, d: returns.decide_dispute(db.session, a, o, r, agree=d["decision"] == "agree",
                                               note=d["note"])),
    ("ship", BUYERS, ReturnShipSchema, "The unit sends the agreed goods back.",
     lambda a, o, r, d: returns.ship_return(db.session, a, o, r, **d)),
    ("receive", SUPPLIER_STAFF, EmptySchema,
     "The supplier confirms the goods came back: a card payment is refunded through the "
     "gateway at once (refund_pending until the network confirms); a treasury payment waits "
     "for the unit's finance user to record the supplier's refund. Budget and running totals "
     "move only when the money is back.",
     lambda a, o, r, d: returns.receive_return(db.session, a, o, r, settings=_settings())),
    ("refund-card", SUPPLIER_STAFF, EmptySchema,
     "The supplier tries a card refund again after the gateway refused it.",
     lambda a, o, r, d: returns.retry_card_refund(db.session, a, o, r, settings=_settings())),
    ("refund-treasury", (Role.FINANCE,), TreasuryRefundSchema,
     "The unit's finance user records the supplier's refund of a treasury payment (voucher, "
     "date, amount) once the money is back.",
     lambda a, o, r, d: returns.record_treasury_refund(db.session, a, o, r, **d)),
]
for _name, _roles, _schema, _doc, _call in _RETURN_STEPS:
    _return_step(_name, _roles, _schema, _doc, _call)


@blueprint.route("/return-disputes")
@access(Scope.ORDERS_READ, Role.OPERATOR, Role.SUPERVISOR)
@blueprint.arguments(DisputeQuerySchema, location="query")
@blueprint.response(200, DisputeSchema(many=True))
def list_return_disputes(query):
    """Returns taken to the operator, those waiting for a decision first."""
    rows = returns.list_disputes(db.session, current_actor(), waiting_only=query["waiting"])
    names = ReturnSchema().fields
    return [{**{name: getattr(ret, name) for name in names}, "order_number": order.number}
            for ret, order in rows]


@blueprint.route("/payments/stripe-webhook", methods=["POST"])
@access(None)  # Stripe calls it; the signature authenticates
@blueprint.doc(**WEBHOOK_DOC)
def stripe_webhook():
    """Stripe's events, verified by signature; a replayed event is acknowledged and ignored."""
    event = parse_webhook(_settings(), request.get_data(),
                          request.headers.get("Stripe-Signature"))
    outcome = payments.handle_webhook(db.session, event)
    return {"received": event.id, "outcome": outcome}


@blueprint.route("/budget-lines")
@access(Scope.ORDERS_READ, *UNIT_STAFF)
@blueprint.response(200, BudgetLineSchema(many=True))
def list_budget_lines():
    """Your unit's purchase plan lines with what is reserved, committed, spent and left."""
    return budget.budget_lines(db.session, current_actor())


@blueprint.route("/budget-lines", methods=["POST"])
@access(Scope.ORDERS_WRITE, Role.FINANCE, Role.APPROVER)
@blueprint.arguments(BudgetLineInSchema)
@blueprint.response(201, BudgetLineSchema)
def create_budget_line(data):
    return budget.create_budget_line(db.session, current_actor(), **data)


@blueprint.route("/notices")
@access(None)
@blueprint.arguments(NoticeQuerySchema, location="query")
@blueprint.response(200, NoticePageSchema)
def list_notices(query):
    """Public result and contract notices (no login), newest first."""
    items, total = notices.search_notices(db.session, notices.NoticeFilter(**query))
    return {"items": items, "total": total}


@blueprint.route("/notices/<int:notice_id>")
@access(None)
@blueprint.response(200, NoticeSchema)
def get_notice(notice_id: int):
    from mall.core.errors import NotFound

    notice = notices.get_notice(db.session, notice_id)
    if notice is None:
        raise NotFound()
    return notice
