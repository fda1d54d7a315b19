"""Supplier API under /api/v1/supplier/ (token-authenticated offer management).

The supplier is always the actor's own organisation, never a value from the request,
so a supplier can only see and change its own offers: another supplier's SKU is
"not found". Offers are addressed by SKU, URL-encoded in paths.
"""

from marshmallow import RAISE

from mall.core.auth import SUPPLIER_STAFF, Scope
from mall.core.errors import ValidationFailed
from mall.extensions import db
from mall.web import current_actor, load_form
from mall.web.access import access
from mall.web.idempotency import idempotent
from mall.web.parsing import Blueprint
from suppliers import offers_read
from suppliers.listings import (
    CREATED,
    REFUSED,
    OfferInput,
    delist_offers,
    figure_refusal,
    save_offers,
    text_refusal,
    update_prices,
)
from suppliers.schemas import (
    BatchResultSchema,
    DecisionPageSchema,
    DecisionQuerySchema,
    DelistResultSchema,
    DelistSchema,
    ItemResultSchema,
    OfferBatchSchema,
    OfferDetailSchema,
    OfferPageSchema,
    OfferQuerySchema,
    OfferUpsertSchema,
    PriceBatchSchema,
    SkuSchema,
)

blueprint = Blueprint("supplier_api", __name__, url_prefix="/supplier",
                      description="Suppliers' offers: create, update, prices and "
                                  "stock, delist")

# Why save_offers refuses a single offer, as the field to blame and a message.
REFUSALS = {
    "unknown_category": ("category_code", "No such end-level category."),
    "category_not_sold": ("category_code", "This category is not sold in the mall."),
    "category_not_admitted": ("category_code", "Your company is not admitted for this category."),
}


def _supplier_id() -> int:
    return current_actor().organisation_id


# webargs ignores unknown query parameters unless told; we report them like body typos.
@blueprint.route("/offers")
@access(Scope.OFFERS_WRITE, *SUPPLIER_STAFF)
@blueprint.arguments(OfferQuerySchema, location="query", unknown=RAISE)
@blueprint.response(200, OfferPageSchema)
def list_offers(query):
    """Your offers, filtered by status, SKU prefix, category and update time, in pages."""
    return offers_read.list_offers(db.session(), current_actor(), supplier_id=_supplier_id(),
                                   **query)


@blueprint.route("/offers/<path:sku>")
@access(Scope.OFFERS_WRITE, *SUPPLIER_STAFF)
@blueprint.response(200, OfferDetailSchema)
def get_offer(sku: str):
    """One of your offers with its product, status, review reasons, prices and decisions."""
    return offers_read.get_offer_detail(db.session(), current_actor(), supplier_id=_supplier_id(),
                                        sku=sku)


@blueprint.route("/offers/<path:sku>", methods=["PUT"])
@access(Scope.OFFERS_WRITE, *SUPPLIER_STAFF)
@blueprint.arguments(OfferUpsertSchema)
@blueprint.response(200, ItemResultSchema, description="Updated or unchanged")
@blueprint.alt_response(201, schema=ItemResultSchema, description="Created", success=True)
def put_offer(data, sku: str):
    """Create or replace one offer by SKU; sending the same offer again changes nothing."""
    sku = load_form(SkuSchema(), {"sku": sku})["sku"]
    item = OfferInput(supplier_sku=sku, **{**data, "delivery_regions":
                                           tuple(data["delivery_regions"])})
    result = save_offers(db.session(), current_actor(), supplier_id=_supplier_id(),
                         items=[item]).results[0]
    if result.outcome == REFUSED:
        assert result.error is not None  # a refusal always names its reason
        field, message = (REFUSALS.get(result.error) or figure_refusal(result.error)
                          or text_refusal(result.error) or ("sku", result.error))
        raise ValidationFailed(message, code=result.error, errors={field: [message]})
    return result, 201 if result.outcome == CREATED else 200


@blueprint.route("/offers/batch", methods=["POST"])
@access(Scope.OFFERS_WRITE, *SUPPLIER_STAFF)
@idempotent
@blueprint.arguments(OfferBatchSchema)
@blueprint.response(200, BatchResultSchema)
def save_offer_batch(data):
    """Create or update up to 1,000 offers; each item gets its own result, refused or not."""
    return save_offers(db.session(), current_actor(), supplier_id=_supplier_id(),
                       items=data["items"])


@blueprint.route("/offers/prices", methods=["POST"])
@access(Scope.OFFERS_WRITE, *SUPPLIER_STAFF)
@idempotent
@blueprint.arguments(PriceBatchSchema)
@blueprint.response(200, BatchResultSchema)
def update_offer_prices(data):
    """Change price and/or stock of up to 10,000 offers; unknown SKUs are refused per item."""
    return update_prices(db.session(), current_actor(), supplier_id=_supplier_id(),
                         updates=data["items"])


@blueprint.route("/offers/delist", methods=["POST"])
@access(Scope.OFFERS_WRITE, *SUPPLIER_STAFF)
@idempotent
@blueprint.arguments(DelistSchema)
@blueprint.response(200, DelistResultSchema)
def delist(data):
    """Take offers off the mall; if any SKU is not yours, nothing is delisted (404)."""
    actor, supplier_id = current_actor(), _supplier_id()
    offers_read.check_own_skus(db.session(), actor, supplier_id=supplier_id, skus=data["skus"])
    return {"delisted": delist_offers(db.session(), actor, supplier_id=supplier_id,
                                      skus=data["skus"])}


@blueprint.route("/reviews")
@access(Scope.OFFERS_WRITE, *SUPPLIER_STAFF)
@blueprint.arguments(DecisionQuerySchema, location="query", unknown=RAISE)
@blueprint.response(200, DecisionPageSchema)
def list_reviews(query):
    """Review results of your offers (automatic checks, operator decisions), newest first."""
    return offers_read.list_decisions(db.session(), current_actor(), supplier_id=_supplier_id(),
                                      **query)
