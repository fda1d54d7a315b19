"""Shapes of the banks' feed API (政采贷), documented in the OpenAPI document.

A contract is what ``mall.purchasing.contracts.facts.contract_facts`` says of it: money in
integer fen (分), times ISO 8601 with their offset (UTC), dates ISO 8601 (YYYY-MM-DD).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from financing.feed import MAX_PAGE
from financing.models import ConsentScope, LoanStatus
from financing.products import MAX_RATE_BP, MAX_TERM_DAYS
from mall.core.inputs import MAX_BIGINT, Day, PlainText, needed
from mall.core.money import MAX_AMOUNT_FEN
from mall.i18n_messages import N_
from mall.purchasing.orders.models import (
    AcceptanceResult,
    OrderStatus,
    Paperwork,
    PurchaseMode,
)
from mall.purchasing.payments.models import PaymentMethod
from suppliers.models import SizeClass


def _one_of(enum_type) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum_type])


def _fen(description: str) -> fields.Int:
    return fields.Int(metadata={"description": description + ", in fen (分; 100 fen = ¥1)"})


# -- requests ---------------------------------------------------------------------------------

class FeedQuerySchema(Schema):
    after = fields.Int(load_default=0, validate=validate.Range(min=0, max=MAX_BIGINT), metadata={
        "description": "Your cursor: the next_after of your last pull (0 to start)"})
    limit = fields.Int(load_default=MAX_PAGE, validate=validate.Range(min=1, max=MAX_PAGE),
                       metadata={"description": "Changes per page, at most 1,000"})


# -- the contract -----------------------------------------------------------------------------

class ContractPartySchema(Schema):
    name = fields.Str()
    credit_code = fields.Str(allow_none=True, metadata={
        "description": "Unified social credit code (统一社会信用代码), 18 characters"})


class ContractSupplierSchema(ContractPartySchema):
    sme = fields.Bool(metadata={"description": "A small, medium or micro enterprise (中小企业) "
                                               "by its declaration"})
    size = fields.Str(allow_none=True, validate=_one_of(SizeClass), metadata={
        "description": "Declared size (中小企业声明函); null if never declared"})


class ContractItemSchema(Schema):
    title = fields.Str()
    brand = fields.Str()
    model = fields.Str()
    category_code = fields.Str(metadata={"description": "品目 code of the catalogue"})
    quantity = fields.Int()
    unit = fields.Str()
    unit_price_fen = _fen("Unit price")
    amount_fen = _fen("quantity × unit price")


class ContractAcceptanceSchema(Schema):
    result = fields.Str(validate=_one_of(AcceptanceResult), metadata={
        "description": "pass, partial (part of the goods accepted) or reject"})
    accepted_on = fields.Date()


class ContractInvoiceSchema(Schema):
    number = fields.Str()
    invoiced_at = fields.DateTime(allow_none=True)


class ContractPaymentSchema(Schema):
    method = fields.Str(validate=_one_of(PaymentMethod), metadata={
        "description": "treasury (国库集中支付) or card (公务卡)"})
    reference = fields.Str(allow_none=True, metadata={
        "description": "The treasury voucher number, or the card payment's id"})
    paid_on = fields.Date(allow_none=True)
    amount_fen = _fen("Paid")
    refunded_fen = _fen("Refunded since")
    payee_account_number = fields.Str(allow_none=True, metadata={
        "description": "The account the money went to"})


class ContractPayeeSchema(Schema):
    bank_name = fields.Str()
    account_name = fields.Str()
    account_number = fields.Str()
    locked = fields.Bool(metadata={
        "description": "Locked to a lender's repayment account (回款账户) until it releases it"})
    lender_org_id = fields.Int(allow_none=True, metadata={
        "description": "The lender holding the lock (null unless locked)"})


class ContractPayeeChangeSchema(ContractPayeeSchema):
    at = fields.DateTime()
    reason = fields.Str(metadata={"description": "Empty for the account the contract names"})
    lender_org_id = fields.Int(allow_none=True, metadata={
        "description": "The lender that locked or released the account"})


class ContractSchema(Schema):
    """A government purchase contract (政府采购合同) or settlement order (结算单), as it is now."""

    order_id = fields.Int()
    contract_number = fields.Str(metadata={"description": "合同编号"})
    paperwork = fields.Str(validate=_one_of(Paperwork), metadata={
        "description": "contract (signed by both parties) or settlement (结算单, small orders, "
                       "nothing to sign)"})
    order_number = fields.Str()
    project_number = fields.Str(metadata={
        "description": "The bidding round's number, else the order's"})
    round_number = fields.Str(allow_none=True, metadata={
        "description": "The bidding round the order was awarded in (null: a direct purchase)"})
    budget_project_code = fields.Str(metadata={"description": "The purchaser's budget project"})
    purchase_mode = fields.Str(validate=_one_of(PurchaseMode), metadata={
        "description": "direct (直购), quick (商城竞价) or framework (入围竞价)"})
    purchaser = fields.Nested(ContractPartySchema, metadata={"description": "采购人"})
    supplier = fields.Nested(ContractSupplierSchema, metadata={"description": "供应商"})
    items = fields.List(fields.Nested(ContractItemSchema))
    total_fen = _fen("Contract amount")
    accepted_fen = _fen("Amount of the goods accepted")
    paid_fen = _fen("Paid so far")
    refunded_fen = _fen("Refunded to the purchaser")
    signed_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the purchaser signed (a settlement order: when it was issued); "
                       "null until then"})
    delivery_days = fields.Int(metadata={"description": "Delivery term in days"})
    acceptance = fields.Nested(ContractAcceptanceSchema, allow_none=True, metadata={
        "description": "验收: null until accepted"})
    invoice = fields.Nested(ContractInvoiceSchema, allow_none=True, metadata={
        "description": "null until invoiced"})
    pay_by = fields.DateTime(allow_none=True, metadata={"description": "Payment due"})
    payments = fields.List(fields.Nested(ContractPaymentSchema), metadata={
        "description": "The payments that arrived"})
    payee_account = fields.Nested(ContractPayeeSchema, metadata={
        "description": "The account the purchaser pays into (收款账户)"})
    payee_history = fields.List(fields.Nested(ContractPayeeChangeSchema), metadata={
        "description": "The account the contract named, then every change, oldest first"})
    status = fields.Str(validate=_one_of(OrderStatus), metadata={
        "description": "The order's state: confirmed → supplier_signed → signed → shipped → "
                       "delivered → accepted → invoiced → paid → rated; cancelled, returned"})
    secret = fields.Bool(metadata={
        "description": "A secret (涉密) purchase: never published, shared by the supplier's "
                       "consent only"})


# -- answers ----------------------------------------------------------------------------------

class FeedItemSchema(Schema):
    seq = fields.Int(metadata={"description": "The change's number: strictly increasing"})
    step = fields.Str(metadata={
        "description": "What changed: the order step (signed, accepted, invoiced, paid, ...), "
                       "or consented (a new consent made the contract readable)"})
    at = fields.DateTime(metadata={"description": "When the change was numbered"})
    contract = fields.Nested(ContractSchema, metadata={"description": "The contract now"})


class FeedPageSchema(Schema):
    items = fields.List(fields.Nested(FeedItemSchema))
    next_after = fields.Int(metadata={"description": "Send as after on your next pull"})
    has_more = fields.Bool(metadata={"description": "Another page is waiting now"})


class SupplierContractsSchema(Schema):
    credit_code = fields.Str(metadata={"description": "The supplier's code, in compact form"})
    items = fields.List(fields.Nested(ContractSchema), metadata={"description": "Newest first"})


class ConsentSupplierSchema(Schema):
    name = fields.Str()
    credit_code = fields.Str(allow_none=True)


class ConsentSchema(Schema):
    """A supplier's live consent that your bank read its contracts."""

    id = fields.Int()
    supplier = fields.Nested(ConsentSupplierSchema)
    scope = fields.Enum(ConsentScope, by_value=True, metadata={
        "description": "all (every contract, present and future) or chosen (those listed)"})
    contract_numbers = fields.List(fields.Str(), metadata={
        "description": "The contracts a chosen consent covers (empty for all)"})
    granted_at = fields.DateTime()
    expires_at = fields.DateTime()


