"""Schemas of the statistics: the filters (one schema for the page's form and the API's
query) and the figures the API answers with."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from mall.core.clock import local_today
from mall.core.inputs import MAX_ID
from mall.i18n_messages import N_
from mall.purchasing.orders.models import PurchaseMode

# ASCII digits only and no trailing newline (\Z, not $); years 1900-2999 as elsewhere.
MONTH = re.compile(r"\A((?:19|2[0-9])[0-9]{2})-(0[1-9]|1[0-2])\Z")
QUARTER = re.compile(r"\A((?:19|2[0-9])[0-9]{2})-Q([1-4])\Z")
REGION = re.compile(r"\A[0-9]{6}\Z")
CATEGORY = re.compile(r"\A[ABC][0-9]{8}\Z")
MAX_MONTHS = 120  # the longest period one request covers: ten years
MODES = tuple(m.value for m in PurchaseMode)


def _id(description: str) -> fields.Int:
    return fields.Int(strict=False, validate=validate.Range(
        min=1, max=MAX_ID, error=N_("Not a known id.")),
        error_messages={"invalid": N_("Enter a whole number.")},
        metadata={"description": description})


def _months(text: str) -> int:
    """A YYYY-MM month as a count of months, to measure a period."""
    year, month = text.split("-")
    return int(year) * 12 + int(month)


def _text(pattern: re.Pattern[str], message: str, description: str) -> fields.Str:
    return fields.Str(validate=validate.Regexp(pattern, error=message),
                      error_messages={"invalid": message}, metadata={"description": description})


class StatisticsQuerySchema(Schema):
    """The filters: a period of months (``from``/``to``) or a quarter, and optionally a
    region, unit, level-1 or level-2 category, supplier and purchase mode. Without a period,
    the last twelve months up to this one."""

    class Meta:
        unknown = EXCLUDE

    from_month = _text(MONTH, N_("Enter a month as YYYY-MM, e.g. 2026-01."),
                       "First month, YYYY-MM (Asia/Shanghai)")
    to_month = _text(MONTH, N_("Enter a month as YYYY-MM, e.g. 2026-12."),
                     "Last month, YYYY-MM, included")
    quarter = _text(QUARTER, N_("Enter a quarter as YYYY-Qn, e.g. 2026-Q1."),
                    "A quarter instead of months, YYYY-Qn")
    region = _text(REGION, N_("Enter a region code of 6 digits, e.g. 430000 or 430100."),
                   "Region code of the purchasing units (GB/T 2260): a province (430000), "
                   "a city (430100) or a county")
    unit_id = _id("The purchasing unit (its organisation id)")
    category = _text(CATEGORY, N_("Enter a catalogue code such as A05000000 or A05040000."),
                     "A level-1 or level-2 category code of the catalogue (品目)")
    supplier_id = _id("The supplier (its organisation id); round figures are not kept per "
                      "supplier and are left out then")
    mode = fields.Str(validate=validate.OneOf(MODES, error=N_("Choose a purchase mode.")),
                      metadata={"description": "direct, quick or framework"})

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("quarter") and (data.get("from_month") or data.get("to_month")):
            raise ValidationError(N_("Give either a quarter or months, not both."), "quarter")
        first, last = data.get("from_month"), data.get("to_month")
        if first and last and first > last:
            raise ValidationError(N_("The last month is before the first."), "to_month")
        if first and not last:  # up to this month
            today = local_today()
            last = f"{today.year}-{today.month:02d}"
        if first and last and _months(last) - _months(first) >= MAX_MONTHS:
            raise ValidationError(N_("Choose a period of ten years at most."), "from_month")


class StatisticsTotalsSchema(Schema):
    deals = fields.Int(metadata={"description": "Orders concluded (confirmed, not cancelled "
                                                "or returned whole)"})
    amount_fen = fields.Int(metadata={"description": "Deal amount in fen (分)"})
    budget_fen = fields.Int(metadata={"description": "Budget in fen: a direct purchase's "
                                                     "reference prices, a round's ceiling"})
    savings_fen = fields.Int(metadata={"description": "Budget minus deal amount, in fen"})
    savings_rate_pct = fields.Float(allow_none=True, metadata={
        "description": "节支率: (budget − amount) / budget, in percent (2 decimals)"})
    sme_deals = fields.Int()
    sme_amount_fen = fields.Int()
    sme_share_count_pct = fields.Float(allow_none=True)
    sme_share_amount_pct = fields.Float(allow_none=True)
    local_deals = fields.Int(metadata={"description": "Deals with suppliers registered in "
                                                      "the unit's province"})
    local_amount_fen = fields.Int()
    local_share_count_pct = fields.Float(allow_none=True)
    local_share_amount_pct = fields.Float(allow_none=True)
    avg_delivery_days = fields.Float(allow_none=True, metadata={
        "description": "Days from order to delivery, on average over the deals delivered"})
    avg_payment_days = fields.Float(allow_none=True, metadata={
        "description": "Days from order to payment, on average over the deals paid"})
    overdue = fields.Int(metadata={"description": "Deals left unpaid past their payment "
                                                  "deadline (paid late or not yet)"})
    overdue_pct = fields.Float(allow_none=True)


class StatisticsRoundTotalsSchema(Schema):
    rounds = fields.Int(metadata={"description": "Bidding rounds ended (failed or awarded)"})
    failed = fields.Int()
    failure_rate_pct = fields.Float(allow_none=True)
    quotes = fields.Int()
    avg_quotes = fields.Float(allow_none=True)
    challenges = fields.Int()
    challenge_rate_pct = fields.Float(allow_none=True, metadata={
        "description": "Challenges (质疑) per 100 rounds ended"})
    complaints = fields.Int()
    complaint_rate_pct = fields.Float(allow_none=True, metadata={
        "description": "Complaints (投诉) per 100 rounds ended"})


class StatisticsMonthSchema(Schema):
    month = fields.Str(metadata={"description": "YYYY-MM"})
    deals = fields.Int()
    amount_fen = fields.Int()
    budget_fen = fields.Int()
    savings_rate_pct = fields.Float(allow_none=True)


class StatisticsModeSchema(Schema):
    mode = fields.Str(metadata={"description": "direct, quick or framework"})
    deals = fields.Int()
    amount_fen = fields.Int()
    budget_fen = fields.Int()
    savings_rate_pct = fields.Float(allow_none=True)
    sme_share_amount_pct = fields.Float(allow_none=True)


class StatisticsCategorySchema(Schema):
    code = fields.Str()
    name = fields.Str()
    deals = fields.Int()
    amount_fen = fields.Int()
    savings_rate_pct = fields.Float(allow_none=True)


class StatisticsSupplierSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    sme = fields.Bool()
    deals = fields.Int()
    amount_fen = fields.Int()


class StatisticsFiltersSchema(Schema):
    from_month = fields.Str()
    to_month = fields.Str()
    region = fields.Str(allow_none=True)
    unit_id = fields.Int(allow_none=True)
    category = fields.Str(allow_none=True)
    supplier_id = fields.Int(allow_none=True)
    mode = fields.Str(allow_none=True)


class FiguresSchema(Schema):
    filters = fields.Nested(StatisticsFiltersSchema)
    totals = fields.Nested(StatisticsTotalsSchema)
    rounds = fields.Nested(StatisticsRoundTotalsSchema, allow_none=True, metadata={
        "description": "Round figures; null when filtered by supplier or to direct purchase"})
    trend = fields.List(fields.Nested(StatisticsMonthSchema))
    by_mode = fields.List(fields.Nested(StatisticsModeSchema))
    top_categories = fields.List(fields.Nested(StatisticsCategorySchema))
    top_suppliers = fields.List(fields.Nested(StatisticsSupplierSchema))
    refreshed_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the job last recounted the facts"})
