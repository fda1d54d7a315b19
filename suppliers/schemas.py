"""Marshmallow schemas of the supplier API: offers in and out, batches, results, decisions.

Money is integer fen and counts are integers: ``strict`` integer fields refuse floats,
strings and booleans, so ``29.9`` or ``"2990"`` is a field error rather than a guess.
Every input schema raises on unknown fields, so a misspelt field is reported, not ignored.
"""

from __future__ import annotations

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from catalog.models import OfferStatus
from mall.core.inputs import Day, Moment, PlainText
from mall.core.money import MAX_PRICE_FEN, MAX_STOCK
from suppliers.listings import LEAD_TIME, MAX_PRICE_BATCH, WARRANTY, OfferInput, PriceStockUpdate
from suppliers.offers_read import MAX_PAGE_SIZE, SORT_KEYS

MAX_OFFER_BATCH = 1_000
MAX_DELIST_BATCH = 1_000
CATEGORY_CODE = validate.Regexp(r"^[ABC]\d{8}$", error="A category code is a letter A, B or C "
                                                       "and 8 digits.")
# A SKU is the supplier's own identifier: 1–64 characters, no control characters and no
# whitespace at either end (it is used in URLs, URL-encoded).
SKU = validate.Regexp(r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]{0,62}[^\s\x00-\x1f\x7f])?$",
                      error="A SKU has 1 to 64 characters, no control characters and no "
                            "spaces at either end.")


def _fen(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_PRICE_FEN),
                          metadata={"description": "Integer fen (分)."}, **kwargs)


def _stock(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_STOCK), **kwargs)


def _at_most_100_attributes(value: dict) -> None:
    # A plain function: validate.Length would appear as "maxLength" on an object in OpenAPI.
    if len(value) > 100:
        raise ValidationError("At most 100 attributes.")


class InputSchema(Schema):
    """Base of request schemas: unknown fields are errors."""

    class Meta:
        unknown = RAISE


class SkuSchema(InputSchema):
    sku = fields.Str(required=True, validate=SKU)


class OfferUpsertSchema(InputSchema):
    """One offer as PUT to /offers/<sku>: the whole listing, replaced."""

    category_code = fields.Str(required=True, validate=CATEGORY_CODE)
    brand = PlainText(required=True, validate=validate.Length(min=1, max=80))
    model = PlainText(required=True, validate=validate.Length(min=1, max=120))
    title = PlainText(required=True, validate=validate.Length(min=1, max=300))
    price_fen = _fen(required=True)
    stock = _stock(required=True)
    reference_price_fen = _fen(load_default=None, allow_none=True)
    reference_url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"},
                               validate=validate.Length(max=500))
    reference_checked_on = Day(load_default=None, allow_none=True)
    unit = PlainText(load_default="个", validate=validate.Length(min=1, max=10))
    attributes = fields.Dict(keys=PlainText(validate=validate.Length(min=1, max=50)),
                             values=PlainText(validate=validate.Length(max=500)),
                             load_default=dict, validate=_at_most_100_attributes,
                             metadata={"description": "Attribute name to text value, e.g. "
                                                      "{\"规格\": \"A4\"}."})
    barcode = fields.Str(load_default=None, allow_none=True,
                         validate=validate.Regexp(r"^\d{8,14}$", error="8 to 14 digits."))
    delivery_regions = fields.List(
        fields.Str(validate=validate.Regexp(r"^\d{6}$", error="A 6-digit region code.")),
        load_default=list, validate=validate.Length(max=500))
    lead_time_days = fields.Integer(strict=True, load_default=3,
                                    validate=validate.Range(min=LEAD_TIME.low, max=LEAD_TIME.high))
    warranty_months = fields.Integer(strict=True, load_default=12,
                                     validate=validate.Range(min=WARRANTY.low, max=WARRANTY.high))


class OfferItemSchema(OfferUpsertSchema):
    """One offer in a batch: the same fields plus its SKU."""

    supplier_sku = fields.Str(data_key="sku", required=True, validate=SKU)

    @post_load
    def make_input(self, data, **_kwargs) -> OfferInput:
        return OfferInput(**{**data, "delivery_regions": tuple(data["delivery_regions"])})


class OfferBatchSchema(InputSchema):
    items = fields.List(fields.Nested(OfferItemSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_OFFER_BATCH))


class PriceUpdateSchema(InputSchema):
    """A new price, a new stock, or both, for one SKU."""

    supplier_sku = fields.Str(data_key="sku", required=True, validate=SKU)
    price_fen = _fen(load_default=None)
    stock = _stock(load_default=None)

    @validates_schema
    def price_or_stock(self, data, **_kwargs):
        if data.get("price_fen") is None and data.get("stock") is None:
            raise ValidationError("Send price_fen, stock or both.", "price_fen")

    @post_load
    def make_update(self, data, **_kwargs) -> PriceStockUpdate:
        return PriceStockUpdate(**data)


def _no_duplicate_skus(items: list[PriceStockUpdate]) -> None:
    seen: set[str] = set()
    errors: dict[int, dict[str, list[str]]] = {}
    for index, item in enumerate(items):
        sku = item.supplier_sku
        if sku in seen:
            errors[index] = {"sku": ["This SKU is already in the batch."]}
        seen.add(sku)
    if errors:
        raise ValidationError({"items": errors})


