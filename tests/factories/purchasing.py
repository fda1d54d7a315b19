"""A purchasing unit with its people and a budget line, and suppliers with offers to buy."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import select

from mall.accounts.models import Organisation, User
from mall.accounts.services import actor_for
from mall.core.auth import Actor, OrganisationKind, Role
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import PurchaseSettings
from mall.purchasing.orders.checkout import fiscal_year
from suppliers.listings import save_offers
from tests.factories.accounts import make_organisation, make_user
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, offer_input

_tokens = itertools.count(1)


@dataclass
class Unit:
    organisation: Organisation
    buyer: Actor
    approver: Actor
    finance: Actor
    buyer_user: User
    line_id: int


def make_unit(session, *, amount_fen: int = 50_000_000, category_code: str = "A00000000",
              region_code: str = "430100", settlement_max_fen: int | None = 0) -> Unit:
    """A unit with a buyer, an approver, a finance user and a budget line for this year.

    ``settlement_max_fen`` goes into the mall's default purchase settings: 0 (the default
    here) keeps every order on the contract path most tests walk; None leaves the mall's own
    setting, under which small orders without centrally procured items are settled by a
    settlement order (结算单).
    """
    if settlement_max_fen is not None:
        set_mall_settlement_max(session, settlement_max_fen)
    org = make_organisation(session, OrganisationKind.PURCHASING_UNIT, region_code=region_code)
    buyer = make_user(session, org, roles=[Role.BUYER])
    approver = actor_for(make_user(session, org, roles=[Role.APPROVER]))
    finance = actor_for(make_user(session, org, roles=[Role.FINANCE]))
    line = budget.create_budget_line(session, finance, fiscal_year=fiscal_year(),
                                     project_code="2026-BG-001", project_name="办公设备购置",
                                     category_code=category_code, amount_fen=amount_fen)
    return Unit(org, actor_for(buyer), approver, finance, buyer, line.id)


def set_mall_settlement_max(session, amount_fen: int | None) -> None:
    """Write the settlement-order threshold of the mall default row (made if missing, at the
    limits that apply without one)."""
    row = session.scalar(select(PurchaseSettings).where(PurchaseSettings.region_code.is_(None)))
    if row is None:
        row = PurchaseSettings(region_code=None, direct_limit_fen=budget.DEFAULT_DIRECT_LIMIT_FEN,
                               warn_pct=budget.DEFAULT_WARN_PCT)
        session.add(row)
    row.settlement_max_fen = amount_fen
    session.flush()


def supplier_with_offers(session, *, prices=(2990,), stock: int = 100, code: str = PAPER):
    """An admitted supplier (user, actor) and its listed offer ids."""
    user, actor = admitted_supplier(session, codes=(PAPER, DESKTOP))
    report = save_offers(session, actor, supplier_id=actor.organisation_id, items=[
        offer_input(code=code, price_fen=p, reference=p + 300, stock=stock) for p in prices])
    ids = [r.offer_id for r in report.results]
    assert all(ids), report
    return user, actor, ids


def token() -> str:
    return f"test-checkout-{next(_tokens)}"
