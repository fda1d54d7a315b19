"""Search API: GET /api/v1/search (the search page's parameters) and GET /api/v1/products/<id>.

The result schemas live here rather than in catalog/schemas.py because they describe only
these two endpoints' answers.
"""


from flask import current_app
from marshmallow import RAISE, Schema, fields

from catalog.products import product_with_offers
from catalog.search_forms import SearchQuerySchema, search_query
from mall.core.auth import Scope
from mall.extensions import db
from mall.web.access import access
from mall.web.parsing import Blueprint

blueprint = Blueprint("search_api", __name__,
                      description="Search offers with facets and compare suppliers' prices")


class SearchHitSchema(Schema):
    offer_id = fields.Int()
    product_id = fields.Int()
    title = fields.Str()
    category_code = fields.Str()
    brand = fields.Str()
    supplier_id = fields.Int()
    supplier_name = fields.Str()
    price_fen = fields.Int(metadata={"description": "Integer fen (分)."})
    stock = fields.Int()


class SearchGroupSchema(Schema):
    product_id = fields.Int()
    title = fields.Str()
    brand = fields.Str()
    category_code = fields.Str()
    lowest_price_fen = fields.Int()
    supplier_count = fields.Int()
    offer_count = fields.Int()
    best_offer_id = fields.Int()


class SearchFacetCountSchema(Schema):
    value = fields.Str()
    count = fields.Int()


class SearchResultSchema(Schema):
    """A page of offers (and of products when grouped), the exact total and facet counts."""

    hits = fields.List(fields.Nested(SearchHitSchema))
    groups = fields.List(fields.Nested(SearchGroupSchema),
                         metadata={"description": "One per product when group=true."})
    total = fields.Int(metadata={"description": "Matching products when grouped, else offers."})
    total_estimated = fields.Bool(metadata={
        "description": "True when a grouped total over a large set is an estimate "
                       "(above 5,000 products); offer totals and facet counts are exact."})
    offer_total = fields.Int(allow_none=True, metadata={
        "description": "Exact number of matching offers (null from Meilisearch when grouped)."})
    facets = fields.Dict(keys=fields.Str(), values=fields.List(fields.Nested(SearchFacetCountSchema)),
                         metadata={"description": "Facet name to offer counts per value; "
                                                  "category counts roll up the tree."})
    relaxed = fields.Bool()


class ProductOfferSchema(Schema):
    offer_id = fields.Int()
    supplier_id = fields.Int()
    supplier_name = fields.Str()
    price_fen = fields.Int()
    stock = fields.Int()
    lead_time_days = fields.Int()
    warranty_months = fields.Int()
    sme = fields.Bool()


class ProductCategoryStepSchema(Schema):
    code = fields.Str()
    name = fields.Str()


class ProductDetailSchema(Schema):
    """A product and every visible offer, cheapest first."""

    product_id = fields.Int()
    title = fields.Str()
    brand = fields.Str()
    model = fields.Str()
    unit = fields.Str()
    attributes = fields.Dict(keys=fields.Str(), values=fields.Raw())
    energy_saving = fields.Bool()
    green = fields.Bool()
    category_code = fields.Str()
    category_path = fields.List(fields.Nested(ProductCategoryStepSchema))
    offers = fields.List(fields.Nested(ProductOfferSchema))


@blueprint.route("/search")
@access(Scope.CATALOG_READ)
@blueprint.arguments(SearchQuerySchema, location="query", unknown=RAISE)
@blueprint.response(200, SearchResultSchema)
def search(query):
    """Visible offers matching text and filters, with exact facet counts; grouped by
    product unless group=false."""
    return current_app.extensions["search"]().search(search_query(query))


@blueprint.route("/products/<int:product_id>")
@access(Scope.CATALOG_READ)
@blueprint.response(200, ProductDetailSchema)
def get_product(product_id: int):
    """A product with every supplier's visible offer sorted by price."""
    return product_with_offers(db.session(), product_id)
