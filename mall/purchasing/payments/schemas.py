"""Input and output of the payments API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from mall.core.inputs import MAX_BIGINT, Day, PlainText, needed
from mall.i18n_messages import N_

_fen: dict[str, Any] = {"strict": True, "validate": validate.Range(min=0, max=MAX_BIGINT)}


class CardPaymentSchema(Schema):
    payment_method = fields.Str(required=True, validate=validate.Length(min=1, max=100),
                                metadata={"description": "A Stripe PaymentMethod or card id"})


class TreasuryPaymentSchema(Schema):
    voucher_number = PlainText(**needed(N_("Enter the payment voucher number.")),
                               validate=validate.Length(min=1, max=60))
    paid_on = Day(required=True)
    # A field the page form replaces by one typed in yuan (orders.forms).
    amount_fen: fields.Field = fields.Int(required=True, **_fen)
    payee_account_number = PlainText(
        **needed(N_("Enter the account number the money was paid into.")),
        validate=validate.Length(min=1, max=60), metadata={
            "description": "The account paid into; it must be the contract's current payee "
                           "account (wrong_payee_account otherwise)"})


class PaymentSchema(Schema):
    id = fields.Int()
    method = fields.Str(attribute="method.value")
    amount_fen = fields.Int()
    status = fields.Str()
    intent_id = fields.Str(allow_none=True)
    voucher_number = fields.Str(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    refunded_fen = fields.Int()
    payee_account_number = fields.Str(allow_none=True, metadata={
        "description": "The account the money went to"})


class CardVerificationSchema(Schema):
    payment_id = fields.Int()
    intent_id = fields.Str()
    status = fields.Str(metadata={"description": "requires_action while the check waits; "
                                                 "otherwise what the payment became"})
    client_secret = fields.Str(allow_none=True, metadata={
        "description": "For stripe.confirmCardPayment in the buyer's browser; null once "
                       "nothing is left to check"})


# -- returns of goods ----------------------------------------------------------------------------
