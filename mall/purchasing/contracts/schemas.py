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
                       "next in rank; account_change: a contract's payee account locked to a "
                       "lender's repayment account or released (合同账户变更公告)"})
    reference = fields.Str(allow_none=True, metadata={
        "description": "The bidding round's number (round notices), the contract's number "
                       "(account changes); null for an order's other notices"})
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
                       "lines) and winner; a failure or award change its reason. An account "
                       "change: contract_number, order_number, buyer, supplier, change "
                       "(locked/released), account (bank_name, account_name, account_number "
                       "with only its last 4 digits), reason, changed_on"})


class NoticePageSchema(Schema):
    items = fields.List(fields.Nested(NoticeSchema))
    total = fields.Int()


class PayeeAccountSchema(Schema):
    bank_name = fields.Str(attribute="bank")
    account_name = fields.Str()
    account_number = fields.Str()
    locked = fields.Bool(metadata={"description": "Locked to a lender's repayment account "
                                                  "(政采贷): pay into it by treasury transfer"})
    lender_org_id = fields.Int(allow_none=True)


class PayeeAccountChangeSchema(Schema):
    at = fields.DateTime()
    bank_name = fields.Str()
    account_name = fields.Str()
    account_number = fields.Str()
    locked = fields.Bool()
    lender_org_id = fields.Int(allow_none=True)
    reason = fields.Str(metadata={"description": "Empty for the account in the contract"})


class PayeeAccountsSchema(Schema):
    current = fields.Nested(PayeeAccountSchema, metadata={
        "description": "The account the unit pays into"})
    history = fields.List(fields.Nested(PayeeAccountChangeSchema), metadata={
        "description": "The account in the contract, then every change, oldest first"})
