"""Request and response shapes of the purchasing API (marshmallow, documented in OpenAPI)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from mall.core.inputs import MAX_BIGINT, Count, Day, Id, PageNumber, PlainText, needed
from mall.i18n_messages import N_
from mall.purchasing.orders.models import (
    AcceptanceResult,
    OrderStatus,
    Paperwork,
    PurchaseMode,
    ReturnStatus,
)

_fen: dict[str, Any] = {"strict": True, "validate": validate.Range(min=0, max=MAX_BIGINT)}


class EmptySchema(Schema):
    """A step that needs no more than who takes it."""


class CartItemInSchema(Schema):
    offer_id = Id(required=True, strict=True)
    quantity = fields.Int(load_default=1, strict=True, validate=validate.Range(min=1, max=100_000))


class QuantitySchema(Schema):
    quantity = fields.Int(required=True, strict=True, validate=validate.Range(min=0, max=100_000))


class CartLineSchema(Schema):
    offer_id = fields.Int()
    product_id = fields.Int()
    title = fields.Str()
    brand = fields.Str()
    model = fields.Str()
    unit = fields.Str()
    category_code = fields.Str()
    quantity = fields.Int()
    price_fen = fields.Int()
    amount_fen = fields.Int()
    stock = fields.Int()
    available = fields.Bool()


class CartGroupSchema(Schema):
    supplier_id = fields.Int()
    supplier_name = fields.Str()
    total_fen = fields.Int()
    lines = fields.List(fields.Nested(CartLineSchema))


class LimitCheckSchema(Schema):
    category_code = fields.Str()
    running_total_fen = fields.Int(metadata={"description": "Direct purchases this fiscal year"})
    order_fen = fields.Int()
    limit_fen = fields.Int()
    warning = fields.Bool(metadata={"description": "At or past the warning level (80 %)"})
    blocked = fields.Bool(metadata={"description": "Past the direct-purchase limit"})


class CartSchema(Schema):
    groups = fields.List(fields.Nested(CartGroupSchema))
    total_fen = fields.Int()
    count = fields.Int()
    checks = fields.List(fields.Nested(LimitCheckSchema))


class BuyItemSchema(Schema):
    offer_id = Id(required=True, strict=True)
    quantity = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class CheckoutSchema(Schema):
    budget_line_id = Id(required=True, strict=True)
    delivery_address = PlainText(required=True, validate=validate.Length(min=1, max=300))
    contact = PlainText(required=True, validate=validate.Length(min=1, max=100))
    delivery_days = fields.Int(load_default=7, strict=True, validate=validate.Range(min=1, max=180),
                               metadata={"description": "Deliver within this many days of the "
                                                        "contract (or settlement order)"})
    secret = fields.Bool(load_default=False)
    offer_ids = fields.List(Id(strict=True), load_default=None,
                            metadata={"description": "Only these offers of the cart"})
    items = fields.List(fields.Nested(BuyItemSchema), load_default=None,
                        validate=validate.Length(min=1, max=200),
                        metadata={"description": "Buy these directly; the cart is left alone"})


class OrderLineSchema(Schema):
    id = fields.Int()
    offer_id = fields.Int(allow_none=True, metadata={
        "description": "null for a bidding round's item named on a blank form"})
    product_id = fields.Int(allow_none=True)
    category_code = fields.Str()
    title = fields.Str()
    brand = fields.Str()
    model = fields.Str()
    unit = fields.Str()
    quantity = fields.Int()
    unit_price_fen = fields.Int()
    amount_fen = fields.Int()
    accepted_quantity = fields.Int(allow_none=True)


class OrderStepSchema(Schema):
    status = fields.Str()
    at = fields.DateTime()
    user_id = fields.Int(allow_none=True)
    note = fields.Str(allow_none=True)
    deadline = fields.DateTime(allow_none=True)


class OrderSchema(Schema):
    id = fields.Int()
    number = fields.Str()
    status = fields.Enum(OrderStatus, by_value=True)
    purchase_mode = fields.Enum(PurchaseMode, by_value=True, metadata={
        "description": "direct: bought from the cart at mall prices; quick (商城竞价) or "
                       "framework (入围竞价): the award of a bidding round, at the quoted "
                       "prices"})
    paperwork = fields.Enum(Paperwork, by_value=True, metadata={
        "description": "Decided when the supplier confirms (contract until then). contract: "
                       "signed by the supplier, then the buyer; settlement: a small order "
                       "without centrally procured items, settled by a settlement order (结算单) "
                       "with nothing to sign (signing answers 409 no_contract_to_sign). The "
                       "document is at /orders/{id}/contract either way"})
    buyer_org_id = fields.Int()
    supplier_id = fields.Int()
    budget_line_id = fields.Int()
    fiscal_year = fields.Int()
    total_fen = fields.Int()
    accepted_fen = fields.Int(allow_none=True)
    paid_fen = fields.Int()
    refunded_fen = fields.Int()
    amount_due_fen = fields.Int()
    delivery_address = fields.Str()
    delivery_days = fields.Int()
    contact = fields.Str()
    secret = fields.Bool()
    submitted_at = fields.DateTime()
    confirm_by = fields.DateTime(allow_none=True)
    pay_by = fields.DateTime(allow_none=True)
    carrier = fields.Str(allow_none=True)
    tracking_number = fields.Str(allow_none=True)
    invoice_number = fields.Str(allow_none=True)
    cancel_reason = fields.Str(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineSchema))
    steps = fields.List(fields.Nested(OrderStepSchema))


class CheckoutResultSchema(Schema):
    orders = fields.List(fields.Nested(OrderSchema))
    warnings = fields.List(fields.Nested(LimitCheckSchema))


class OrderQuerySchema(Schema):
    status = fields.Enum(OrderStatus, by_value=True, load_default=None)
    page = PageNumber()
    page_size = fields.Int(load_default=20, validate=validate.Range(min=1, max=100))


class ReasonSchema(Schema):
    reason = PlainText(multiline=True, **needed(N_("Give a reason.")),
                       validate=validate.Length(min=1, max=300))


# The key of the maps from an order line to a price or a quantity. Order line ids are JSON
# object keys, hence strings; anything but digits is refused here
# (the views turn them into ints).
LINE_ID = fields.Str(validate=validate.Regexp(r"^[0-9]{1,18}$", error="Not an order line id."))


class ConfirmSchema(Schema):
    prices = fields.Dict(keys=LINE_ID,
                         values=fields.Int(strict=True, validate=validate.Range(min=1, max=MAX_BIGINT)),
                         load_default=dict,
                         metadata={"description": "Order line id to a lower unit price in fen"})


class ShipSchema(Schema):
    carrier = PlainText(**needed(N_("Enter the carrier.")), validate=validate.Length(min=1, max=60))
    tracking_number = PlainText(**needed(N_("Enter the tracking number.")),
                                validate=validate.Length(min=1, max=60))


class AcceptSchema(Schema):
    result = fields.Enum(AcceptanceResult, by_value=True, required=True)
    quantities = fields.Dict(keys=LINE_ID, values=Count(strict=True),
                             load_default=dict,
                             metadata={"description": "Order line id to the quantity accepted (partial)"})
    reasons = PlainText(multiline=True, load_default="", validate=validate.Length(max=1000))
    accepted_on = Day(load_default=None)


class InvoiceSchema(Schema):
    invoice_number = PlainText(**needed(N_("Enter the e-invoice number.")),
                               validate=validate.Length(min=1, max=40))


class RateSchema(Schema):
    quality = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=5))
    delivery = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=5))
    service = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = PlainText(multiline=True, load_default="", validate=validate.Length(max=500))


class ReturnCreateSchema(Schema):
    """The unit asks to return accepted goods: quantities per order line and why."""

    quantities = fields.Dict(
        keys=LINE_ID, values=fields.Int(strict=True, validate=validate.Range(min=0, max=100_000)),
        required=True, metadata={"description": "Order line id to the quantity sent back"})
    reason = PlainText(multiline=True, **needed(N_("Give a reason.")),
                       validate=validate.Length(min=1, max=500))


class ReturnNoteSchema(Schema):
    reason = PlainText(multiline=True, **needed(N_("Give a reason.")),
                       validate=validate.Length(min=1, max=500))


class DisputeDecisionSchema(Schema):
    decision = fields.Str(required=True, validate=validate.OneOf(["agree", "refuse"]),
                          metadata={"description": "agree: the goods go back; refuse: they stay"})
    note = PlainText(multiline=True, **needed(N_("Explain the decision to both parties.")),
                     validate=validate.Length(min=1, max=500))


class ReturnShipSchema(ShipSchema):
    """The returned goods' shipment: carrier and tracking number, as an order's."""


class TreasuryRefundSchema(Schema):
    voucher_number = PlainText(**needed(N_("Enter the payment voucher number.")),
                               validate=validate.Length(min=1, max=60))
    refunded_on = fields.Date(required=True)
    # A field the page form replaces by one typed in yuan (orders.forms).
    amount_fen: fields.Field = fields.Int(required=True, **_fen)


class ReturnLineSchema(Schema):
    line_id = fields.Int()
    title = fields.Str()
    quantity = fields.Int()
    unit_price_fen = fields.Int()
    amount_fen = fields.Int()


class ReturnSchema(Schema):
    id = fields.Int()
    order_id = fields.Int()
    status = fields.Enum(ReturnStatus, by_value=True, metadata={
        "description": "requested → agreed → shipped → received → completed; refused → "
                       "disputed → agreed or rejected (by the operator); refund_pending while "
                       "the card network finishes a refund"})
    lines = fields.List(fields.Nested(ReturnLineSchema))
    amount_fen = fields.Int()
    reason = fields.Str()
    requested_at = fields.DateTime()
    supplier_note = fields.Str(allow_none=True)
    dispute_reason = fields.Str(allow_none=True)
    operator_note = fields.Str(allow_none=True)
    carrier = fields.Str(allow_none=True)
    tracking_number = fields.Str(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    refund_due_fen = fields.Int(metadata={"description": "Money to come back once received"})
    refund_method = fields.Str(allow_none=True)
    refund_reference = fields.Str(allow_none=True)
    refunded_on = fields.Date(allow_none=True)
    refunded_fen = fields.Int(metadata={"description": "Money back: only what really came back"})
    completed_at = fields.DateTime(allow_none=True)


class DisputeSchema(ReturnSchema):
    order_number = fields.Str()


class DisputeQuerySchema(Schema):
    waiting = fields.Bool(load_default=False,
                          metadata={"description": "Only disputes waiting for a decision"})
