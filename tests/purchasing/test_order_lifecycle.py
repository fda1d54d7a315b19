"""Direct purchase through the services: checkout, budget and limits, the order's steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from catalog.models import Offer
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock, now
from mall.core.errors import NotFound, PermissionDenied, ValidationFailed
from mall.purchasing.budget import limits
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import notices
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.models import Notice, NoticeKind
from mall.purchasing.orders import cart, checkout, jobs
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import OrderStatus
from mall.purchasing.orders.steps import WrongState
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit, supplier_with_offers, token

# The supplier recorded no account: a treasury transfer names the one it paid into.
ACCOUNT = "6230901000000001"


def _buy(session, unit, offers: dict[int, int], **options):
    for offer_id, quantity in offers.items():
        cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    return checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                             delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000",
                             token=options.pop("token", None) or token(), **options)


def _line(session, unit) -> BudgetLine:
    line = session.get(BudgetLine, unit.line_id)
    session.refresh(line)
    return line


def _stock(session, offer_id) -> int:
    offer = session.get(Offer, offer_id)
    session.refresh(offer)
    return offer.stock


def test_checkout_splits_the_cart_per_supplier_takes_stock_and_reserves_budget(session):
    unit = make_unit(session)
    _s1, _a1, (paper,) = supplier_with_offers(session, prices=(2990,))
    _s2, _a2, (other,) = supplier_with_offers(session, prices=(3100,))
    result = _buy(session, unit, {paper: 3, other: 2})
    assert len(result.orders) == 2
    assert sorted(o.total_fen for o in result.orders) == [2 * 3100, 3 * 2990]
    assert all(o.status is OrderStatus.SENT for o in result.orders)
    assert _stock(session, paper) == 97 and _stock(session, other) == 98
    assert _line(session, unit).reserved_fen == 3 * 2990 + 2 * 3100
    assert cart.count_items(session, unit.buyer) == 0


def test_a_repeated_checkout_token_returns_the_first_orders(session):
    unit = make_unit(session)
    _s, _a, (paper,) = supplier_with_offers(session)
    first = _buy(session, unit, {paper: 1}, token="same-token")
    again = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                              delivery_address="x", contact="y", token="same-token")
    assert again.replayed and [o.id for o in again.orders] == [o.id for o in first.orders]
    assert _stock(session, paper) == 99


def test_checkout_refuses_more_than_the_stock_and_keeps_everything(session):
    unit = make_unit(session)
    _s, _a, (paper,) = supplier_with_offers(session, stock=5)
    with pytest.raises(cart.OutOfStock) as refused:
        cart.add_item(session, unit.buyer, offer_id=paper, quantity=6)
    assert refused.value.code == "out_of_stock"


def test_the_limit_blocks_a_single_order_and_the_running_total_and_warns_at_80_pct(session):
    unit = make_unit(session)
    budget.set_limits(session, _operator(session), region_code=None, direct_limit_fen=100_000)
    _s, _a, (paper,) = supplier_with_offers(session, prices=(10_000,))
    with pytest.raises(limits.LimitExceeded) as blocked:
        _buy(session, unit, {paper: 11})
    assert "¥1,000.00" in blocked.value.detail and "bidding round" in blocked.value.detail
    cart.clear(session, unit.buyer)
    first = _buy(session, unit, {paper: 5})
    assert not first.warnings
    second = _buy(session, unit, {paper: 4})  # 90,000 of 100,000: warned
    assert [w.category_code for w in second.warnings] == ["A05040101"]
    with pytest.raises(limits.LimitExceeded) as total:
        _buy(session, unit, {paper: 2})  # would make 110,000 this year
    assert "¥900.00" in total.value.detail  # the running total so far is named
    cart.clear(session, unit.buyer)
    assert _stock(session, paper) == 91


def test_budget_is_reserved_at_submission_and_released_on_cancellation(session):
    unit = make_unit(session, amount_fen=10_000)
    _s, _a, (paper,) = supplier_with_offers(session, prices=(2990,))
    (order,) = _buy(session, unit, {paper: 3}).orders
    assert _line(session, unit).reserved_fen == 8970
    with pytest.raises(budget.BudgetExhausted):
        _buy(session, unit, {paper: 1})
    cart.clear(session, unit.buyer)
    orders.cancel(session, unit.buyer, order.id, "wrong item")
    assert _line(session, unit).reserved_fen == 0
    assert _stock(session, paper) == 100


def test_an_unconfirmed_order_is_cancelled_after_72_hours_with_stock_and_budget_released(session):
    unit = make_unit(session)
    _s, _a, (paper,) = supplier_with_offers(session)
    (order,) = _buy(session, unit, {paper: 4}).orders
    with frozen_clock(now() + timedelta(hours=71)):
        assert jobs.cancel_unconfirmed(session) == 0
        assert jobs.remind_confirmation(session) == 1
    with frozen_clock(now() + timedelta(hours=72, minutes=1)):
        assert jobs.cancel_unconfirmed(session) == 1
    assert order.status is OrderStatus.CANCELLED
    assert _stock(session, paper) == 100 and _line(session, unit).reserved_fen == 0


def test_the_supplier_may_lower_but_never_raise_a_price(session):
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    (order,) = _buy(session, unit, {paper: 10}).orders
    line_id = order.lines[0].id
    with pytest.raises(ValidationFailed) as raised:
        orders.confirm(session, supplier, order.id, {line_id: 3000})
    assert raised.value.code == "price_raise_refused"
    orders.confirm(session, supplier, order.id, {line_id: 2900})
    assert order.total_fen == 29_000 and order.status is OrderStatus.CONFIRMED
    assert _line(session, unit).reserved_fen == 29_000


def test_the_whole_lifecycle_with_contract_signatures_notices_and_treasury_payment(session):
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    (order,) = _buy(session, unit, {paper: 10}).orders
    orders.confirm(session, supplier, order.id)
    contract = contracts.get_contract(session, unit.buyer, order.id)
    assert "贰佰玖拾玖元" in contract.html  # ¥299.00 in capitals
    contracts.sign(session, supplier, order.id, contract.sha256)
    contracts.sign(session, unit.buyer, order.id, contract.sha256)
    assert contracts.verify_signatures(session, unit.buyer, order.id) == {"supplier": True, "buyer": True}
    contract.html = contract.html.replace("29.90", "19.90")  # tampering is noticed
    assert contracts.verify_signatures(session, unit.buyer, order.id) == {"supplier": False,
                                                                         "buyer": False}
    contract.html = contract.html.replace("19.90", "29.90")
    assert _line(session, unit).committed_fen == 29_900
    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF123")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    orders.invoice(session, supplier, order.id, invoice_number="E-2026-001")
    from mall.purchasing.payments import services as payments

    payments.record_treasury_payment(session, unit.finance, order.id, voucher_number="GK-0001",
                                     paid_on=order.invoiced_at.date(), amount_fen=29_900,
                                     payee_account_number=ACCOUNT)
    assert order.status is OrderStatus.PAID
    line = _line(session, unit)
    assert (line.reserved_fen, line.committed_fen, line.spent_fen) == (0, 0, 29_900)
    orders.rate(session, unit.buyer, order.id, quality=5, delivery=4, service=5)
    assert order.status is OrderStatus.RATED
    assert [s.status for s in order.steps][:3] == ["submitted", "sent", "confirmed"]
    assert notices.publish_due(session) == 2
    listed, total = notices.search_notices(session, notices.NoticeFilter(supplier=_s.organisation.name))
    assert total == 2 and {n.kind for n in listed} == {NoticeKind.RESULT, NoticeKind.CONTRACT}


def test_a_secret_contract_is_recorded_but_never_published(session):
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session)
    (order,) = _buy(session, unit, {paper: 1}, secret=True).orders
    orders.confirm(session, supplier, order.id)
    contracts.sign(session, supplier, order.id)
    contracts.sign(session, unit.buyer, order.id)
    notices.publish_due(session)
    contract_notice = session.query(Notice).filter_by(order_id=order.id, kind=NoticeKind.CONTRACT).one()
    assert contract_notice.withheld and contract_notice.published_at is None
    _rows, total = notices.search_notices(session, notices.NoticeFilter(kind=NoticeKind.CONTRACT))
    assert all(n.order_id != order.id for n in _rows)


def test_partial_acceptance_returns_the_rest_to_stock_and_budget(session):
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(1000,))
    (order,) = _buy(session, unit, {paper: 10}).orders
    _through_delivery(session, unit, supplier, order)
    with pytest.raises(ValidationFailed):
        orders.accept(session, unit.buyer, order.id, result="partial",
                      quantities={order.lines[0].id: 7})  # no reason given
    orders.accept(session, unit.buyer, order.id, result="partial",
                  quantities={order.lines[0].id: 7}, reasons="3 箱受潮")
    assert order.accepted_fen == 7000 and order.amount_due_fen == 7000
    assert _stock(session, paper) == 93
    assert _line(session, unit).committed_fen == 7000


def _step_function(name: str):
    module, _, function = name.rpartition(".")
    return getattr(contracts if module == "contracts" else orders, function)


@pytest.mark.parametrize("step", ["confirm", "ship", "invoice"])
def test_supplier_steps_are_refused_to_the_buyer_and_to_other_suppliers(session, step):
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session)
    _o, stranger, _ids = supplier_with_offers(session)
    (order,) = _buy(session, unit, {paper: 1}).orders
    call = _step_function(step)
    kwargs = {"ship": {"carrier": "x", "tracking_number": "y"},
              "invoice": {"invoice_number": "z"}}.get(step, {})
    with pytest.raises(PermissionDenied):
        call(session, unit.buyer, order.id, **kwargs)
    with pytest.raises(NotFound):
        call(session, stranger, order.id, **kwargs)


@pytest.mark.parametrize("step", ["receive", "cancel", "approve"])
def test_buyer_steps_are_refused_to_the_supplier_and_to_other_units(session, step):
    unit = make_unit(session)
    other = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session)
    (order,) = _buy(session, unit, {paper: 1}).orders
    call = _step_function(step)
    args = ("reason",) if step == "cancel" else ()
    with pytest.raises(PermissionDenied):
        call(session, supplier, order.id, *args)
    with pytest.raises(NotFound):
        call(session, other.buyer, order.id, *args)


def test_only_the_two_parties_sign_and_the_supplier_signs_first(session):
    unit, other = make_unit(session), make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session)
    (order,) = _buy(session, unit, {paper: 1}).orders
    orders.confirm(session, supplier, order.id)
    with pytest.raises(NotFound):
        contracts.sign(session, other.buyer, order.id)
    supervisor = actor_for(make_member(session, OrganisationKind.SUPERVISOR, [Role.SUPERVISOR]))
    with pytest.raises(PermissionDenied):
        contracts.sign(session, supervisor, order.id)
    with pytest.raises(WrongState):  # the supplier's authorised signatory signs first
        contracts.sign(session, unit.buyer, order.id)
    assert contracts.sign(session, supplier, order.id).status is OrderStatus.SUPPLIER_SIGNED
    assert contracts.sign(session, unit.buyer, order.id).status is OrderStatus.SIGNED


def test_orders_above_the_units_amount_wait_for_its_approver(session):
    unit = make_unit(session)
    orders.set_approval_threshold(session, unit.approver, 5000)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    (small,) = _buy(session, unit, {paper: 1}).orders
    (large,) = _buy(session, unit, {paper: 2}).orders
    assert small.status is OrderStatus.SENT
    assert large.status is OrderStatus.PENDING_APPROVAL and large.confirm_by is None
    with pytest.raises(PermissionDenied):
        orders.approve(session, unit.buyer, large.id)
    orders.approve(session, unit.approver, large.id)
    assert large.status is OrderStatus.SENT and large.confirm_by is not None


def _through_delivery(session, unit, supplier, order):
    orders.confirm(session, supplier, order.id)
    contracts.sign(session, supplier, order.id)
    contracts.sign(session, unit.buyer, order.id)
    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, unit.buyer, order.id)


def _operator(session):
    from tests.factories.suppliers import operator_actor

    return operator_actor(session)


def test_payment_is_reminded_before_and_alerted_to_the_supervisor_after_30_days(session):
    from mall.core.auth import OrganisationKind
    from mall.purchasing.orders.models import Notification
    from tests.factories.accounts import make_organisation

    supervisor = make_organisation(session, OrganisationKind.SUPERVISOR)
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session)
    (order,) = _buy(session, unit, {paper: 1}).orders
    _through_delivery(session, unit, supplier, order)
    orders.accept(session, unit.buyer, order.id, result="pass")
    orders.invoice(session, supplier, order.id, invoice_number="E-1")
    with frozen_clock(now() + timedelta(days=26)):
        assert jobs.remind_payment(session) == 1
        assert jobs.alert_overdue_payments(session) == 0
    with frozen_clock(now() + timedelta(days=30, hours=1)):
        assert jobs.alert_overdue_payments(session) == 1
        assert jobs.alert_overdue_payments(session) == 0  # once
    alerted = {n.organisation_id for n in session.query(Notification).filter_by(
        order_id=order.id, kind="payment_overdue")}
    assert alerted == {unit.organisation.id, supervisor.id}


def test_a_partial_acceptance_of_nothing_is_a_rejection_and_a_zero_price_is_invalid(session):
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(1000,))
    (order,) = _buy(session, unit, {paper: 4}).orders
    with pytest.raises(ValidationFailed) as zero:
        orders.confirm(session, supplier, order.id, {order.lines[0].id: 0})
    assert zero.value.code == "validation_failed"
    _through_delivery(session, unit, supplier, order)
    orders.accept(session, unit.buyer, order.id, result="partial",
                  quantities={order.lines[0].id: 0}, reasons="全部破损")
    assert order.status is OrderStatus.RETURNED
    assert _stock(session, paper) == 100 and _line(session, unit).committed_fen == 0


def test_limits_follow_the_units_region_then_its_province_then_the_mall_default(session):
    operator = _operator(session)
    unit = make_unit(session, region_code="430104")
    assert budget.unit_limits(session, unit.organisation.id).direct_limit_fen == 100_000_000
    budget.set_limits(session, operator, region_code=None, direct_limit_fen=90_000_000)
    budget.set_limits(session, operator, region_code="430000", direct_limit_fen=80_000_000)
    assert budget.unit_limits(session, unit.organisation.id).direct_limit_fen == 80_000_000
    budget.set_limits(session, operator, region_code="430104", direct_limit_fen=70_000_000,
                      warn_pct=90)
    assert budget.unit_limits(session, unit.organisation.id) == budget.Limits(70_000_000, 90)
    other = make_unit(session, region_code="110101")
    assert budget.unit_limits(session, other.organisation.id).direct_limit_fen == 90_000_000


def test_a_budget_line_covers_its_own_subtree_only(session):
    unit = make_unit(session, category_code="A02100000")  # 仪器仪表
    line = session.get(BudgetLine, unit.line_id)
    assert budget.covers(line, "A02100101")
    assert not budget.covers(line, "A02110100")  # 电子和通信测量仪器 is a sibling


def test_the_supplier_cannot_confirm_after_the_72_hours(session):
    unit = make_unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session)
    (order,) = _buy(session, unit, {paper: 1}).orders
    with frozen_clock(now() + timedelta(hours=72, seconds=1)), pytest.raises(orders.WrongState) as late:
        orders.confirm(session, supplier, order.id)
    assert late.value.code == "confirmation_deadline_passed"


def test_an_approver_cannot_approve_their_own_order(session):
    unit = make_unit(session)
    orders.set_approval_threshold(session, unit.approver, 100)
    _s, _a, (paper,) = supplier_with_offers(session)
    cart.add_item(session, unit.approver, offer_id=paper, quantity=1)
    (order,) = checkout.checkout(session, unit.approver, budget_line_id=unit.line_id,
                                 delivery_address="长沙", contact="审批人", token=token()).orders
    with pytest.raises(PermissionDenied) as own:
        orders.approve(session, unit.approver, order.id)
    assert own.value.code == "own_order_approval"
