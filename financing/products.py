"""The banks' contract-financing products (政采贷产品): a bank's users create, change and
withdraw them; every supplier sees the active ones of every bank.

Rates are typed in percent with at most two decimals and kept in basis points
(4.35 % -> 435 bp); the share is a whole percent of the contract amount."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from financing.consent import require_bank
from financing.models import FinanceProduct
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import control_characters, whole_number
from mall.i18n_messages import N_

MAX_RATE_BP = 3600  # 36.00 % a year: above it a lender's rate is not protected by the courts
MAX_TERM_DAYS = 3650
ALL_REGIONS = "000000"
MAX_REGIONS = 100
_REGION = re.compile(r"^\d{6}$")
_SPLIT = re.compile(r"[\s,，、;；]+")

SHARE_RANGE = N_("Enter a whole percent from 1 to 100.")
RATE_TYPED = N_("Enter a yearly rate in percent with at most two decimals, e.g. 4.35.")
RATE_RANGE = N_("Enter a yearly rate from 0.01 to 36.00 percent.")
RATE_ORDER = N_("The highest rate must not be below the lowest.")
TERM_RANGE = N_("Enter a term from 1 to 3650 days.")
NAME_NEEDED = N_("Enter the product's name (up to 100 characters).")
REGIONS_TYPED = N_("Enter 6-digit region codes separated by commas (000000: everywhere).")
DESCRIPTION_LONG = N_("Keep the description under 2,000 characters.")


@dataclass(frozen=True)
class ProductData:
    """What a bank says about a product, checked by ``product_data``."""

    name: str
    max_share_pct: int
    rate_min_bp: int
    rate_max_bp: int
    term_days: int
    regions: list[str]
    description: str = ""


def rate_bp(text: str | None) -> int | None:
    """A yearly rate typed in percent ("4.35", "4.35%") in basis points; None if unreadable
    or finer than a basis point."""
    cleaned = (text or "").strip().rstrip("%").strip()
    if not cleaned or len(cleaned) > 8:
        return None
    try:
        value = Decimal(cleaned) * 100
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def percent_text(bp: int | None) -> str:
    """Basis points as a percent for people and form fields: 435 -> "4.35"."""
    return "" if bp is None else f"{bp // 100}.{bp % 100:02d}"


def _regions(text: str) -> list[str] | None:
    codes = [c for c in _SPLIT.split(text.strip()) if c]
    if len(codes) > MAX_REGIONS or not all(_REGION.match(c) for c in codes):
        return None
    return sorted(set(codes)) or [ALL_REGIONS]


def product_data(form: Mapping[str, str]) -> ProductData:
    """The product a form describes (name, max_share_pct, rate_min, rate_max in percent,
    term_days, regions, description), or every field error at once."""
    errors: dict[str, list[str]] = {}
    name = (form.get("name") or "").strip()
    if not name or len(name) > 100 or control_characters(name):
        errors["name"] = [NAME_NEEDED]
    share = whole_number(form.get("max_share_pct"), low=1, high=100)
    if share is None:
        errors["max_share_pct"] = [SHARE_RANGE]
    rates = {}
    for field in ("rate_min", "rate_max"):
        bp = rate_bp(form.get(field))
        if bp is None:
            errors[field] = [RATE_TYPED]
        elif not 1 <= bp <= MAX_RATE_BP:
            errors[field] = [RATE_RANGE]
        rates[field] = bp or 0
    if not errors.keys() & {"rate_min", "rate_max"} and rates["rate_max"] < rates["rate_min"]:
        errors["rate_max"] = [RATE_ORDER]
    term = whole_number(form.get("term_days"), low=1, high=MAX_TERM_DAYS)
    if term is None:
        errors["term_days"] = [TERM_RANGE]
    regions = _regions(form.get("regions") or "")
    if regions is None:
        errors["regions"] = [REGIONS_TYPED]
    description = (form.get("description") or "").strip()
    if len(description) > 2000 or control_characters(description, multiline=True):
        errors["description"] = [DESCRIPTION_LONG]
    if errors:
        raise ValidationFailed(errors=errors)
    assert share is not None and term is not None and regions is not None
    return ProductData(name=name, max_share_pct=share, rate_min_bp=rates["rate_min"],
                       rate_max_bp=rates["rate_max"], term_days=term, regions=regions,
                       description=description)


def _check(data: ProductData) -> None:
    """The rules again for data that did not come through ``product_data`` (the API)."""
    errors: dict[str, list[str]] = {}
    if not 1 <= data.max_share_pct <= 100:
        errors["max_share_pct"] = [SHARE_RANGE]
    if not 1 <= data.rate_min_bp <= data.rate_max_bp <= MAX_RATE_BP:
        errors["rate_max"] = [RATE_RANGE]
    if not 1 <= data.term_days <= MAX_TERM_DAYS:
        errors["term_days"] = [TERM_RANGE]
    if not data.name or len(data.name) > 100:
        errors["name"] = [NAME_NEEDED]
    if not data.regions or not all(_REGION.match(c) for c in data.regions):
        errors["regions"] = [REGIONS_TYPED]
    if errors:
        raise ValidationFailed(errors=errors)


def create_product(session: Session, actor: Actor, data: ProductData) -> FinanceProduct:
    """A bank offers a new product to the mall's suppliers."""
    require_bank(actor)
    _check(data)
    product = FinanceProduct(bank_org_id=actor.organisation_id, active=True, **asdict(data))
    session.add(product)
    session.flush()
    record_event(session, action="finance_product.created", object_type="finance_product",
                 object_id=product.id, actor=actor, data=asdict(data))
    return product


