"""The demo mall comes with one price inspection: open cases of both rules and frozen offers,
some of them supplier1's."""

from __future__ import annotations

from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from mall.accounts.models import User
from mall.demo.prices import seed_prices
from mall.demo.seed import seed_demo
from supervision.prices.models import ABOVE_PEERS, ABOVE_REFERENCE, CaseStatus, PriceCase


def test_the_demo_has_open_and_frozen_price_cases(session):
    seed_demo(session, offers=3000, seed=11, password="Demo-Password-1", echo=lambda _m: None)
    cases = session.scalars(select(PriceCase)).all()
    open_cases = [c for c in cases if c.status is CaseStatus.OPEN]
    frozen = [c for c in cases if c.status is CaseStatus.FROZEN]
    assert {r for c in open_cases for r in c.reasons} == {ABOVE_REFERENCE, ABOVE_PEERS}
    assert frozen and all(session.get(Offer, c.offer_id).status is OfferStatus.FROZEN
                          for c in frozen)
    supplier1 = session.scalar(select(User.organisation_id).where(User.login == "supplier1"))
    assert {c.status for c in cases if c.supplier_id == supplier1} >= {CaseStatus.OPEN,
                                                                         CaseStatus.FROZEN}
    assert seed_prices(session).endswith("nothing done")  # seeded once
