"""Saving suppliers' offers in batches: product matching, upsert by SKU, price history, review.

One code path serves the single-offer API, the batch API and the bulk import, so an offer
gets the same checks however it arrives. Everything is done in bulk per batch (a few
queries per batch, never per row) because imports run to a million rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from catalog.normalise import normalise_model
from catalog.sync import offers_changed
from mall.core import bulk
from mall.core.auth import SUPPLIER_STAFF, Actor, Scope
from mall.core.clock import now, to_local
from mall.core.db import rowcount
from mall.core.errors import NotFound, ValidationFailed
from mall.core.inputs import CONTROL_CHARACTERS, control_characters
from mall.core.money import PRICE, STOCK, Bound, within
from mall.i18n_messages import N_
from suppliers.ceilings import live_ceilings
from suppliers.models import AdmissionStatus, CategoryAdmission, ListingDecision
from suppliers.moderation import record_queued
from suppliers.product_matching import match_products
from suppliers.review import DEFAULT_MAX_RATIO_PCT, MANUAL_REVIEW, ListingFacts, check_listing

MAX_PRICE_BATCH = 10_000
# Rows are inserted into the tables (Core), not through the ORM (see mall.core.bulk).
_OFFERS, _PRICE_CHANGES = Offer.__table__, PriceChange.__table__

# Outcomes of one item.
CREATED, UPDATED, UNCHANGED, REFUSED = "created", "updated", "unchanged", "refused"

LEAD_TIME = Bound(0, 365, N_("Enter a lead time from 0 to 365 days."))
WARRANTY = Bound(0, 240, N_("Enter a warranty from 0 to 240 months."))
# The figures of an offer and their bounds, checked here whatever the door (API, page,
# import); an item outside one is refused with the code "<field>_out_of_range".
FIGURES: dict[str, Bound] = {"price_fen": PRICE, "reference_price_fen": PRICE, "stock": STOCK,
                             "lead_time_days": LEAD_TIME, "warranty_months": WARRANTY}
OUT_OF_RANGE = "_out_of_range"


@dataclass(frozen=True)
class OfferInput:
    """One offer as a supplier sends it (already shape-checked by a schema)."""

    supplier_sku: str
    category_code: str
    brand: str
    model: str
    title: str
    price_fen: int
    stock: int
    reference_price_fen: int | None = None
    reference_url: str | None = None
    reference_checked_on: date | None = None
    unit: str = "个"
    attributes: dict = field(default_factory=dict)
    barcode: str | None = None
    delivery_regions: tuple[str, ...] = ()
    lead_time_days: int = 3
    warranty_months: int = 12


@dataclass
class ItemResult:
    """What became of one item: created/updated/unchanged/refused, its status and reasons."""

    supplier_sku: str
    outcome: str
    offer_id: int | None = None
    status: str | None = None
    reasons: list[str] = field(default_factory=list)
    error: str | None = None  # refused items: a stable code


@dataclass
class BatchReport:
    """Counts of a batch and one result per item, in input order."""

    results: list[ItemResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def in_review(self) -> int:
        return sum(1 for r in self.results if r.status == OfferStatus.PENDING_REVIEW.value
                   and r.outcome in (CREATED, UPDATED))


def require_supplier(actor: Actor, supplier_id: int) -> None:
    """Only the supplier's own staff (or its tokens with offers:write) touch its offers."""
    if actor.organisation_id != supplier_id:
        raise NotFound()
    actor.require_role(*SUPPLIER_STAFF)
    actor.require_scope(Scope.OFFERS_WRITE)


def _categories(session: Session, codes: set[str]) -> dict[str, Category]:
    rows = session.scalars(select(Category).where(Category.code.in_(codes))).all()
    return {c.code: c for c in rows}


