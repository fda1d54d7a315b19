"""What every page of purchasing shares: the ``purchasing`` blueprint the sub-packages' views
register on, the names of statuses and timeline entries, the header badges (cart, unread
notifications), and what the order steps need from the application's settings."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from mall.core.auth import OrganisationKind
from mall.extensions import db
from mall.i18n_messages import N_
from mall.purchasing.orders import cart, notifications, queries
from mall.purchasing.payments.stripe_gateway import StripeSettings
from mall.web import optional_actor

log = logging.getLogger(__name__)
blueprint = Blueprint("purchasing", __name__)
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
    "round": _l("Bidding round notice"), "round_result": _l("Bidding result notice"),
    "round_failed": _l("Bidding round failure notice"),
    "award_changed": _l("Award change notice"),
    "account_change": _l("Contract account change notice"),
    # purchase modes (an order's, a round's)
    "direct": _l("Direct purchase"), "quick": _l("Mall quick bidding"),
    "framework": _l("Admitted-supplier bidding"),
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




def status_label(value) -> str:
    value = getattr(value, "value", value)
    return str(STATUS_LABELS.get(value, value))


def return_label(value) -> str:
    return str(RETURN_LABELS.get(getattr(value, "value", value), value))


def step_context() -> dict[str, Any]:
    """What the order steps' effects need from the settings (mall.purchasing.orders.steps)."""
    return {"stripe": StripeSettings.from_config(current_app.config),
            "window_days": current_app.config["RETURN_WINDOW_DAYS"]}


# -- header helpers for every page ---------------------------------------------------------

def _cart_count() -> int:
    actor = optional_actor()
    if actor is None or actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        return 0
    try:
        return cart.count_items(db.session(), actor)
    except SQLAlchemyError:  # a header badge must never break the error page being rendered
        log.warning("cart count unavailable", exc_info=True)
        return 0


def _unread_count() -> int:
    actor = optional_actor()
    if actor is None:
        return 0
    try:
        return notifications.unread_count(db.session(), actor)
    except SQLAlchemyError:
        log.warning("unread count unavailable", exc_info=True)
        return 0


def _supplier_ratings(supplier_ids) -> dict:
    return queries.supplier_ratings(db.session(), list(supplier_ids))


@blueprint.app_context_processor
def inject_purchasing_helpers():
    return {"cart_count": _cart_count, "unread_notifications": _unread_count,
            "supplier_ratings": _supplier_ratings, "status_label": status_label,
            "return_label": return_label}
