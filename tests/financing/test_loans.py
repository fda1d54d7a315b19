"""Loans through their services: a supplier applies from a signed contract with the bank's
access granted, within the product's share; only that bank takes each step, in order; the
payout locks the contract's payee account to the bank's repayment account and full
repayment (or the bank's consent) releases it; each side sees only its own loans. Products:
rates in percent to basis points, shares and terms in range, only the bank's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from financing import consent, loans, products
from financing.models import LoanStatus
from mall.core.auth import Actor
from mall.core.clock import local_today
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.payee import current_payee
from mall.purchasing.orders.models import Notification, Order
from tests.factories.financing import confirmed_orders, make_bank

TOTAL = 2 * 2990  # the factory's order: two packs of paper at 29.90
ACCOUNT = "6222020200112233"


@dataclass
class Setup:
    supplier: Actor
    buyer: Actor
    bank: Actor
    order: Order
    product_id: int


def _product(session, bank: Actor, **changes) -> int:
    form = {"name": "政采贷", "max_share_pct": "80", "rate_min": "3.65", "rate_max": "6.00",
            "term_days": "180", "regions": "000000", **changes}
    return products.create_product(session, bank, products.product_data(form)).id


def _setup(session, *, consented: bool = True, signed: bool = True) -> Setup:
    deal = confirmed_orders(session)
    order = deal.orders[0]
    if signed:
        contracts.sign(session, deal.supplier, order.id)
        contracts.sign(session, deal.unit.buyer, order.id)
    bank = make_bank(session)
    if consented:
        consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id, scope="chosen",
                      order_ids=[order.id], expires_on=local_today() + timedelta(days=90))
    session.flush()
    return Setup(deal.supplier, deal.unit.buyer, bank, order, _product(session, bank))


def _apply(session, s: Setup, amount_fen: int = 4000):
    return loans.apply_for_loan(session, s.supplier, order_id=s.order.id,
                                product_id=s.product_id, amount_fen=amount_fen)


def _disbursed(session, s: Setup):
    loan = _apply(session, s)
    loans.approve(session, s.bank, loan.id, amount_fen=4000, rate_bp=435, term_days=90)
    loans.disburse(session, s.bank, loan.id, amount_fen=4000, value_date=local_today(),
                   bank_name="湖南银行长沙分行", account_name="湖南银行政采贷回款专户",
                   account_number="6222 0202-0011 2233", bank_reference="HN-2026-001")
    return loan


def _inbox(session, organisation_id: int) -> list[str]:
    return list(session.scalars(select(Notification.kind).where(
        Notification.organisation_id == organisation_id).order_by(Notification.id)))


def test_a_loan_runs_from_application_to_closing_and_locks_the_payee_until_repaid(session):
    s = _setup(session)
    own_account = current_payee(session, s.order).account_number
    loan = _apply(session, s)
    assert loan.status is LoanStatus.APPLIED and loan.requested_fen == 4000
    assert loan.number.startswith("DK" + local_today().strftime("%Y%m%d"))
    assert "loan_applied" in _inbox(session, s.bank.organisation_id)

    loans.approve(session, s.bank, loan.id, amount_fen=3500, rate_bp=435, term_days=90)
    assert (loan.status, loan.approved_fen, loan.rate_bp) == (LoanStatus.APPROVED, 3500, 435)
    loans.disburse(session, s.bank, loan.id, amount_fen=3500, value_date=local_today(),
                   bank_name="湖南银行长沙分行", account_name="湖南银行政采贷回款专户",
                   account_number="6222 0202-0011 2233", bank_reference="HN-2026-001")
    payee = current_payee(session, s.order)
    assert (payee.account_number, payee.locked_for_financing) == (ACCOUNT, True)
    assert payee.lender_org_id == s.bank.organisation_id
    assert loan.repayment_account_number == ACCOUNT

    loans.repay(session, s.bank, loan.id, amount_fen=1500, on_day=local_today())
    assert loan.status is LoanStatus.DISBURSED
    assert current_payee(session, s.order).locked_for_financing
    loans.repay(session, s.bank, loan.id, amount_fen=2000, on_day=local_today())
    assert (loan.status, loan.repaid_fen) == (LoanStatus.REPAID, 3500)
    payee = current_payee(session, s.order)
    assert not payee.locked_for_financing and payee.account_number == own_account

    loans.close(session, s.bank, loan.id)
    assert loan.status is LoanStatus.CLOSED
    assert [e.kind for e in loan.events] == ["applied", "approved", "disbursed", "repayment",
                                             "repayment", "repaid", "closed"]
    assert {"loan_approved", "loan_disbursed", "loan_repayment", "loan_repaid",
            "loan_closed"} <= set(_inbox(session, s.supplier.organisation_id))


def test_applying_needs_the_banks_access_a_signed_contract_and_stays_within_the_share(session):
    s = _setup(session, consented=False)
    with pytest.raises(Conflict) as refused:
        _apply(session, s)
    assert refused.value.code == "consent_required"

    consent.grant(session, s.supplier, bank_org_id=s.bank.organisation_id, scope="all",
                  expires_on=local_today() + timedelta(days=30))
    with pytest.raises(ValidationFailed) as above:
        _apply(session, s, amount_fen=TOTAL * 80 // 100 + 1)
    assert "amount" in above.value.errors
    _apply(session, s, amount_fen=TOTAL * 80 // 100)
    with pytest.raises(Conflict) as twice:
        _apply(session, s, amount_fen=100)
    assert twice.value.code == "loan_exists"

    unsigned = _setup(session, signed=False)
    with pytest.raises(Conflict) as not_signed:
        _apply(session, unsigned)
    assert not_signed.value.code == "not_financeable"
    with pytest.raises(NotFound):  # another supplier's contract
        loans.apply_for_loan(session, unsigned.supplier, order_id=s.order.id,
                             product_id=s.product_id, amount_fen=100)
    with pytest.raises(PermissionDenied):  # banks do not apply
        loans.apply_for_loan(session, s.bank, order_id=s.order.id, product_id=s.product_id,
                             amount_fen=100)


def test_only_the_loans_bank_takes_its_steps_and_only_in_order(session):
    s = _setup(session)
    loan = _apply(session, s)
    other_bank = make_bank(session)
    with pytest.raises(NotFound):
        loans.approve(session, other_bank, loan.id, amount_fen=100, rate_bp=435, term_days=90)
    for step in (lambda: loans.disburse(session, s.bank, loan.id, amount_fen=100,
                                        value_date=local_today(), bank_name="b",
                                        account_name="n", account_number=ACCOUNT,
                                        bank_reference="r"),
                 lambda: loans.repay(session, s.bank, loan.id, amount_fen=100,
                                     on_day=local_today()),
                 lambda: loans.close(session, s.bank, loan.id),
                 lambda: loans.release_lock_by_consent(session, s.bank, loan.id, reason="x")):
        with pytest.raises(loans.LoanStateConflict) as wrong:
            step()
        assert (wrong.value.status, wrong.value.code) == (409, "loan_state_conflict")

    with pytest.raises(ValidationFailed) as too_much:
        loans.approve(session, s.bank, loan.id, amount_fen=4001, rate_bp=435, term_days=90)
    assert "amount" in too_much.value.errors
    with pytest.raises(ValidationFailed) as rate:
        loans.approve(session, s.bank, loan.id, amount_fen=4000, rate_bp=700, term_days=90)
    assert "rate" in rate.value.errors

    loans.reject(session, s.bank, loan.id, reason="资料不全")
    with pytest.raises(loans.LoanStateConflict):
        loans.approve(session, s.bank, loan.id, amount_fen=100, rate_bp=435, term_days=90)
    loans.close(session, s.bank, loan.id, note="归档")
    assert loan.status is LoanStatus.CLOSED
    assert "loan_rejected" in _inbox(session, s.supplier.organisation_id)


def test_a_payout_is_capped_and_a_repayment_cannot_exceed_what_is_outstanding(session):
    s = _setup(session)
    loan = _apply(session, s)
    loans.approve(session, s.bank, loan.id, amount_fen=3000, rate_bp=400, term_days=60)
    with pytest.raises(ValidationFailed) as errors:
        loans.disburse(session, s.bank, loan.id, amount_fen=3001,
                       value_date=local_today() + timedelta(days=1), bank_name="",
                       account_name="回款户", account_number="12ab", bank_reference="")
    assert set(errors.value.errors) == {"amount", "value_date", "bank_name", "account_number",
                                        "bank_reference"}
    assert not current_payee(session, s.order).locked_for_financing
    loans.disburse(session, s.bank, loan.id, amount_fen=3000, value_date=local_today(),
                   bank_name="湖南银行", account_name="回款户", account_number=ACCOUNT,
                   bank_reference="R1")
    with pytest.raises(ValidationFailed):
        loans.repay(session, s.bank, loan.id, amount_fen=3001, on_day=local_today())


def test_the_bank_may_release_the_lock_before_repayment_once(session):
    s = _setup(session)
    loan = _disbursed(session, s)
    loans.release_lock_by_consent(session, s.bank, loan.id, reason="供应商提供其他担保")
    assert not current_payee(session, s.order).locked_for_financing
    assert loans.lock_released(loan)
    with pytest.raises(loans.LoanStateConflict):
        loans.release_lock_by_consent(session, s.bank, loan.id, reason="again")
    loans.repay(session, s.bank, loan.id, amount_fen=4000, on_day=local_today())
    assert loan.status is LoanStatus.REPAID  # nothing left to release


def test_each_side_sees_only_its_own_loans(session):
    s = _setup(session)
    loan = _apply(session, s)
    other = _setup(session)
    assert [x.id for x in loans.loans_of(session, s.supplier)] == [loan.id]
    assert [x.id for x in loans.loans_of(session, s.bank)] == [loan.id]
    assert loans.loans_of(session, other.supplier) == []
    assert loans.loans_of(session, other.bank) == []
    assert loans.get_loan(session, s.supplier, loan.id) is loan
    for outsider in (other.supplier, other.bank, s.buyer):
        with pytest.raises(NotFound):
            loans.get_loan(session, outsider, loan.id)


def test_a_product_reads_rates_in_percent_and_belongs_to_its_bank(session):
    assert products.rate_bp("4.35") == 435 and products.rate_bp("4.35 %") == 435
    assert products.rate_bp("4.355") is None and products.rate_bp("abc") is None
    with pytest.raises(ValidationFailed) as errors:
        products.product_data({"name": "", "max_share_pct": "0", "rate_min": "5",
                               "rate_max": "4", "term_days": "0", "regions": "43"})
    assert set(errors.value.errors) == {"name", "max_share_pct", "rate_max", "term_days",
                                        "regions"}
    data = products.product_data({"name": "订单贷", "max_share_pct": "70", "rate_min": "3.5",
                                  "rate_max": "5.25", "term_days": "365",
                                  "regions": "430100, 430200"})
    assert (data.rate_min_bp, data.rate_max_bp, data.regions) == (350, 525,
                                                                  ["430100", "430200"])
    bank, other_bank = make_bank(session), make_bank(session)
    product = products.create_product(session, bank, data)
    with pytest.raises(NotFound):
        products.update_product(session, other_bank, product.id, data)
    assert product in [p for p, _bank in products.active_products(session)]
    products.deactivate_product(session, bank, product.id)
    assert product not in [p for p, _bank in products.active_products(session)]
    with pytest.raises(Conflict):
        products.deactivate_product(session, bank, product.id)