def _admitted_category_ids(session: Session, supplier_id: int, on: date) -> set[int]:
    rows = session.execute(select(CategoryAdmission.category_id).where(
        CategoryAdmission.supplier_id == supplier_id,
        CategoryAdmission.status == AdmissionStatus.ACTIVE,
        CategoryAdmission.admitted_on <= on,
        (CategoryAdmission.ends_on.is_(None)) | (CategoryAdmission.ends_on >= on))).all()
    return {r[0] for r in rows}


def _market(session: Session, product_ids: set[int]) -> dict[int, list[tuple[int, int, str]]]:
    """Listed offers per product: (supplier, price, sku), for averages and duplicates."""
    market: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    if not product_ids:
        return market
    rows = session.execute(
        select(Offer.product_id, Offer.supplier_id, Offer.price_fen, Offer.supplier_sku)
        .where(bulk.among(session, Offer.product_id, product_ids),
               Offer.status.in_([OfferStatus.LISTED, OfferStatus.PENDING_REVIEW,
                                 OfferStatus.FROZEN]))).all()
    for product_id, supplier_id, price, sku in rows:
        market[product_id].append((supplier_id, price, sku))
    return market


def _others_average(entries: list[tuple[int, int, str]], supplier_id: int) -> int | None:
    prices = [price for owner, price, _sku in entries if owner != supplier_id]
    return sum(prices) // len(prices) if prices else None


def _match_products(session: Session, items: Sequence[OfferInput],
                    categories: dict[str, Category], moment: datetime) -> dict[tuple, int]:
    """Product id per (category id, brand, model key); creates the products not yet known."""
    keys = {(categories[i.category_code].id, i.brand.strip(), normalise_model(i.model)): i
            for i in items}

    def new_product(key: tuple[int, str, str]) -> dict:
        item = keys[key]
        return {"category_id": key[0], "brand": key[1], "model": item.model.strip(),
                "model_key": key[2], "title": item.title.strip(), "unit": item.unit,
                "attributes": item.attributes, "barcode": item.barcode,
                "created_at": moment, "updated_at": moment}

    return match_products(session, keys, new_product)


_OFFER_FIELDS = ("price_fen", "reference_price_fen", "reference_url", "reference_checked_on",
                 "stock", "delivery_regions", "lead_time_days", "warranty_months")


