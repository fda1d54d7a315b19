"""Input and output of the contracts API: the signature and the public notices."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from mall.core.inputs import Day, PageNumber
from mall.purchasing.contracts.models import NoticeKind


class SignSchema(Schema):
    sha256 = fields.Str(load_default=None, validate=validate.Length(equal=64),
                        metadata={"description": "Fingerprint of the contract as read"})


class NoticeQuerySchema(Schema):
    kind = fields.Enum(NoticeKind, by_value=True, load_default=None)
    buyer = fields.Str(load_default="", validate=validate.Length(max=100))
    supplier = fields.Str(load_default="", validate=validate.Length(max=100))
    category = fields.Str(load_default="", validate=validate.Regexp(r"^([ABC]\d{0,8})?$"))
    date_from = Day(load_default=None)
    date_to = Day(load_default=None)
    page = PageNumber()
    page_size = fields.Int(load_default=20, validate=validate.Range(min=1, max=100))


class NoticeSchema(Schema):
    id = fields.Int()
    kind = fields.Enum(NoticeKind, by_value=True, metadata={
        "description": "result, contract: a direct purchase's result and contract notices; "
                       "round: a bidding round opened (竞价公告); round_result: every valid "
                       "quote of a closed round and the supplier awarded; round_failed: a round "
                       "that failed or was withdrawn; award_changed: an award passed to the "
                       "next in rank"})
    reference = fields.Str(allow_none=True, metadata={
        "description": "The bidding round's number (round notices; null for an order's)"})
    title = fields.Str()
    buyer_name = fields.Str()
    supplier_name = fields.Str()
    amount_fen = fields.Int()
    published_at = fields.DateTime()
    body = fields.Dict(metadata={
        "description": "What the notice publishes. An order's: order_number, buyer, supplier, "
                       "items with unit prices, contract_number. A round's: round_number, mode, "
                       "buyer, items, ceiling_fen, deadline, sme_reserved, sme_deduction_pct; "
                       "a result also quotes (rank, supplier, sme, total_fen, evaluated_fen, "
                       "lines) and winner; a failure or award change its reason"})


class NoticePageSchema(Schema):
    items = fields.List(fields.Nested(NoticeSchema))
    total = fields.Int()
