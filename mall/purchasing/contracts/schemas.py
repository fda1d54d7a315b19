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
    kind = fields.Enum(NoticeKind, by_value=True)
    title = fields.Str()
    buyer_name = fields.Str()
    supplier_name = fields.Str()
    amount_fen = fields.Int()
    published_at = fields.DateTime()
    body = fields.Dict()


class NoticePageSchema(Schema):
    items = fields.List(fields.Nested(NoticeSchema))
    total = fields.Int()