def save_offers(session: Session, actor: Actor, *, supplier_id: int,
                items: Sequence[OfferInput],
                max_ratio_pct: int = DEFAULT_MAX_RATIO_PCT) -> BatchReport:
    """Create or update the supplier's offers by SKU, run the listing checks, keep price history.

    Re-sending identical data changes nothing (no history row, no new decision), so a
    re-uploaded file or a retried API call is harmless.
    """
    require_supplier(actor, supplier_id)
    moment = now()
    today = to_local(moment).date()  # dates of admissions and agreements are Shanghai dates
    report = BatchReport()
    categories = _categories(session, {i.category_code for i in items})
    admitted = _admitted_category_ids(session, supplier_id, today)
    accepted: list[OfferInput] = []
    results_by_sku: dict[str, ItemResult] = {}
    for item in items:
        result = ItemResult(item.supplier_sku, REFUSED)
        category = categories.get(item.category_code)
        if item.supplier_sku in results_by_sku:
            result.error = "duplicate_sku_in_batch"
        elif category is None or not category.is_leaf:
            result.error = "unknown_category"
        elif not category.enabled:
            result.error = "category_not_sold"
        elif category.id not in admitted:
            result.error = "category_not_admitted"
        elif (figure := _figure_out_of_range(item)) is not None:
            result.error = figure + OUT_OF_RANGE
        elif (text := _text_with_control_characters(item)) is not None:
            result.error = text + CONTROL_CHARACTERS_SUFFIX
        else:
            accepted.append(item)
        report.results.append(result)
        results_by_sku.setdefault(item.supplier_sku, result)
    if not accepted:
        return report

    products = _match_products(session, accepted, categories, moment)
    existing = {row.supplier_sku: row for row in session.execute(
        select(Offer.id, Offer.supplier_sku, Offer.product_id, Offer.status, Offer.price_fen,
               Offer.held_by_operator, *[getattr(Offer, f) for f in _OFFER_FIELDS[1:]])
        .where(Offer.supplier_id == supplier_id,
               bulk.among(session, Offer.supplier_sku, [i.supplier_sku for i in accepted])))}
    product_of = {i.supplier_sku: products[(categories[i.category_code].id, i.brand.strip(),
                                            normalise_model(i.model))] for i in accepted}
    caps = live_ceilings(session, set(product_of.values()), on=today)
    market = _market(session, set(product_of.values()))

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    decisions: list[tuple[int, int, list[str]]] = []
    seen_products: dict[int, str] = {}
    for item in accepted:
        result = results_by_sku[item.supplier_sku]
        product_id = product_of[item.supplier_sku]
        category = categories[item.category_code]
        values = {"price_fen": item.price_fen, "reference_price_fen": item.reference_price_fen,
                  "reference_url": item.reference_url,
                  "reference_checked_on": _as_datetime(item.reference_checked_on),
                  "stock": item.stock, "delivery_regions": list(item.delivery_regions),
                  "lead_time_days": item.lead_time_days, "warranty_months": item.warranty_months}
        current = existing.get(item.supplier_sku)
        duplicate = next((sku for owner, _p, sku in market.get(product_id, [])
                          if owner == supplier_id and sku != item.supplier_sku), None)
        duplicate = duplicate or seen_products.get(product_id)
        seen_products.setdefault(product_id, item.supplier_sku)
        if current is not None and current.product_id == product_id and all(
                _same(getattr(current, f), values[f]) for f in _OFFER_FIELDS):
            result.outcome, result.offer_id = UNCHANGED, current.id
            result.status = current.status.value
            continue
        reasons = check_listing(ListingFacts(
            price_fen=item.price_fen, reference_price_fen=item.reference_price_fen,
            attributes=item.attributes, required_attributes=category.required_attributes or [],
            framework_cap_fen=caps.get(product_id),
            others_average_fen=_others_average(market.get(product_id, []), supplier_id),
            duplicate_of_sku=duplicate,
            max_ratio_pct=category.max_price_ratio_pct or max_ratio_pct))
        if reasons:
            status = OfferStatus.PENDING_REVIEW
        elif category.manual_review:
            status, reasons = OfferStatus.PENDING_REVIEW, [MANUAL_REVIEW]
        else:
            status = OfferStatus.LISTED
        if current is not None and current.held_by_operator:
            status = current.status  # frozen/delisted by the operator: edits do not relist
        result.status, result.reasons = status.value, reasons
        if current is None:
            result.outcome = CREATED
            inserts.append({**values, "product_id": product_id, "supplier_id": supplier_id,
                            "supplier_sku": item.supplier_sku, "status": status,
                            "review_reasons": reasons, "created_at": moment,
                            "updated_at": moment})
        else:
            result.outcome, result.offer_id = UPDATED, current.id
            updates.append({**values, "id": current.id, "product_id": product_id,
                            "status": status, "review_reasons": reasons, "updated_at": moment})
            if current.price_fen != item.price_fen:
                history.append({"offer_id": current.id, "old_price_fen": current.price_fen,
                                "new_price_fen": item.price_fen})
            if reasons and status is OfferStatus.PENDING_REVIEW:
                decisions.append((current.id, supplier_id, reasons))
    if inserts:
        ids = {sku: oid for oid, sku in bulk.insert(session, _OFFERS, inserts,
                                                      "id", "supplier_sku")}
        for row in inserts:
            offer_id = ids[row["supplier_sku"]]
            result = results_by_sku[row["supplier_sku"]]
            result.offer_id = offer_id
            history.append({"offer_id": offer_id, "old_price_fen": None,
                            "new_price_fen": row["price_fen"]})
            if row["status"] is OfferStatus.PENDING_REVIEW:
                decisions.append((offer_id, supplier_id, row["review_reasons"]))
    if updates:
        bulk.update(session, _OFFERS, updates)
    _write_history(session, history, actor, moment)
    record_queued(session, decisions, at=moment)
    offers_changed(session, [r.offer_id for r in report.results
                             if r.outcome in (CREATED, UPDATED) and r.offer_id])
    return report


