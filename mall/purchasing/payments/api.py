"""Payments API: the payments of an order, the 3-D Secure check of a card payment (its
cancellation is an order step), and Stripe's webhook."""

from __future__ import annotations

from flask import current_app, request

from mall.core.auth import Scope
from mall.extensions import db
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.schemas import EmptySchema
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.schemas import CardVerificationSchema, PaymentSchema
from mall.purchasing.payments.stripe_gateway import StripeSettings, parse_webhook
from mall.web import current_actor
from mall.web.access import access
from mall.web.parsing import Blueprint

blueprint = Blueprint("payments_api", __name__, url_prefix="",
                      description="Payments of orders: card (Stripe) and treasury transfers")

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


def _settings():
    return StripeSettings.from_config(current_app.config)


@blueprint.route("/orders/<int:order_id>/payments")
@access(Scope.ORDERS_READ, *order_steps.ORDER_READERS)
@blueprint.response(200, PaymentSchema(many=True))
def list_payments(order_id: int):
    return payments.payments_of(db.session(), order_steps.get_order(db.session(), current_actor(), order_id))


@blueprint.route("/orders/<int:order_id>/card-verification", methods=["POST"])
@access(Scope.ORDERS_WRITE)  # who may pay is the service's rule (buyer_required)
@blueprint.arguments(EmptySchema)
@blueprint.response(200, CardVerificationSchema)
def verify_card_payment(_data, order_id: int):
    """The 3-D Secure check of the order's card payment: the client secret for
    ``stripe.confirmCardPayment`` while the bank waits for the buyer, or (no secret) what the
    payment became meanwhile, applied to the order. 404 ``no_verification_pending`` if no
    card payment waits for a check."""
    return payments.card_verification(db.session(), current_actor(), order_id, _settings())


@blueprint.route("/payments/stripe-webhook", methods=["POST"])
@access(None)  # Stripe calls it; the signature authenticates
@blueprint.doc(**WEBHOOK_DOC)
def stripe_webhook():
    """Stripe's events, verified by signature; a replayed event is acknowledged and ignored."""
    event = parse_webhook(_settings(), request.get_data(),
                          request.headers.get("Stripe-Signature"))
    outcome = payments.handle_webhook(db.session(), event)
    return {"received": event.id, "outcome": outcome}


