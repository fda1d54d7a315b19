"""Orders API: /api/v1/cart, checkout, /api/v1/orders with every step of an order and of a
return of its goods (one operation per step of mall.purchasing.orders.steps), and the
operator's disputed returns."""

from __future__ import annotations

import hashlib
import secrets

from mall.core.auth import BUYERS, Role, Scope
from mall.core.errors import MallError
from mall.extensions import db
from mall.purchasing import registry
from mall.purchasing.orders import cart, checkout, returns
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.schemas import (
    CartItemInSchema,
    CartSchema,
    CheckoutResultSchema,
    CheckoutSchema,
    DisputeQuerySchema,
    DisputeSchema,
    OrderQuerySchema,
    OrderSchema,
    QuantitySchema,
    ReturnSchema,
)
from mall.purchasing.pages import step_context
from mall.purchasing.payments.schemas import PaymentSchema
from mall.web import current_actor
from mall.web.access import access
from mall.web.idempotency import (
    OPENAPI_DOC,
    REPLAYED_HEADER,
    idempotency_key,
    this_request_fingerprint,
)
from mall.web.parsing import Blueprint
from mall.web.unit_of_work import keep_changes

blueprint = Blueprint("orders_api", __name__, url_prefix="",
                      description="Cart, checkout, orders and the steps of orders and returns")
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





def _cart_answer(actor):
    view = cart.view_cart(db.session(), actor)
    checks = checkout.preview(db.session(), actor).checks if view.groups else []
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
    cart.add_item(db.session(), actor, **data)
    return _cart_answer(actor)


@blueprint.route("/cart/items/<int:offer_id>", methods=["PUT"])
@access(Scope.ORDERS_WRITE, *BUYERS)
@blueprint.arguments(QuantitySchema)
@blueprint.response(200, CartSchema)
def set_cart_quantity(data, offer_id: int):
    """Change a line's quantity; 0 removes it."""
    actor = current_actor()
    cart.set_quantity(db.session(), actor, offer_id=offer_id, quantity=data["quantity"])
    return _cart_answer(actor)


@blueprint.route("/cart/items/<int:offer_id>", methods=["DELETE"])
@access(Scope.ORDERS_WRITE, *BUYERS)
@blueprint.response(200, CartSchema)
def remove_cart_item(offer_id: int):
    actor = current_actor()
    cart.set_quantity(db.session(), actor, offer_id=offer_id, quantity=0)
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
    result = checkout.checkout(db.session(), actor, token=_checkout_token(key), items=items,
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
@access(Scope.ORDERS_READ, *order_steps.ORDER_READERS)
@blueprint.arguments(OrderQuerySchema, location="query")
@blueprint.response(200, OrderSchema(many=True))
def list_orders(query):
    """Your unit's orders (a supplier: orders to it), newest first."""
    return order_steps.list_orders(db.session(), current_actor(), status=query["status"],
                              limit=query["page_size"], offset=(query["page"] - 1) * query["page_size"])


@blueprint.route("/orders/<int:order_id>")
@access(Scope.ORDERS_READ, *order_steps.ORDER_READERS)
@blueprint.response(200, OrderSchema)
def get_order(order_id: int):
    """One order with its lines and its timeline of steps and deadlines."""
    return order_steps.get_order(db.session(), current_actor(), order_id)


@blueprint.route("/orders/<int:order_id>/returns")
@access(Scope.ORDERS_READ, *order_steps.ORDER_READERS)
@blueprint.response(200, ReturnSchema(many=True))
def list_returns(order_id: int):
    """The order's returns of goods with where each stands and what was refunded."""
    return returns.returns_of(db.session(), order_steps.get_order(db.session(), current_actor(), order_id))


# -- the steps: one operation each, all through order_steps.transition -------------------------

# Steps answered at another path than /orders/<id>/<name> (a return's: /returns/<id>/<verb>).
_PATHS = {"return-request": "/orders/<int:order_id>/returns",
          "cancel-card-check": "/orders/<int:order_id>/card-verification/cancel"}
_ANSWERS = {"cancel-card-check": PaymentSchema, "return-request": ReturnSchema}


def step_path(declared: order_steps.Step) -> str:
    if declared.name in _PATHS:
        return _PATHS[declared.name]
    if declared.on_return:
        return f"/orders/<int:order_id>/returns/<int:return_id>/{declared.name.removeprefix('return-')}"
    return f"/orders/<int:order_id>/{declared.name}"


def _operation(declared: order_steps.Step):
    """POST the step: the order (a return's step: the return; a card payment: the payment)."""
    answer = _ANSWERS.get(declared.name, ReturnSchema if declared.on_return else OrderSchema)

    def view(data, order_id: int, return_id: int | None = None):
        if return_id is not None:
            data = {**data, "return_id": return_id}
        try:
            done = registry.transition(db.session(), current_actor(), order_id, declared.name, data,
                                          **step_context())
        except MallError as exc:
            if exc.keeps_changes:
                keep_changes()
            raise
        return done if answer is not OrderSchema else order_steps.get_order(
            db.session(), current_actor(), order_id)

    view.__name__ = ("return_" if declared.on_return else "order_") + declared.name.removeprefix(
        "return-").replace("-", "_")
    view.__doc__ = declared.doc + "\n\nTaken by: " + ", ".join(sorted(r.value for r in declared.roles)) + "."
    # Who takes an order's step is the service's rule (buyer_required or supplier_required,
    # 404 to other organisations); a return's step also says so here (role_required).
    guard = access(Scope.ORDERS_WRITE, *declared.roles) if declared.on_return else access(Scope.ORDERS_WRITE)
    status = 201 if declared.name == "return-request" else 200
    blueprint.route(step_path(declared), methods=["POST"])(
        guard(blueprint.arguments(declared.schema)(blueprint.response(status, answer)(view))))


for _declared in registry.STEPS.values():
    _operation(_declared)


@blueprint.route("/return-disputes")
@access(Scope.ORDERS_READ, Role.OPERATOR, Role.SUPERVISOR)
@blueprint.arguments(DisputeQuerySchema, location="query")
@blueprint.response(200, DisputeSchema(many=True))
def list_return_disputes(query):
    """Returns taken to the operator, those waiting for a decision first."""
    rows = returns.list_disputes(db.session(), current_actor(), waiting_only=query["waiting"])
    names = ReturnSchema().fields
    return [{**{name: getattr(ret, name) for name in names}, "order_number": order.number}
            for ret, order in rows]


