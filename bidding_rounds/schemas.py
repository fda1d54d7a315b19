"""Request and response shapes of the bidding rounds API (marshmallow, documented in OpenAPI).

Schemas check shape and the database's ranges; the rules (eligibility, caps, ceilings,
windows) are the services'. The round as its unit and oversight read it (``RoundSchema``)
carries ``quotes`` and ``awards`` only once the round has closed (the seal, 四不知); the
round as a supplier reads it (``SupplierRoundSchema``) carries its own quote alone and no
quote count.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bidding_rounds.models import AwardOutcome, QuoteStatus, RoundMode, RoundStatus
from mall.core.inputs import Id, Moment, PageNumber, PlainText, needed
from mall.core.money import MAX_AMOUNT_FEN, MAX_PRICE_FEN, MAX_QUANTITY
from mall.i18n_messages import N_

SEALED = ("Absent until the round has closed: before its deadline nobody sees which "
          "suppliers quoted or at what price (四不知), only quote_count")


# -- requests ---------------------------------------------------------------------------------

class RoundItemInSchema(Schema):
    category_code = fields.Str(required=True, validate=validate.Regexp(r"^[ABC]\d{8}$"),
                               metadata={"description": "A catalogue leaf sold in the mall"})
    name = PlainText(**needed(N_("Enter the item's name.")),
                     validate=validate.Length(min=1, max=300))
    spec = PlainText(multiline=True, load_default="", validate=validate.Length(max=1000))
    quantity = fields.Int(required=True, strict=True,
                          validate=validate.Range(min=1, max=MAX_QUANTITY))
    unit = PlainText(**needed(N_("Enter the unit (台, 件, 箱).")),
                     validate=validate.Length(min=1, max=10))
    product_id = Id(load_default=None, allow_none=True, strict=True,
                    metadata={"description": "The catalogue product wanted, if any: a supplier "
                                             "listing it may not quote above its mall price"})


class RoundCreateSchema(Schema):
    mode = fields.Enum(RoundMode, by_value=True, required=True, metadata={
        "description": "quick: 商城竞价, every supplier admitted for the categories and region; "
                       "framework: 入围竞价, the members of the category's live framework "
                       "agreement (or the invited ones)"})
    title = PlainText(load_default="", validate=validate.Length(max=200))
    items = fields.List(fields.Nested(RoundItemInSchema), required=True,
                        validate=validate.Length(min=1, max=50))
    budget_line_id = Id(required=True, strict=True)
    ceiling_fen = fields.Int(required=True, strict=True,
                             validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
                             metadata={"description": "The most the round may cost; reserved "
                                                      "on the budget line until it ends"})
    region_code = fields.Str(load_default=None, allow_none=True,
                             validate=validate.Regexp(r"^\d{6}$"),
                             metadata={"description": "Delivery region (default: the unit's)"})
    delivery_address = PlainText(**needed(N_("Enter the delivery address.")),
                                 validate=validate.Length(min=1, max=300))
    contact = PlainText(**needed(N_("Enter a contact name and phone number.")),
                        validate=validate.Length(min=1, max=100))
    delivery_days = fields.Int(load_default=7, strict=True, validate=validate.Range(min=1, max=180))
    sme_deduction_pct = fields.Int(load_default=10, strict=True,
                                   validate=validate.Range(min=10, max=20),
                                   metadata={"description": "Price deduction of SME quotes "
                                                            "when ranking"})
    sme_reserved = fields.Bool(load_default=False,
                               metadata={"description": "Reserved for SMEs (专门面向中小企业)"})
    deadline = Moment(load_default=None, allow_none=True, metadata={
        "description": "Quote deadline, ISO 8601 with offset (default: the mall's window, "
                       "24 hours; at least its minimum, at most 30 days)"})
    invited_supplier_ids = fields.List(Id(strict=True), load_default=list,
                                       validate=validate.Length(max=200), metadata={
        "description": "framework only: at least 3 members of the agreement, or none for all"})


class RoundQuerySchema(Schema):
    status = fields.Enum(RoundStatus, by_value=True, load_default=None)
    page = PageNumber()
    page_size = fields.Int(load_default=20, validate=validate.Range(min=1, max=100))


class CancelReasonSchema(Schema):
    reason = PlainText(multiline=True, **needed(N_("Give a reason.")),
                       validate=validate.Length(min=1, max=300))


class AwardReasonSchema(Schema):
    reason = PlainText(multiline=True, **needed(N_("Give a reason.")),
                       validate=validate.Length(min=1, max=500))


class QuoteLineInSchema(Schema):
    item_id = Id(required=True, strict=True)
    unit_price_fen = fields.Int(required=True, strict=True,
                                validate=validate.Range(min=1, max=MAX_PRICE_FEN))


class QuoteInSchema(Schema):
    lines = fields.List(fields.Nested(QuoteLineInSchema), required=True,
                        validate=validate.Length(min=1, max=50),
                        metadata={"description": "One unit price per item of the round"})
    sme_goods = fields.Bool(load_default=False, metadata={
        "description": "The goods are made by small or micro enterprises: a small or micro "
                       "supplier's quote then gets the round's SME deduction when ranked"})
    device_fingerprint = PlainText(load_default=None, allow_none=True,
                                   validate=validate.Length(max=64))


# -- answers ----------------------------------------------------------------------------------

class RoundItemSchema(Schema):
    id = fields.Int()
    category_code = fields.Str()
    category_name = fields.Str()
    name = fields.Str()
    spec = fields.Str()
    quantity = fields.Int()
    unit = fields.Str()
    product_id = fields.Int(allow_none=True)


class QuoteLineSchema(Schema):
    item_id = fields.Int()
    unit_price_fen = fields.Int()


class SupplierRefSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class RankedQuoteSchema(Schema):
    rank = fields.Int(allow_none=True)
    supplier = fields.Nested(SupplierRefSchema)
    sme = fields.Bool(metadata={"description": "The supplier declared itself an SME"})
    sme_deducted = fields.Bool()
    total_fen = fields.Int()
    evaluated_fen = fields.Int(metadata={"description": "After the SME deduction: the ranking"})
    status = fields.Enum(QuoteStatus, by_value=True)
    lines = fields.List(fields.Nested(QuoteLineSchema))


class AwardSchema(Schema):
    rank = fields.Int()
    supplier = fields.Nested(SupplierRefSchema)
    offered_at = fields.DateTime()
    confirm_by = fields.DateTime()
    outcome = fields.Enum(AwardOutcome, by_value=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.Str(allow_none=True)


class _RoundBaseSchema(Schema):
    id = fields.Int()
    number = fields.Str()
    mode = fields.Enum(RoundMode, by_value=True)
    status = fields.Enum(RoundStatus, by_value=True, metadata={
        "description": "open (quotes until the deadline) → awarded (the first in rank "
                       "confirms within the window) → confirmed (the order exists); failed "
                       "(too few quotes, or nobody confirmed); cancelled by the unit"})
    title = fields.Str()
    published_at = fields.DateTime()
    deadline = fields.DateTime(metadata={"description": "ISO 8601 with offset"})
    closed_at = fields.DateTime(allow_none=True)
    ceiling_fen = fields.Int()
    items = fields.List(fields.Nested(RoundItemSchema))
    region_code = fields.Str()
    delivery_address = fields.Str()
    delivery_days = fields.Int()
    sme_deduction_pct = fields.Int()
    sme_reserved = fields.Bool()
    failure_reason = fields.Str(allow_none=True)
    cancel_reason = fields.Str(allow_none=True)


class RoundSchema(_RoundBaseSchema):
    """A round as its unit and oversight read it."""

    quote_count = fields.Int(metadata={"description": "The only figure shown before closing"})
    budget_line_id = fields.Int()
    contact = fields.Str()
    order_id = fields.Int(allow_none=True)
    quotes = fields.List(fields.Nested(RankedQuoteSchema), allow_none=True,
                         metadata={"description": "Ranked, valid first. " + SEALED})
    awards = fields.List(fields.Nested(AwardSchema), allow_none=True,
                         metadata={"description": "Every offer of the award in order. " + SEALED})


class RoundPageSchema(Schema):
    items = fields.List(fields.Nested(RoundSchema))
    total = fields.Int()


class OwnQuoteSchema(Schema):
    """The supplier's own quote (never another's)."""

    round_id = fields.Int()
    total_fen = fields.Int()
    evaluated_fen = fields.Int()
    sme_goods = fields.Bool()
    sme_deducted = fields.Bool()
    revisions = fields.Int()
    first_at = fields.DateTime()
    final_at = fields.DateTime()
    status = fields.Enum(QuoteStatus, by_value=True)
    rank = fields.Int(allow_none=True, metadata={"description": "Once the round has closed"})
    lines = fields.List(fields.Nested(QuoteLineSchema))


class OwnAwardSchema(Schema):
    confirm_by = fields.DateTime()


class SupplierRoundSchema(_RoundBaseSchema):
    """A published round as a supplier reads it: the purchase, its own quote and award
    (the list of opportunities gives the purchase and the own quote only)."""

    own_quote = fields.Nested(OwnQuoteSchema, allow_none=True)
    pending_award = fields.Nested(OwnAwardSchema, allow_none=True, metadata={
        "description": "The award offered to this supplier, waiting for its answer"})
    refusals = fields.List(fields.Str(), metadata={
        "description": "Why this supplier may not quote (empty: it may)"})
    caps = fields.Dict(keys=fields.Str(), values=fields.Int(), metadata={
        "description": "Item id to the most this supplier may quote per unit (its mall price "
                       "or the framework ceiling), where one applies"})


class AwardOrderSchema(Schema):
    order_id = fields.Int()
    order_number = fields.Str()
