"""Query schemas of product search, shared by the search page and GET /api/v1/search.

The API takes prices in integer fen (``price_min_fen``); the page takes what a person
types in yuan (``price_min``, "12.5") and turns it into fen. Both end in one SearchQuery.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from catalog.search import FACETS, SearchQuery, Sort
from mall.core.inputs import Id
from mall.core.money import MAX_PRICE_FEN, parse_yuan

MAX_PAGE_SIZE = 100
MAX_PAGE = 500  # deeper pages are not browsed by people and cost the engine most
PAGE_SIZE = 20
CATEGORY_CODE = validate.Regexp(r"^[ABC]\d{8}$",
                                error="A category code is a letter A, B or C and 8 digits.")
REGION_CODE = validate.Regexp(r"^\d{6}$", error="A region code has 6 digits.")
PRICE_ORDER = "The lowest price must not exceed the highest price."


def _fen(**kwargs) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(
        min=0, max=MAX_PRICE_FEN, error="Enter an amount between 0 and 10,000,000,000 yuan."),
        load_default=None, metadata={"description": "Integer fen (分)."}, **kwargs)


class _SearchFields(Schema):
    """What page and API share: text, filters, order, page and grouping."""

    class Meta:
        unknown = RAISE

    q = fields.Str(load_default="", validate=validate.Length(max=200),
                   metadata={"description": "What the buyer typed, e.g. 'A4复印纸 70g'."})
    category = fields.Str(load_default=None, validate=CATEGORY_CODE,
                          metadata={"description": "Offers under this category at any level."})
    brand = fields.List(fields.Str(validate=validate.Length(min=1, max=80)), load_default=list,
                        metadata={"description": "Repeat for several brands (any of them)."})
    supplier = fields.List(Id(strict=False),
                           load_default=list,
                           metadata={"description": "Supplier ids; repeat for several."})
    sme = fields.Boolean(load_default=False, metadata={"description": "SME suppliers only."})
    region = fields.Str(load_default=None, validate=REGION_CODE,
                        metadata={"description": "Delivery region the offer must cover."})
    energy_saving = fields.Boolean(load_default=False)
    green = fields.Boolean(load_default=False)
    sort = fields.Str(load_default=Sort.RELEVANCE.value,
                      validate=validate.OneOf([s.value for s in Sort]))
    page = fields.Integer(strict=False, load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(strict=False, load_default=PAGE_SIZE,
                               validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    group = fields.Boolean(load_default=True,
                           metadata={"description": "One result per product (lowest price, "
                                                    "supplier count)."})


class SearchQuerySchema(_SearchFields):
    """GET /api/v1/search: prices in integer fen."""

    price_min_fen = _fen()
    price_max_fen = _fen()

    @validates_schema
    def _price_order(self, data: dict, **_kwargs) -> None:
        low, high = data.get("price_min_fen"), data.get("price_max_fen")
        if low is not None and high is not None and low > high:
            raise ValidationError(PRICE_ORDER, field_name="price_max_fen")


def _yuan(value: str) -> int:
    try:
        fen = parse_yuan(value)
    except ValueError as exc:
        raise ValidationError("Enter an amount in yuan, e.g. 25 or 25.50.") from exc
    if not 0 <= fen <= MAX_PRICE_FEN:
        raise ValidationError("Enter an amount between 0 and 10,000,000,000 yuan.")
    return fen


class YuanField(fields.Field[int]):
    """A yuan amount typed by a person, loaded as integer fen."""

    _text = fields.Str()  # reads the typed text, with a string field's checks and messages

    def _deserialize(self, value: Any, attr, data, **kwargs) -> int:
        return _yuan(self._text._deserialize(value, attr, data, **kwargs))


class SearchPageSchema(_SearchFields):
    """The search page: prices typed in yuan."""

    price_min = YuanField(load_default=None)
    price_max = YuanField(load_default=None)

    @validates_schema
    def _price_order(self, data: dict, **_kwargs) -> None:
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            raise ValidationError(PRICE_ORDER, field_name="price_max")


def search_query(data: dict, *, facets: tuple[str, ...] = FACETS) -> SearchQuery:
    """The engine's query from either schema's loaded data."""
    return SearchQuery(
        text=data["q"].strip(), category_code=data["category"], brands=tuple(data["brand"]),
        supplier_ids=tuple(data["supplier"]),
        price_min_fen=data.get("price_min_fen", data.get("price_min")),
        price_max_fen=data.get("price_max_fen", data.get("price_max")),
        sme_only=data["sme"], region=data["region"], energy_saving=data["energy_saving"],
        green=data["green"], facets=facets, sort=Sort(data["sort"]), page=data["page"],
        page_size=data["page_size"], group_by_product=data["group"])


class CartAddSchema(Schema):
    """POST /cart/add: which offer and how many."""

    class Meta:
        unknown = RAISE

    offer_id = Id(strict=False, required=True)
    quantity = fields.Integer(strict=False, load_default=1,
                              validate=validate.Range(min=1, max=100_000))
    next = fields.Str(load_default="")
    csrf_token = fields.Str(load_default="")