class PriceBatchSchema(InputSchema):
    items = fields.List(fields.Nested(PriceUpdateSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_PRICE_BATCH))

    @validates_schema(skip_on_field_errors=True)
    def unique_skus(self, data, **_kwargs):
        _no_duplicate_skus(data["items"])


class DelistSchema(InputSchema):
    skus = fields.List(fields.Str(validate=SKU), required=True,
                       validate=validate.Length(min=1, max=MAX_DELIST_BATCH))


class PageQuerySchema(InputSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class OfferQuerySchema(PageQuerySchema):
    status = fields.Enum(OfferStatus, by_value=True, load_default=None)
    sku = fields.Str(load_default=None, validate=validate.Length(min=1, max=64),
                     metadata={"description": "Offers whose SKU starts with this."})
    category_code = fields.Str(load_default=None, validate=CATEGORY_CODE,
                               metadata={"description": "A leaf, or a parent to include "
                                                        "everything below it."})
    updated_since = Moment(load_default=None, metadata={"description": "Updated at or after."})
    sort = fields.Str(load_default="-updated_at", validate=validate.OneOf(
        [key for name in SORT_KEYS for key in (name, f"-{name}")]))


class DecisionQuerySchema(PageQuerySchema):
    since = Moment(load_default=None,
                   metadata={"description": "Decided at or after."})
    sku = fields.Str(load_default=None, validate=SKU)
    action = fields.Str(load_default=None, validate=validate.Length(min=1, max=30))


class DayField(fields.Date):
    """A date stored as midnight UTC, shown as the date."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and hasattr(value, "date"):
            value = value.date()
        return super()._serialize(value, attr, obj, **kwargs)


class ProductSchema(Schema):
    id = fields.Int()
    category_code = fields.Function(lambda p: p.category.code)
    brand = fields.Str()
    model = fields.Str()
    title = fields.Str()
    unit = fields.Str()
    attributes = fields.Dict()
    barcode = fields.Str(allow_none=True)


class OfferSchema(Schema):
    """A supplier's offer as the supplier sees it."""

    id = fields.Int()
    sku = fields.Str(attribute="supplier_sku")
    status = fields.Enum(OfferStatus, by_value=True)
    review_reasons = fields.List(fields.Str())
    visible = fields.Bool(metadata={"description": "Listed and not hidden by a suspension."})
    held_by_operator = fields.Bool(metadata={"description": "Frozen or delisted by the "
                                                            "operator: edits do not relist."})
    price_fen = fields.Int()
    reference_price_fen = fields.Int(allow_none=True)
    reference_url = fields.Str(allow_none=True)
    reference_checked_on = DayField(allow_none=True)
    stock = fields.Int()
    delivery_regions = fields.List(fields.Str())
    lead_time_days = fields.Int()
    warranty_months = fields.Int()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    product = fields.Nested(ProductSchema)


class PriceChangeSchema(Schema):
    changed_at = fields.DateTime()
    old_price_fen = fields.Int(allow_none=True)
    new_price_fen = fields.Int()


class DecisionSchema(Schema):
    """One listing decision: an automatic check, an operator's action or the supplier's own."""

    id = fields.Int()
    offer_id = fields.Int()
    sku = fields.Str()
    decided_at = fields.DateTime()
    action = fields.Str()
    reasons = fields.List(fields.Str())
    note = fields.Str(allow_none=True)


class OfferDetailSchema(Schema):
    offer = fields.Nested(OfferSchema)
    price_history = fields.List(fields.Nested(PriceChangeSchema),
                                metadata={"description": "The last 50 prices, newest first."})
    decisions = fields.List(fields.Nested(DecisionSchema),
                            metadata={"description": "The last 50 decisions, newest first."})


class PageSchema(Schema):
    total = fields.Int()
    page = fields.Int()
    page_size = fields.Int()


class OfferPageSchema(PageSchema):
    items = fields.List(fields.Nested(OfferSchema))


class DecisionPageSchema(PageSchema):
    items = fields.List(fields.Nested(DecisionSchema))


class ItemResultSchema(Schema):
    """What became of one item of a request."""

    sku = fields.Str(attribute="supplier_sku")
    outcome = fields.Str(metadata={"description": "created, updated, unchanged or refused"})
    offer_id = fields.Int(allow_none=True)
    status = fields.Str(allow_none=True)
    reasons = fields.List(fields.Str(), metadata={"description": "Why it is held for review."})
    error = fields.Str(allow_none=True, metadata={"description": "Why it was refused."})


class BatchResultSchema(Schema):
    counts = fields.Method("count_outcomes")
    results = fields.List(fields.Nested(ItemResultSchema))

    def count_outcomes(self, report) -> dict[str, int]:
        counts = {name: report.count(name) for name in ("created", "updated", "unchanged",
                                                        "refused")}
        return {**counts, "in_review": report.in_review}


class DelistResultSchema(Schema):
    delisted = fields.Int(metadata={"description": "Offers taken off the mall by this call."})
