"""A bidding round's award becomes an order through the purchasing services: confirmed by the
winner at once, with its contract (or settlement order), paid from the budget the round
reserved and counted in the unit's bidding totals; from there it lives the lifecycle of any
order, including lines that name no offer or product."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from catalog.models import Offer
from mall.accounts.models import User
from mall.core.audit import AuditEvent
from mall.core.auth import Actor
from mall.core.errors import MallError
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import BudgetLine, CategorySpend
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.models import Contract, Notice
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.awards import AwardLine, place_award_order
from mall.purchasing.orders.models import Order, OrderStatus, Paperwork, PurchaseMode
from mall.purchasing.orders.return_refunds import receive_return
from mall.purchasing.orders.returns import agree_return, request_return, ship_return
from tests.conftest import login, post_form
from tests.factories.purchasing import Unit, make_unit, supplier_with_offers
from tests.factories.suppliers import PAPER

RESERVED = 2_000_000  # what the round held on the line: its ceiling
PAPER_PRICE, BLANK_PRICE = 2_500, 150_000


@dataclass
class Round:
    unit: Unit
    supplier: Actor
    offer_id: int
    reference: str = "JJ2026120100001"


def _round(session, **unit_options) -> Round:
    unit = make_unit(session, **unit_options)
    _user, supplier, (offer_id,) = supplier_with_offers(session, prices=(2990,))
    budget.reserve(session, unit.line_id, RESERVED)
    return Round(unit, supplier, offer_id)


def _lines(world: Round, session) -> list[AwardLine]:
    offer = session.get_one(Offer, world.offer_id)
    return [AwardLine(category_code=PAPER, title="A4复印纸 70g", brand="得力", model="ZB-1",
                      unit="包", quantity=100, unit_price_fen=PAPER_PRICE,
                      product_id=offer.product_id, offer_id=offer.id),
            # named on the round's blank form: no product, no offer
            AwardLine(category_code=PAPER, title="定制会议用纸", brand="晨光", model="HY-9",
                      unit="箱", quantity=4, unit_price_fen=BLANK_PRICE)]


TOTAL = 100 * PAPER_PRICE + 4 * BLANK_PRICE


def _award(session, world: Round, **options) -> Order:
    return place_award_order(
        session, world.supplier, reference=options.pop("reference", world.reference),
        mode=options.pop("mode", PurchaseMode.QUICK), buyer_org_id=world.unit.organisation.id,
        buyer_user_id=world.unit.buyer.user_id, budget_line_id=world.unit.line_id,
        reserved_fen=options.pop("reserved_fen", RESERVED),
        lines=options.pop("lines", None) or _lines(world, session),
        delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000", delivery_days=10,
        **options)


def _line(session, world: Round) -> BudgetLine:
    line = session.get_one(BudgetLine, world.unit.line_id)
    session.refresh(line)
    return line


def _spend(session, world: Round) -> tuple[int, int]:
    """(direct, bidding) totals of the unit in the paper category."""
    row = session.execute(select(CategorySpend.total_fen, CategorySpend.bidding_fen).where(
        CategorySpend.organisation_id == world.unit.organisation.id,
        CategorySpend.category_code == PAPER).execution_options(populate_existing=True)).one()
    return row.total_fen, row.bidding_fen


def _stock(session, offer_id: int) -> int:
    offer = session.get_one(Offer, offer_id)
    session.refresh(offer)
    return offer.stock


def test_an_award_becomes_an_order_confirmed_by_the_winner_with_its_contract(session):
    world = _round(session)
    order = _award(session, world)
    assert order.status is OrderStatus.CONFIRMED and order.paperwork is Paperwork.CONTRACT
    assert order.purchase_mode is PurchaseMode.QUICK and order.number.startswith("QB")
    assert len(order.number) == len("DP") + 8 + 7 + 2
    assert order.supplier_id == world.supplier.organisation_id
    assert order.total_fen == TOTAL and order.fiscal_year == _line(session, world).fiscal_year
    assert [(ln.offer_id is None, ln.product_id is None) for ln in order.lines] == [
        (False, False), (True, True)]
    contract = session.scalars(select(Contract).where(Contract.order_id == order.id)).one()
    assert contract.number == "HT" + order.number[2:]
    assert [s.status for s in order.steps] == ["submitted", "sent", "confirmed"]
    assert order.steps[0].note == world.reference
    # the round's notices speak for the award: the order adds no direct-purchase result notice
    assert session.scalar(select(func.count()).select_from(Notice)
                          .where(Notice.order_id == order.id)) == 0
    # no stock is taken: the supplier quoted, the offer's stock is not the award's
    assert _stock(session, world.offer_id) == 100
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "order.submitted",
                                                     AuditEvent.object_id == str(order.id))).one()
    assert audit.actor_user_id == world.unit.buyer.user_id
    assert audit.data["round"] == world.reference and audit.data["mode"] == "quick"


def test_the_order_keeps_its_total_reserved_and_the_rest_of_the_rounds_reservation_goes_back(
        session):
    world = _round(session)
    _award(session, world)
    line = _line(session, world)
    assert line.reserved_fen == TOTAL and line.committed_fen == 0
    assert _spend(session, world) == (0, TOTAL)  # the direct total is untouched


def test_a_signed_award_commits_its_budget_like_any_contract(session):
    world = _round(session)
    order = _award(session, world, mode=PurchaseMode.FRAMEWORK)
    assert order.number.startswith("FB")
    contracts.sign(session, world.supplier, order.id)
    contracts.sign(session, world.unit.buyer, order.id)
    line = _line(session, world)
    assert (line.reserved_fen, line.committed_fen) == (0, TOTAL)


def test_a_small_award_without_centrally_procured_items_gets_a_settlement_order(session):
    world = _round(session, settlement_max_fen=None)  # the mall's own threshold: 5万元
    small = [AwardLine(category_code=PAPER, title="定制会议用纸", brand="晨光", model="HY-9",
                       unit="箱", quantity=2, unit_price_fen=BLANK_PRICE)]
    order = _award(session, world, lines=small)
    assert order.paperwork is Paperwork.SETTLEMENT and order.status is OrderStatus.SIGNED
    document = session.scalars(select(Contract).where(Contract.order_id == order.id)).one()
    assert document.number == "JS" + order.number[2:]
    line = _line(session, world)
    assert (line.reserved_fen, line.committed_fen) == (0, 2 * BLANK_PRICE)


def test_the_same_round_makes_one_order_however_often_its_award_is_placed(session):
    world = _round(session)
    first = _award(session, world)
    again = _award(session, world)
    assert again.id == first.id
    assert _line(session, world).reserved_fen == TOTAL
    assert _spend(session, world) == (0, TOTAL)
    budget.reserve(session, world.unit.line_id, TOTAL)
    other = _award(session, world, reference="JJ2026120100002", reserved_fen=TOTAL)
    assert other.id != first.id  # another round, another order (its own reservation)


def test_an_award_above_what_the_round_reserved_is_a_programming_error(session):
    world = _round(session)
    with pytest.raises(ValueError, match="exceeds"):
        _award(session, world, reserved_fen=TOTAL - 1)
    with pytest.raises(ValueError, match="bidding round"):
        _award(session, world, mode=PurchaseMode.DIRECT)


def test_releasing_an_award_order_gives_back_budget_and_bidding_total_not_stock(session):
    world = _round(session)
    order = _award(session, world)
    orders.cancel_unconfirmed(session, order, "award withdrawn")  # the path of every cancellation
    assert order.status is OrderStatus.CANCELLED and order.budget_state == "released"
    assert _line(session, world).reserved_fen == 0
    assert _spend(session, world) == (0, 0)
    assert _stock(session, world.offer_id) == 100  # nothing was taken, nothing comes back


def _delivered(session, world: Round) -> Order:
    order = _award(session, world)
    contracts.sign(session, world.supplier, order.id)
    contracts.sign(session, world.unit.buyer, order.id)
    orders.ship(session, world.supplier, order.id, carrier="顺丰", tracking_number="SF-A1")
    orders.receive(session, world.unit.buyer, order.id)
    return order


def test_a_partial_acceptance_of_lines_without_an_offer_gives_back_budget_and_bidding_total(
        session):
    world = _round(session)
    order = _delivered(session, world)
    listed, blank = order.lines
    orders.accept(session, world.unit.buyer, order.id, result="partial",
                  quantities={listed.id: 90, blank.id: 3}, reasons="10 包受潮，1 箱破损")
    kept_back = 10 * PAPER_PRICE + BLANK_PRICE
    assert order.status is OrderStatus.ACCEPTED and order.accepted_fen == TOTAL - kept_back
    assert _line(session, world).committed_fen == TOTAL - kept_back
    assert _spend(session, world) == (0, TOTAL - kept_back)
    assert _stock(session, world.offer_id) == 100  # no stock was taken, none comes back


def test_a_rejected_award_order_releases_everything_it_held(session):
    world = _round(session)
    order = _delivered(session, world)
    orders.accept(session, world.unit.buyer, order.id, result="reject", reasons="规格不符")
    assert order.status is OrderStatus.RETURNED
    line = _line(session, world)
    assert (line.reserved_fen, line.committed_fen) == (0, 0)
    assert _spend(session, world) == (0, 0)


def test_goods_without_an_offer_can_be_returned_and_the_bidding_total_follows(session):
    world = _round(session)
    order = _delivered(session, world)
    orders.accept(session, world.unit.buyer, order.id, result="pass")
    blank = order.lines[1]
    ret = request_return(session, world.unit.buyer, order.id, quantities={blank.id: 2},
                         reason="2 箱受潮")
    agree_return(session, world.supplier, order.id, ret.id)
    ship_return(session, world.unit.buyer, order.id, ret.id, carrier="顺丰",
                tracking_number="SF-R9")
    receive_return(session, world.supplier, order.id, ret.id, settings=None)
    assert ret.lines[0]["offer_id"] is None
    assert _spend(session, world) == (0, TOTAL - 2 * BLANK_PRICE)
    assert _line(session, world).committed_fen == TOTAL - 2 * BLANK_PRICE


# -- the signing guards -------------------------------------------------------------------------

class Challenged(MallError):
    code = "award_challenged"
    status = 409
    title = "A challenge of the award is pending"


@pytest.fixture
def challenge_pending():
    """A signing guard, registered for this test only, that refuses every award order."""
    seen: list[str] = []

    @contracts.guard_signing
    def refuse_awards(session, order: Order) -> None:
        seen.append(order.number)
        if order.purchase_mode is not PurchaseMode.DIRECT:
            raise Challenged("A challenge of this award is pending.")

    yield seen
    contracts.SIGNING_GUARDS.remove(refuse_awards)


def test_a_signing_guard_refuses_either_signature_with_its_reason(session, challenge_pending):
    world = _round(session)
    order = _award(session, world)
    with pytest.raises(Challenged) as refused:
        contracts.sign(session, world.supplier, order.id)
    assert refused.value.code == "award_challenged"
    assert challenge_pending == [order.number]
    assert order.status is OrderStatus.CONFIRMED
    contract = session.scalars(select(Contract).where(Contract.order_id == order.id)).one()
    assert contract.supplier_signed_at is None


def test_guards_that_find_nothing_against_the_award_let_signing_go_on(session):
    world = _round(session)
    order = _award(session, world)
    assert contracts.sign(session, world.supplier, order.id).status is OrderStatus.SUPPLIER_SIGNED


def test_the_order_page_names_the_purchase_mode_and_the_round(app, session):
    world = _round(session)
    order = _award(session, world)
    browser = app.test_client()
    post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get(User, world.unit.buyer.user_id).login)
    html = browser.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'id="purchase-mode">Mall quick bidding<' in html
    assert f"Awarded in bidding round {world.reference}" in html
    api = browser.get(f"/api/v1/orders/{order.id}")
    assert api.json["purchase_mode"] == "quick"
    assert [line["offer_id"] is None for line in api.json["lines"]] == [False, True]