def own_product(session: Session, actor: Actor, product_id: int) -> FinanceProduct:
    """One of the bank's products; another bank's is not found."""
    require_bank(actor)
    product = session.get(FinanceProduct, product_id)
    if product is None or product.bank_org_id != actor.organisation_id:
        raise NotFound()
    return product


def update_product(session: Session, actor: Actor, product_id: int,
                   data: ProductData) -> FinanceProduct:
    """The bank changes a product; loans already applied for keep the terms they have."""
    product = own_product(session, actor, product_id)
    _check(data)
    for key, value in asdict(data).items():
        setattr(product, key, value)
    record_event(session, action="finance_product.updated", object_type="finance_product",
                 object_id=product.id, actor=actor, data=asdict(data))
    return product


def deactivate_product(session: Session, actor: Actor, product_id: int) -> FinanceProduct:
    """The bank withdraws a product: no new application names it."""
    product = own_product(session, actor, product_id)
    if not product.active:
        raise Conflict(N_("This product is already withdrawn."), code="product_inactive")
    product.active = False
    record_event(session, action="finance_product.deactivated", object_type="finance_product",
                 object_id=product.id, actor=actor)
    return product


def products_of_bank(session: Session, actor: Actor) -> list[FinanceProduct]:
    """The bank's products, active first."""
    require_bank(actor)
    return list(session.scalars(select(FinanceProduct)
                                .where(FinanceProduct.bank_org_id == actor.organisation_id)
                                .order_by(FinanceProduct.active.desc(), FinanceProduct.id)))


def active_products(session: Session, *, region_codes: Sequence[str] = ()) -> list[
        tuple[FinanceProduct, str]]:
    """Every bank's active products with the bank's name; with ``region_codes``, those
    serving one of them (or everywhere)."""
    rows = session.execute(
        select(FinanceProduct, Organisation.name)
        .join(Organisation, Organisation.id == FinanceProduct.bank_org_id)
        .where(FinanceProduct.active.is_(True), Organisation.active.is_(True))
        .order_by(Organisation.name, FinanceProduct.name)).all()
    wanted = set(region_codes)
    return [(product, bank) for product, bank in rows
            if not wanted or ALL_REGIONS in product.regions or wanted & set(product.regions)]
