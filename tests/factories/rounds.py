"""Bidding-round fixtures: a unit with a budget, suppliers admitted with declared profiles,
framework agreements, and rounds with quotes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from bidding_rounds import quotes as round_quotes
from bidding_rounds.models import BiddingRound
from bidding_rounds.rounds import ItemInput, RoundInput, create_round
from catalog.services import get_category, set_categories_enabled
from mall.accounts.models import User
from mall.core.auth import Actor
from mall.core.clock import local_today
from suppliers.admission import ProfileInput, save_profile
from suppliers.frameworks import create_agreement
from suppliers.models import SizeClass
from tests.factories.purchasing import Unit, make_unit
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, operator_actor

_people = itertools.count(1)


@dataclass
class Bidder:
    user: User
    actor: Actor
    size: SizeClass
    legal_representative: str
    lines: list[tuple[int, int]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.actor.organisation_id


def make_bidder(session, *, size: SizeClass = SizeClass.MEDIUM, codes=(PAPER, DESKTOP),
                regions=("430000",), legal_representative: str | None = None,
                controlling_shareholder: str | None = None) -> Bidder:
    """An admitted supplier with its declared profile (size, people, delivery regions)."""
    n = next(_people)
    user, actor = admitted_supplier(session, codes=codes)
    person = legal_representative or f"法人{n:03d}"
    save_profile(session, actor, data=ProfileInput(
        legal_representative=person,
        controlling_shareholder=controlling_shareholder or f"股东{n:03d}",
        size=size, contact_name=f"联系人{n}", contact_phone=f"1380000{n:04d}",
        contact_email=f"sales{n}@example.cn", bank_name="中国银行长沙分行",
        bank_account=f"6216{n:012d}", delivery_regions=tuple(regions),
        employees=50, revenue_wan=2000, assets_wan=1000))
    return Bidder(user, actor, size, person)


def paper_round(session, unit: Unit, *, ceiling_fen: int = 1_000_000, quantity: int = 100,
                mode: str = "quick", **changes) -> BiddingRound:
    """A round for copy paper (one item) delivered in Changsha, published now."""
    set_categories_enabled(session, operator_actor(session), codes=[PAPER], enabled=True)
    data = RoundInput(mode=mode, items=[ItemInput(category_code=PAPER, name="A4复印纸 70g",
                                                  spec="500张/包", quantity=quantity, unit="包")],
                      budget_line_id=unit.line_id, ceiling_fen=ceiling_fen,
                      delivery_address="长沙市岳麓区政务服务中心", contact="王敏 13800001111",
                      **changes)
    return create_round(session, unit.buyer, data)


def quote(session, bidder: Bidder, bidding_round: BiddingRound, unit_price_fen: int, *,
          sme_goods: bool = False, ip: str = "10.0.0.1", fingerprint: str | None = None):
    lines = [(item.id, unit_price_fen) for item in bidding_round.items]
    return round_quotes.submit_quote(
        session, bidder.actor, bidding_round.id, lines=lines, sme_goods=sme_goods,
        origin=round_quotes.Origin(ip, "pytest", fingerprint or f"fp-{bidder.id}"))


def framework(session, bidders, *, code: str = PAPER) -> int:
    """A live framework agreement for ``code`` with ``bidders`` as members; its id."""
    operator = operator_actor(session)
    n = next(_people)
    today = local_today()
    agreement = create_agreement(session, operator, number=f"KJ-{n:05d}", title="复印纸框架协议",
                                 category_code=code, starts_on=today - timedelta(days=1),
                                 ends_on=min(today + timedelta(days=300),
                                             date(today.year + 1, today.month, 1)),
                                 supplier_ids=[b.id for b in bidders])
    get_category(session, code)
    return agreement.id


def unit_for_rounds(session, **kwargs) -> Unit:
    return make_unit(session, amount_fen=kwargs.pop("amount_fen", 50_000_000),
                     category_code=kwargs.pop("category_code", "A00000000"), **kwargs)
