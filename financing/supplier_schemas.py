"""Shapes of the suppliers' financing API (政采贷): consents, the banks' reads of contracts,
the banks and their products, loan applications and loans.

Money in integer fen (分), rates in basis points (1 bp = 0.01 %), times ISO 8601 with their
offset (UTC), dates ISO 8601 (YYYY-MM-DD).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from financing.consent import MAX_CONSENT_DAYS
from financing.models import ConsentScope
from financing.schemas import LoanFieldsSchema
from mall.core.inputs import Count, Day, Id, PlainText
from mall.core.money import MAX_AMOUNT_FEN

MAX_CHOSEN = 1000  # contracts one consent may list
MAX_LOG = 500  # entries of the access log in one answer


# -- requests ---------------------------------------------------------------------------------

class ConsentGrantSchema(Schema):
    bank_org_id = Id(required=True, metadata={"description": "The bank (see GET /banks)"})
    scope = fields.Str(required=True, validate=validate.OneOf([s.value for s in ConsentScope]),
                       metadata={"description": "all (every contract, present and future) or "
                                                "chosen (those listed in order_ids)"})
    order_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=MAX_CHOSEN),
                            metadata={"description": "The orders of the chosen contracts "
                                                     "(empty for all)"})
    expires_on = Day(required=True, metadata={
        "description": f"The last day the bank may read (Asia/Shanghai), from today up to "
                       f"{MAX_CONSENT_DAYS} days ahead"})


class AccessLogQuerySchema(Schema):
    limit = Count(min=1, max=MAX_LOG, load_default=200,
                  metadata={"description": f"Entries, newest first, at most {MAX_LOG}"})


class LoanApplySchema(Schema):
    order_id = Id(required=True, metadata={"description": "The order of a signed contract of "
                                                          "yours, not yet paid"})
    product_id = Id(required=True, metadata={"description": "A bank's active product (see "
                                                            "GET /banks)"})
    amount_fen = fields.Int(required=True, strict=True,
                            validate=validate.Range(min=1, max=MAX_AMOUNT_FEN),
                            metadata={"description": "Asked for, in fen (分): at most the "
                                                     "product's share of the contract"})
    note = PlainText(load_default="", validate=validate.Length(max=500))


# -- answers ----------------------------------------------------------------------------------

class FinancePartnerRefSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class ConsentContractSchema(Schema):
    order_id = fields.Int()
    order_number = fields.Str(allow_none=True)
    contract_number = fields.Str(allow_none=True)


class SupplierConsentSchema(Schema):
    """A consent of yours that a bank read your contracts."""

    id = fields.Int()
    bank = fields.Nested(FinancePartnerRefSchema)
    scope = fields.Enum(ConsentScope, by_value=True)
    contracts = fields.List(fields.Nested(ConsentContractSchema), metadata={
        "description": "The contracts a chosen consent covers (empty for all)"})
    granted_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    live = fields.Bool(metadata={"description": "Neither expired nor revoked: the bank may "
                                                "read now"})


class ContractReadSchema(Schema):
    """One read of one of your contracts by a bank."""

    bank = fields.Nested(FinancePartnerRefSchema)
    order_id = fields.Int()
    order_number = fields.Str(allow_none=True)
    contract_number = fields.Str(allow_none=True)
    via = fields.Str(metadata={"description": "feed (the numbered feed), detail (by contract "
                                              "number), lookup (by your credit code) or page "
                                              "(the bank's pages)"})
    by_api = fields.Bool(metadata={"description": "Read by the bank's API client (else by a "
                                                  "person signed in)"})
    at = fields.DateTime()


class FinanceProductSchema(Schema):
    """A bank's financing product (政采贷产品)."""

    id = fields.Int()
    name = fields.Str()
    max_share_pct = fields.Int(metadata={"description": "Lends at most this percent of the "
                                                        "contract amount"})
    rate_min_bp = fields.Int(metadata={"description": "Lowest yearly rate, basis points"})
    rate_max_bp = fields.Int(metadata={"description": "Highest yearly rate, basis points"})
    term_days = fields.Int()
    regions = fields.List(fields.Str(), metadata={"description": "6-digit region codes "
                                                                 "served; 000000 everywhere"})
    description = fields.Str()


class FinancePartnerSchema(Schema):
    """A finance partner of the mall with its active products."""

    id = fields.Int()
    name = fields.Str()
    products = fields.List(fields.Nested(FinanceProductSchema))


class SupplierLoanSchema(LoanFieldsSchema):
    """A loan (or application) against one of your contracts, as the bank reports it."""

    bank = fields.Nested(FinancePartnerRefSchema)