# -- loans ------------------------------------------------------------------------------------

class _AmountSchema(Schema):
    amount_fen = fields.Int(required=True, strict=True,
                            validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
                            metadata={"description": "In fen (分)"})


class LoanApproveSchema(_AmountSchema):
    rate_bp = fields.Int(required=True, strict=True,
                         validate=validate.Range(min=1, max=MAX_RATE_BP), metadata={
                             "description": "Yearly rate in basis points (1 bp = 0.01 %), "
                                            "within the product's range"})
    term_days = fields.Int(required=True, strict=True,
                           validate=validate.Range(min=1, max=MAX_TERM_DAYS))
    note = PlainText(load_default="", validate=validate.Length(max=500))


class LoanRejectSchema(Schema):
    reason = PlainText(**needed(N_("Give a reason.")), validate=validate.Length(min=1, max=500))


class LoanDisburseSchema(_AmountSchema):
    value_date = Day(required=True, metadata={"description": "The day the money was paid "
                                                             "out (from the application to "
                                                             "today)"})
    bank_name = PlainText(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "Bank (branch) of the repayment account (回款账户) the contract's payee "
                       "account is locked to"})
    account_name = PlainText(required=True, validate=validate.Length(min=1, max=200))
    account_number = PlainText(required=True, validate=validate.Length(min=1, max=60),
                               metadata={"description": "8 to 40 digits (spaces, dashes "
                                                        "ignored)"})
    bank_reference = PlainText(required=True, validate=validate.Length(min=1, max=60),
                               metadata={"description": "Your own number of the loan"})