def figure_refusal(error: str | None) -> tuple[str, str] | None:
    """The field and message of an item refused for a figure out of range, else None."""
    if error and error.endswith(OUT_OF_RANGE):
        field = error.removesuffix(OUT_OF_RANGE)
        return field, FIGURES[field].message
    return None


CONTROL_CHARACTERS_SUFFIX = "_control_characters"
_TEXT_FIELDS = ("supplier_sku", "brand", "model", "title", "unit", "reference_url", "barcode")


def text_refusal(error: str | None) -> tuple[str, str] | None:
    """The field and message of an item refused for control characters in a text, else None."""
    if error and error.endswith(CONTROL_CHARACTERS_SUFFIX):
        return error.removesuffix(CONTROL_CHARACTERS_SUFFIX), CONTROL_CHARACTERS
    return None


def _text_with_control_characters(item: OfferInput) -> str | None:
    """The first text of the item with control characters (titles reach buyers' pages,
    contracts and notices; a NUL cannot even be stored), else None."""
    for name in _TEXT_FIELDS:
        if control_characters(getattr(item, name) or ""):
            return name
    if any(control_characters(str(k)) or control_characters(str(v))
           for k, v in (item.attributes or {}).items()):
        return "attributes"
    return None


def _figure_out_of_range(item: OfferInput) -> str | None:
    """The first figure of the item outside its bound (a missing reference price is none)."""
    for name, bound in FIGURES.items():
        value = getattr(item, name)
        if not within(value, bound) and not (value is None and name == "reference_price_fen"):
            return name
    return None


def _as_datetime(day: date | datetime | None) -> datetime | None:
    if day is None or isinstance(day, datetime):
        return day
    from datetime import UTC

    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _same(old, new) -> bool:
    if isinstance(old, OfferStatus):
        return old.value == getattr(new, "value", new)
    if isinstance(old, list) or isinstance(new, list):
        return list(old or []) == list(new or [])
    return old == new


def _write_history(session: Session, history: list[dict], actor: Actor,
                   moment: datetime) -> None:
    if history:
        bulk.insert(session, _PRICE_CHANGES, [
            {**h, "changed_at": moment, "changed_by_id": actor.user_id} for h in history])


@dataclass(frozen=True)
class PriceStockUpdate:
    """A price and/or stock change for one SKU."""

    supplier_sku: str
    price_fen: int | None = None
    stock: int | None = None


