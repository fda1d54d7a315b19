"""Admitted suppliers with offers, for tests of listings, imports and the supplier API."""

from __future__ import annotations

import itertools

from catalog.services import get_category, set_categories_enabled
from mall.accounts.services import actor_for
from mall.core.auth import Actor, OrganisationKind
from suppliers.admission import admit
from suppliers.listings import OfferInput, save_offers
from tests.factories.accounts import make_member

_serial = itertools.count(1)
PAPER, DESKTOP, TONER = "A05040101", "A02010105", "A05040201"


def operator_actor(session) -> Actor:
    return actor_for(make_member(session, OrganisationKind.OPERATOR))


def admitted_supplier(session, codes=(PAPER, DESKTOP), login: str | None = None):
    """A supplier admin (user, actor) admitted for ``codes``, which are enabled for sale."""
    operator = operator_actor(session)
    set_categories_enabled(session, operator, codes=list(codes), enabled=True)
    user = make_member(session, OrganisationKind.SUPPLIER, login=login)
    for code in codes:
        admit(session, operator, supplier_id=user.organisation_id,
              category_id=get_category(session, code).id)
    return user, actor_for(user)


def offer_input(sku: str | None = None, *, code: str = PAPER, brand: str = "得力（deli）",
                model: str | None = None, price_fen: int = 2990, reference: int | None = 3290,
                stock: int = 100, attributes: dict | None = None) -> OfferInput:
    n = next(_serial)
    model = model or f"ZB-{n:05d}"
    return OfferInput(supplier_sku=sku or f"SKU-{n:06d}", category_code=code, brand=brand,
                      model=model, title=f"{brand} {model} A4复印纸 70g 500张/包",
                      price_fen=price_fen, stock=stock, reference_price_fen=reference,
                      reference_url="https://item.example.cn/1.html",
                      attributes=attributes or {"规格": "A4", "克重": "70g"}, unit="包",
                      delivery_regions=("430000",))


def listed_offer(session, actor: Actor, **kwargs):
    report = save_offers(session, actor, supplier_id=actor.organisation_id,
                         items=[offer_input(**kwargs)])
    return report.results[0]