class LoanRepaySchema(_AmountSchema):
    on_day = Day(required=True, metadata={"description": "From the payout to today"})


class LoanCloseSchema(Schema):
    note = PlainText(load_default="", validate=validate.Length(max=500))


class LoanReleaseSchema(Schema):
    reason = PlainText(**needed(N_("Give a reason.")), validate=validate.Length(min=1, max=300))


class LoanEventSchema(Schema):
    kind = fields.Str(metadata={"description": "applied, approved, rejected, disbursed, "
                                               "repayment, repaid, closed, released"})
    at = fields.DateTime()
    on_day = fields.DateTime(allow_none=True, metadata={"description": "The bank's value date"})
    amount_fen = fields.Int(allow_none=True)
    note = fields.Str(allow_none=True)


class LoanFieldsSchema(Schema):
    """What the bank and the supplier both read of a loan (each adds the other party)."""

    id = fields.Int()
    number = fields.Str()
    order_id = fields.Int()
    contract_number = fields.Str(allow_none=True)
    product_id = fields.Int(allow_none=True)
    status = fields.Enum(LoanStatus, by_value=True, metadata={
        "description": "applied → approved → disbursed → repaid → closed; rejected (→ closed)"})
    requested_fen = fields.Int()
    approved_fen = fields.Int()
    rate_bp = fields.Int(allow_none=True)
    term_days = fields.Int(allow_none=True)
    disbursed_fen = fields.Int()
    disbursed_on = fields.DateTime(allow_none=True)
    repaid_fen = fields.Int()
    repayment_bank_name = fields.Str(allow_none=True, metadata={
        "description": "The bank's repayment account (回款账户) the contract is paid into "
                       "while the loan is paid out"})
    repayment_account_name = fields.Str(allow_none=True)
    repayment_account_number = fields.Str(allow_none=True)
    note = fields.Str(allow_none=True)
    events = fields.List(fields.Nested(LoanEventSchema), metadata={"description": "Oldest first"})


class LoanSchema(LoanFieldsSchema):
    """A loan against one contract, as the bank reports it; the supplier sees every step."""

    supplier = fields.Nested(ConsentSupplierSchema)
    bank_reference = fields.Str(allow_none=True)