def update_prices(session: Session, actor: Actor, *, supplier_id: int,
                  updates: Sequence[PriceStockUpdate],
                  max_ratio_pct: int = DEFAULT_MAX_RATIO_PCT) -> BatchReport:
    """Change prices and stock of up to 10,000 offers at once; price rules are re-checked."""
    require_supplier(actor, supplier_id)
    if len(updates) > MAX_PRICE_BATCH:
        raise ValidationFailed(errors={"items": [
            f"At most {MAX_PRICE_BATCH} updates per request."]})
    if len({u.supplier_sku for u in updates}) != len(updates):
        # Two changes of one SKU in a batch would record a wrong "old price".
        raise ValidationFailed(errors={"items": ["Each SKU may appear once per batch."]})
    moment = now()
    today = to_local(moment).date()  # dates of admissions and agreements are Shanghai dates
    report = BatchReport()
    rows = {r.supplier_sku: r for r in session.execute(
        select(Offer.id, Offer.supplier_sku, Offer.product_id, Offer.price_fen, Offer.stock,
               Offer.status, Offer.reference_price_fen, Offer.held_by_operator,
               Offer.review_reasons, Category.max_price_ratio_pct)
        .join(Product, Product.id == Offer.product_id)
        .join(Category, Category.id == Product.category_id)
        .where(Offer.supplier_id == supplier_id,
               bulk.among(session, Offer.supplier_sku, [u.supplier_sku for u in updates])))}
    product_ids = {r.product_id for r in rows.values()}
    caps = live_ceilings(session, product_ids, on=today)
    market = _market(session, product_ids)
    changes, history, decisions = [], [], []
    for item in updates:
        row = rows.get(item.supplier_sku)
        result = ItemResult(item.supplier_sku, REFUSED)
        report.results.append(result)
        if row is None:
            result.error = "unknown_sku"
            continue
        result.offer_id = row.id
        if item.price_fen is not None and not within(item.price_fen, PRICE):
            result.error = "price_fen" + OUT_OF_RANGE
            continue
        if item.stock is not None and not within(item.stock, STOCK):
            result.error = "stock" + OUT_OF_RANGE
            continue
        price = row.price_fen if item.price_fen is None else item.price_fen
        stock = row.stock if item.stock is None else item.stock
        if price == row.price_fen and stock == row.stock:
            result.outcome, result.status = UNCHANGED, row.status.value
            continue
        change = {"id": row.id, "price_fen": price, "stock": stock, "updated_at": moment}
        status = row.status
        if price != row.price_fen:
            history.append({"offer_id": row.id, "old_price_fen": row.price_fen,
                            "new_price_fen": price})
            reasons = check_listing(ListingFacts(
                price_fen=price, reference_price_fen=row.reference_price_fen, attributes={},
                required_attributes=[], framework_cap_fen=caps.get(row.product_id),
                others_average_fen=_others_average(market.get(row.product_id, []),
                                                   supplier_id),
                duplicate_of_sku=None, max_ratio_pct=row.max_price_ratio_pct or max_ratio_pct))
            if reasons and status is OfferStatus.LISTED and not row.held_by_operator:
                status = OfferStatus.PENDING_REVIEW
                change["review_reasons"] = reasons
                decisions.append((row.id, supplier_id, reasons))
            result.reasons = reasons
        change["status"] = status
        changes.append(change)
        result.outcome, result.status = UPDATED, status.value
    if changes:
        bulk.update(session, _OFFERS, changes)
    _write_history(session, history, actor, moment)
    record_queued(session, decisions, at=moment)
    offers_changed(session, [c["id"] for c in changes])
    return report


def delist_offers(session: Session, actor: Actor, *, supplier_id: int,
                  skus: Sequence[str]) -> int:
    """The supplier takes offers off the mall (they stay on record)."""
    require_supplier(actor, supplier_id)
    moment = now()
    ids = session.scalars(select(Offer.id).where(
        Offer.supplier_id == supplier_id, Offer.supplier_sku.in_(skus),
        Offer.status != OfferStatus.DELISTED)).all()
    if ids:
        session.execute(update(Offer).where(Offer.id.in_(ids))
                        .values(status=OfferStatus.DELISTED, updated_at=moment))
        session.execute(insert(ListingDecision), [
            {"offer_id": i, "supplier_id": supplier_id, "decided_at": moment,
             "decided_by_id": actor.user_id, "action": "delisted_by_supplier", "reasons": [],
             "note": None} for i in ids])
        offers_changed(session, ids)
    return len(ids)


def hide_supplier_category(session: Session, *, supplier_id: int, category_id: int,
                           hidden: bool) -> int:
    """Hide (suspension) or show (reinstatement) a supplier's offers in one category at once."""
    product_ids = select(Product.id).where(Product.category_id == category_id)
    return rowcount(session.execute(update(Offer).where(
        and_(Offer.supplier_id == supplier_id, Offer.product_id.in_(product_ids)))
        .values(suspended=hidden)))
