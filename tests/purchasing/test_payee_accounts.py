"""The payee account of a contract (政采贷): a lender locks it to its repayment account, the
change is published and kept in the history, payments go to the locked account only, only
the locking lender releases it; every order step tells the outbox; banks read contract facts
in bulk in a fixed number of statements."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import event, select

from mall.accounts.services import actor_for
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import local_today
from mall.core.errors import Conflict, PermissionDenied, ValidationFailed
from mall.core.outbox import OutboxEvent
from mall.purchasing.budget import services as budget
from mall.purchasing.contracts import facts as contract_facts_module
from mall.purchasing.contracts import payee
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.facts import contract_facts
from mall.purchasing.contracts.models import Notice, NoticeKind
from mall.purchasing.orders import checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.awards import AwardLine, place_award_order
from mall.purchasing.orders.models import Notification, Order, OrderStatus, PurchaseMode
from mall.purchasing.orders.steps import WrongState
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.stripe_gateway import StripeSettings
from suppliers.models import SizeClass, SupplierProfile
from tests.conftest import login
from tests.factories.accounts import make_member, make_user
from tests.factories.purchasing import Unit, make_unit, supplier_with_offers, token
from tests.factories.suppliers import PAPER

OWN_ACCOUNT = "6230901012345678"
LENDER_ACCOUNT = "6217002920001234567"
PRICE, QUANTITY = 2990, 10
TOTAL = PRICE * QUANTITY
# The card gateway is never reached: a locked contract is refused before it.
NO_GATEWAY = StripeSettings(api_key="sk_test_unused", api_base="http://127.0.0.1:9",
                            webhook_secret="whsec_unused")


@dataclass
class World:
    unit: Unit
    supplier: Actor
    order_id: int
    bank: Actor


def _with_profile(session, supplier: Actor) -> None:
    session.add(SupplierProfile(
        organisation_id=supplier.organisation_id, legal_representative="王五",
        controlling_shareholder="王五", size=SizeClass.SMALL, contact_name="王五",
        contact_phone="13800000000", contact_email="w@example.cn", bank_name="长沙银行麓山支行",
        bank_account=OWN_ACCOUNT))
    session.flush()


def _bank(session) -> Actor:
    return actor_for(make_member(session, OrganisationKind.FINANCE_PARTNER))


def _order(session, *, unit: Unit | None = None, supplier: tuple | None = None,
           secret: bool = False, until: str = "invoiced") -> tuple[Unit, Actor, Order]:
    unit = unit or make_unit(session)
    if supplier is None:
        _user, actor, (offer,) = supplier_with_offers(session, prices=(PRICE,), stock=10_000)
        _with_profile(session, actor)
    else:
        actor, offer = supplier
    (order,) = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                 delivery_address="长沙市岳麓区麓山路1号", contact="李四",
                                 token=token(), items=[(offer, QUANTITY)], secret=secret).orders
    if until == "sent":
        return unit, actor, order
    orders.confirm(session, actor, order.id)
    if until == "confirmed":
        return unit, actor, order
    contracts.sign(session, actor, order.id)
    contracts.sign(session, unit.buyer, order.id)
    orders.ship(session, actor, order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    orders.invoice(session, actor, order.id, invoice_number=f"E-{order.number}")
    return unit, actor, order


def _world(session, **kwargs) -> World:
    unit, supplier, order = _order(session, **kwargs)
    return World(unit, supplier, order.id, _bank(session))


def _lock(session, world: World, bank: Actor | None = None, number: str = LENDER_ACCOUNT):
    return payee.lock_payee_account(session, bank or world.bank, world.order_id,
                                    bank_name="中国建设银行长沙分行", account_name="建行政采贷回款专户",
                                    account_number=number, reason="政采贷放款，回款账户锁定")


def _treasury(session, world: World, account: str, voucher: str = "GK-1"):
    return payments.record_treasury_payment(session, world.unit.finance, world.order_id,
                                            voucher_number=voucher, paid_on=local_today(),
                                            amount_fen=TOTAL, payee_account_number=account)


# -- lock, notice, history ----------------------------------------------------------------

def test_a_lender_locks_the_payee_account_and_the_change_is_published_and_kept(session):
    world = _world(session)
    order = session.get(Order, world.order_id)
    assert payee.current_payee(session, order).account_number == OWN_ACCOUNT  # the contract's

    change = _lock(session, world)

    current = payee.current_payee(session, order)
    assert (current.account_number, current.locked, current.lender_org_id) == (
        LENDER_ACCOUNT, True, world.bank.organisation_id)
    history = payee.payee_history(session, world.order_id)
    assert [(h.account_number, h.locked) for h in history] == [(OWN_ACCOUNT, False),
                                                              (LENDER_ACCOUNT, True)]
    assert history[-1].id == change.id and history[0].reason == ""
    contract = contracts.get_contract(session, world.unit.buyer, world.order_id)
    notice = session.scalars(select(Notice).where(Notice.kind == NoticeKind.ACCOUNT_CHANGE)
                             .where(Notice.reference == contract.number)).one()
    assert notice.published_at is not None and not notice.withheld  # at once
    assert notice.body["account"]["account_number"] == "*" * 15 + "4567"
    assert LENDER_ACCOUNT not in str(notice.body) and notice.body["change"] == "locked"
    assert notice.body["contract_number"] == contract.number and notice.body["reason"]
    told = {(n.organisation_id, n.kind) for n in session.scalars(
        select(Notification).where(Notification.order_id == world.order_id))}
    assert {(world.unit.organisation.id, "payee_locked"),
            (world.supplier.organisation_id, "payee_locked")} <= told


def test_a_secret_contracts_account_change_is_recorded_but_withheld(session):
    world = _world(session, secret=True)
    _lock(session, world)
    notice = session.scalars(select(Notice).where(Notice.kind == NoticeKind.ACCOUNT_CHANGE)
                             .order_by(Notice.id.desc())).first()
    assert notice.withheld and notice.published_at is None


def test_only_a_lending_bank_locks_and_only_with_a_contract_while_money_is_due(session):
    world = _world(session)
    with pytest.raises(PermissionDenied):
        _lock(session, world, bank=world.supplier)
    with pytest.raises(ValidationFailed) as wrong:
        payee.lock_payee_account(session, world.bank, world.order_id, bank_name="",
                                 account_name="x", account_number="12ab", reason="")
    assert set(wrong.value.errors) == {"bank_name", "account_number", "reason"}
    _unit, _supplier, sent = _order(session, until="sent")
    with pytest.raises(WrongState) as no_contract:
        payee.lock_payee_account(session, world.bank, sent.id, bank_name="建行",
                                 account_name="回款专户", account_number=LENDER_ACCOUNT,
                                 reason="放款")
    assert no_contract.value.code == "no_contract"
    _treasury(session, world, OWN_ACCOUNT)
    with pytest.raises(WrongState) as paid:
        _lock(session, world)
    assert paid.value.code == "order_closed"


def test_a_second_lender_is_refused_and_only_the_locking_lender_releases(session):
    world = _world(session)
    _lock(session, world)
    other = _bank(session)
    with pytest.raises(Conflict) as refused:
        _lock(session, world, bank=other, number="6222000000000001")
    assert refused.value.code == "payee_locked" and refused.value.status == 409
    with pytest.raises(Conflict) as not_theirs:
        payee.release_payee_lock(session, other, world.order_id, reason="同意解除")
    assert not_theirs.value.code == "payee_locked"

    released = payee.release_payee_lock(session, world.bank, world.order_id, reason="贷款已结清")
    order = session.get(Order, world.order_id)
    current = payee.current_payee(session, order)
    assert (released.locked, current.account_number, current.locked) == (False, OWN_ACCOUNT, False)
    assert [h.locked for h in payee.payee_history(session, world.order_id)] == [False, True, False]
    with pytest.raises(Conflict) as nothing:
        payee.release_payee_lock(session, world.bank, world.order_id, reason="再次解除")
    assert nothing.value.code == "payee_not_locked"
    _lock(session, world, bank=other, number="6222000000000001")  # free again: another lender
    assert payee.current_payee(session, order).lender_org_id == other.organisation_id


# -- payments follow the payee account ----------------------------------------------------

def test_a_treasury_payment_to_the_old_account_is_refused_and_to_the_locked_one_accepted(session):
    world = _world(session)
    _lock(session, world)
    with pytest.raises(ValidationFailed) as refused:
        _treasury(session, world, OWN_ACCOUNT)
    assert refused.value.code == "wrong_payee_account"
    (message,) = refused.value.errors["payee_account_number"]
    assert LENDER_ACCOUNT in message and "locked" in message

    paid = _treasury(session, world, LENDER_ACCOUNT[:4] + " " + LENDER_ACCOUNT[4:])
    assert paid.payee_account_number == LENDER_ACCOUNT
    assert session.get(Order, world.order_id).status is OrderStatus.PAID


def test_a_treasury_payment_names_the_contracts_account_without_a_lock(session):
    world = _world(session)
    with pytest.raises(ValidationFailed) as refused:
        _treasury(session, world, LENDER_ACCOUNT)
    assert OWN_ACCOUNT in refused.value.errors["payee_account_number"][0]
    with pytest.raises(ValidationFailed) as malformed:
        _treasury(session, world, "62-30")
    assert malformed.value.code == "validation_failed"
    assert _treasury(session, world, OWN_ACCOUNT).payee_account_number == OWN_ACCOUNT


def test_a_card_payment_of_a_locked_contract_is_refused_with_the_reason(session):
    world = _world(session)
    _lock(session, world)
    with pytest.raises(Conflict) as refused:
        payments.pay_by_card(session, world.unit.buyer, world.order_id, NO_GATEWAY,
                             payment_method="pm_card_visa")
    assert refused.value.code == "payee_locked" and LENDER_ACCOUNT in refused.value.detail


def test_the_order_page_shows_the_locked_account_and_prefills_the_treasury_form(app, client,
                                                                                session):
    world = _world(session)
    _lock(session, world)
    finance = make_user(session, world.unit.organisation, roles=[Role.FINANCE])
    assert login(client, finance.login).status_code == 302
    html = client.get(f"/orders/{world.order_id}").get_data(as_text=True)
    assert 'id="payee-locked"' in html and 'id="payee-history"' in html
    assert re.search(r'name="payee_account_number"[^>]*value="' + LENDER_ACCOUNT, html)
    assert 'id="form-pay-card"' not in html and 'id="card-refused"' in html
    api = client.get(f"/api/v1/orders/{world.order_id}/payee-account").get_json()
    assert api["current"]["account_number"] == LENDER_ACCOUNT and api["current"]["locked"]
    assert [h["locked"] for h in api["history"]] == [False, True]


# -- change events ------------------------------------------------------------------------

def _events(session, order_id: int) -> list[tuple[str, str]]:
    return [(e.payload["step"], e.payload["status"]) for e in session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "order.changed").order_by(OutboxEvent.id))
        if e.payload["order_id"] == order_id]


def test_every_order_step_and_every_account_change_tells_the_outbox(session):
    world = _world(session)
    _lock(session, world)
    payee.release_payee_lock(session, world.bank, world.order_id, reason="贷款已结清")
    _treasury(session, world, OWN_ACCOUNT)
    assert _events(session, world.order_id) == [
        ("submitted", "sent"), ("confirmed", "confirmed"),
        ("supplier_signed", "supplier_signed"), ("signed", "signed"), ("shipped", "shipped"),
        ("delivered", "delivered"), ("accepted", "accepted"), ("invoiced", "invoiced"),
        ("payee_changed", "invoiced"), ("payee_changed", "invoiced"), ("paid", "paid")]


# -- contract facts for banks -------------------------------------------------------------

def test_contract_facts_hold_everything_a_bank_reads(session):
    world = _world(session)
    _lock(session, world)
    _treasury(session, world, LENDER_ACCOUNT)
    unsigned = _order(session, unit=world.unit, until="confirmed")[2]
    facts = contract_facts(session, [world.order_id, unsigned.id, 10**9])
    order = session.get(Order, world.order_id)
    contract = contracts.get_contract(session, world.unit.buyer, world.order_id)
    got = facts[world.order_id]
    assert got["contract_number"] == contract.number and got["order_number"] == order.number
    assert got["project_number"] == order.number and got["round_number"] is None
    assert got["purchase_mode"] == "direct" and got["paperwork"] == "contract"
    assert got["purchaser"]["name"] == world.unit.organisation.name
    assert got["purchaser"]["credit_code"] == world.unit.organisation.credit_code
    assert got["supplier"]["sme"] and got["supplier"]["size"] == "small"
    assert got["supplier"]["credit_code"]
    (item,) = got["items"]
    assert (item["quantity"], item["unit_price_fen"], item["amount_fen"]) == (QUANTITY, PRICE, TOTAL)
    assert item["category_code"] and item["unit"] and item["title"]
    assert got["total_fen"] == TOTAL and got["signed_at"] == contract.buyer_signed_at
    assert got["delivery_days"] == order.delivery_days
    assert got["acceptance"]["result"] == "pass" and got["acceptance"]["accepted_on"]
    assert got["invoice"]["number"] == order.invoice_number and got["pay_by"] == order.pay_by
    (paid,) = got["payments"]
    assert (paid["method"], paid["reference"], paid["amount_fen"], paid["payee_account_number"]) \
        == ("treasury", "GK-1", TOTAL, LENDER_ACCOUNT)
    assert got["payee_account"] == {"bank_name": "中国建设银行长沙分行",
                                    "account_name": "建行政采贷回款专户",
                                    "account_number": LENDER_ACCOUNT, "locked": True,
                                    "lender_org_id": world.bank.organisation_id}
    assert [h["account_number"] for h in got["payee_history"]] == [OWN_ACCOUNT, LENDER_ACCOUNT]
    assert got["status"] == "paid" and got["secret"] is False
    assert facts[unsigned.id]["signed_at"] is None and facts[unsigned.id]["acceptance"] is None
    assert 10**9 not in facts


def _statements(session, order_ids) -> int:
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", counted)
    try:
        contract_facts(session, order_ids)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_contract_facts_cost_the_same_statements_for_5_orders_as_for_50(session):
    unit = make_unit(session)
    _user, supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,), stock=10_000)
    _with_profile(session, supplier)
    ids = [_order(session, unit=unit, supplier=(supplier, offer), until="confirmed")[2].id
           for _ in range(50)]
    session.flush()
    few, many = _statements(session, ids[:5]), _statements(session, ids)
    assert few == many == contract_facts_module.STATEMENTS
    assert len(contract_facts(session, ids)) == 50


def test_an_award_orders_facts_name_its_bidding_round(session):
    unit = make_unit(session)
    _user, supplier, (offer,) = supplier_with_offers(session, prices=(PRICE,))
    budget.reserve(session, unit.line_id, TOTAL)
    order = place_award_order(
        session, supplier, reference="JJ2026120100007", mode=PurchaseMode.QUICK,
        buyer_org_id=unit.organisation.id, buyer_user_id=unit.buyer.user_id,
        budget_line_id=unit.line_id, reserved_fen=TOTAL, lines=[AwardLine(
            category_code=PAPER, title="A4复印纸 70g", brand="得力", model="ZB-1", unit="包",
            quantity=QUANTITY, unit_price_fen=PRICE)],
        delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000", delivery_days=10)
    assert order.reference == "JJ2026120100007"
    got = contract_facts(session, [order.id])[order.id]
    assert got["round_number"] == got["project_number"] == "JJ2026120100007"
    assert got["purchase_mode"] == "quick" and got["supplier"]["sme"] is False
