"""A small market for the price inspection: suppliers offering the same products, with
prices set directly (a listed offer above its reference happens when the reference falls)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from catalog.models import Offer, OfferStatus, PriceChange
from mall.core.clock import now
from tests.factories.suppliers import PAPER, admitted_supplier, listed_offer

_models = itertools.count(1)


class Market:
    """Suppliers (admins' actors) and helpers to list one product among them."""

    def __init__(self, session, suppliers: int = 5):
        self.session = session
        self.people = [admitted_supplier(session, codes=(PAPER,)) for _ in range(suppliers)]
        self.actors = [actor for _user, actor in self.people]

    def product(self, prices: list[int], *, reference: int | None = 100_000,
                sellers: list[int] | None = None) -> list[int]:
        """Offers of one new product at ``prices`` (supplier i sells the i-th, or
        ``sellers[i]``); listed at a fair price first, then set. Returns the offer ids."""
        model = f"PM-{next(_models):05d}"
        ids = []
        for i, price in enumerate(prices):
            actor = self.actors[sellers[i] if sellers else i]
            result = listed_offer(self.session, actor, model=model, price_fen=1000,
                                  reference=100_000, sku=f"{model}-{i}")
            if result.reasons == ["duplicate_listing"]:  # a supplier's second offer of it
                self.session.execute(update(Offer).where(Offer.id == result.offer_id)
                                     .values(status=OfferStatus.LISTED))
            else:
                assert result.status == "listed", result
            ids.append(result.offer_id)
            self.set_price(result.offer_id, price, reference=reference)
        return ids

    def set_price(self, offer_id: int, price: int, *, reference: int | None | bool = False
                  ) -> None:
        """Change an offer's price (recorded in its history) and, if given, its reference."""
        values: dict = {"price_fen": price}
        if reference is not False:
            values["reference_price_fen"] = reference
        old = self.session.get(Offer, offer_id).price_fen
        self.session.execute(update(Offer).where(Offer.id == offer_id).values(**values))
        self.session.add(PriceChange(offer_id=offer_id, changed_at=now(), old_price_fen=old,
                                     new_price_fen=price))
        self.session.flush()
        self.session.expire_all()


@pytest.fixture
def market(session):
    return Market(session)
