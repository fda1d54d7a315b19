"""Settlement orders (结算单): a small order without centrally procured items is settled when
the supplier confirms it, with nothing to sign; centrally procured items and larger orders keep
the contract. The operator marks the centrally procured items."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from catalog import services as catalog
from mall.accounts.models import Organisation, User
from mall.accounts.services import actor_for, issue_token
from mall.core.audit import AuditEvent
from mall.core.auth import OrganisationKind
from mall.core.errors import PermissionDenied, ValidationFailed
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.contracts import notices
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.document import fingerprint
from mall.purchasing.contracts.models import Notice, NoticeKind
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Notification, OrderStatus, Paperwork
from mall.purchasing.payments import services as payments
from suppliers.models import SizeClass, SupplierProfile
from tests.conftest import csrf_from, login, post_form
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit, supplier_with_offers, token
from tests.factories.suppliers import DESKTOP, PAPER, listed_offer, operator_actor

API = "/api/v1"


def _unit(session, **options):
    """A unit under the mall's real settlement setting (the factory's default pins it to 0)."""
    return make_unit(session, settlement_max_fen=None, **options)


def _buy(session, unit, offers: dict[int, int], **options):
    for offer_id, quantity in offers.items():
        cart.add_item(session, unit.buyer, offer_id=offer_id, quantity=quantity)
    (order,) = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                 delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000",
                                 token=token(), **options).orders
    return order


def _line(session, unit) -> BudgetLine:
    line = session.get(BudgetLine, unit.line_id)
    session.refresh(line)
    return line


def _notified(session, order) -> set[tuple[int, str]]:
    return {(n.organisation_id, n.kind) for n in session.scalars(
        select(Notification).where(Notification.order_id == order.id))}


def _with_profile(session, supplier) -> SupplierProfile:
    profile = SupplierProfile(
        organisation_id=supplier.organisation_id, legal_representative="王五",
        controlling_shareholder="王五", size=SizeClass.LARGE, contact_name="王五",
        contact_phone="13800000000", contact_email="w@example.cn", bank_name="长沙银行麓山支行",
        bank_account="6230901012345678")
    session.add(profile)
    session.flush()
    return profile


# -- the decision at confirmation ------------------------------------------------------------

def test_a_small_order_without_centrally_procured_items_is_settled_and_ships_without_signing(session):
    unit = _unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    order = _buy(session, unit, {paper: 10})
    orders.confirm(session, supplier, order.id)

    assert order.paperwork is Paperwork.SETTLEMENT and order.status is OrderStatus.SIGNED
    assert [s.status for s in order.steps] == ["submitted", "sent", "confirmed", "signed"]
    document = contracts.get_contract(session, unit.buyer, order.id)
    assert document.number == "JS" + order.number[2:] and order.steps[-1].note == document.number
    assert document.supplier_signed_at is None and document.buyer_signed_at is None
    line = _line(session, unit)
    assert (line.reserved_fen, line.committed_fen) == (0, 29_900) and order.budget_state == "committed"
    assert _notified(session, order) >= {(unit.organisation.id, "settlement_issued"),
                                         (supplier.organisation_id, "settlement_to_ship")}
    assert (unit.organisation.id, "order_confirmed") not in _notified(session, order)

    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF1")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    orders.invoice(session, supplier, order.id, invoice_number="E-2026-9")
    payments.record_treasury_payment(session, unit.finance, order.id, voucher_number="GK-9",
                                     paid_on=order.invoiced_at.date(), amount_fen=29_900,
                                     payee_account_number="6230901012345678")
    assert order.status is OrderStatus.PAID
    line = _line(session, unit)
    assert (line.reserved_fen, line.committed_fen, line.spent_fen) == (0, 0, 29_900)


def test_an_order_with_a_centrally_procured_line_is_signed_as_a_contract(session):
    catalog.set_centrally_procured(session, operator_actor(session), codes=[DESKTOP],
                                   centrally_procured=True)
    unit = _unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    desktop = listed_offer(session, supplier, code=DESKTOP, price_fen=3500, reference=3800).offer_id
    order = _buy(session, unit, {paper: 1, desktop: 1})  # 65.90 yuan, far below the threshold
    orders.confirm(session, supplier, order.id)

    assert order.paperwork is Paperwork.CONTRACT and order.status is OrderStatus.CONFIRMED
    contract = contracts.get_contract(session, unit.buyer, order.id)
    assert contract.number.startswith("HT") and "政府采购合同" in contract.html
    assert (unit.organisation.id, "order_confirmed") in _notified(session, order)
    contracts.sign(session, supplier, order.id, contract.sha256)
    contracts.sign(session, unit.buyer, order.id, contract.sha256)
    assert order.status is OrderStatus.SIGNED


def test_the_confirmed_total_decides_up_to_and_including_the_5_wan_default(session):
    unit = _unit(session)
    _s, supplier, (offer,) = supplier_with_offers(session, prices=(100_000,), stock=200)
    at_limit = _buy(session, unit, {offer: 50})  # exactly 5万元
    above = _buy(session, unit, {offer: 51})
    lowered = _buy(session, unit, {offer: 51})
    assert budget.settlement_threshold(session, unit.organisation.id) == 5_000_000
    orders.confirm(session, supplier, at_limit.id)
    orders.confirm(session, supplier, above.id)
    orders.confirm(session, supplier, lowered.id, {lowered.lines[0].id: 98_000})  # 49,980元

    assert at_limit.paperwork is Paperwork.SETTLEMENT and at_limit.status is OrderStatus.SIGNED
    assert above.paperwork is Paperwork.CONTRACT and above.status is OrderStatus.CONFIRMED
    assert lowered.paperwork is Paperwork.SETTLEMENT and lowered.total_fen == 4_998_000


def test_the_threshold_of_the_units_region_then_province_then_the_mall_applies(session):
    operator = operator_actor(session)
    unit = _unit(session, region_code="430104")
    elsewhere = _unit(session, region_code="110101")
    assert budget.settlement_threshold(session, unit.organisation.id) == budget.DEFAULT_SETTLEMENT_MAX_FEN

    budget.set_settlement_threshold(session, operator, region_code=None, amount_fen=3_000_000)
    budget.set_limits(session, operator, region_code="430000", direct_limit_fen=100_000_000)
    budget.set_settlement_threshold(session, operator, region_code="430000", amount_fen=1_000_000)
    assert budget.settlement_threshold(session, unit.organisation.id) == 1_000_000
    assert budget.settlement_threshold(session, elsewhere.organisation.id) == 3_000_000
    budget.set_limits(session, operator, region_code="430104", direct_limit_fen=100_000_000)
    assert budget.settlement_threshold(session, unit.organisation.id) == 1_000_000  # row, no amount
    budget.set_settlement_threshold(session, operator, region_code="430104", amount_fen=2_000_000)
    assert budget.settlement_threshold(session, unit.organisation.id) == 2_000_000
    assert budget.unit_limits(session, unit.organisation.id).direct_limit_fen == 100_000_000

    _s, supplier, (offer,) = supplier_with_offers(session, prices=(100_000,))
    small = _buy(session, unit, {offer: 20})  # 2万元: within the district's threshold
    larger = _buy(session, unit, {offer: 21})
    orders.confirm(session, supplier, small.id)
    orders.confirm(session, supplier, larger.id)
    assert (small.paperwork, larger.paperwork) == (Paperwork.SETTLEMENT, Paperwork.CONTRACT)
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "purchase_settlement.set")).all()
    assert [e.data["settlement_max_fen"] for e in events] == [3_000_000, 1_000_000, 2_000_000]


def test_only_the_operator_sets_a_threshold_and_a_region_needs_its_limits_first(session):
    operator = operator_actor(session)
    unit = _unit(session)
    with pytest.raises(PermissionDenied):
        budget.set_settlement_threshold(session, unit.approver, region_code=None, amount_fen=1)
    with pytest.raises(ValidationFailed) as missing:
        budget.set_settlement_threshold(session, operator, region_code="439900", amount_fen=1)
    assert "region_code" in missing.value.errors
    with pytest.raises(ValidationFailed):
        budget.set_settlement_threshold(session, operator, region_code=None, amount_fen=-1)
    budget.set_settlement_threshold(session, operator, region_code=None, amount_fen=0)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    order = _buy(session, unit, {paper: 1})
    orders.confirm(session, supplier, order.id)
    assert order.paperwork is Paperwork.CONTRACT  # 0: every order is signed as a contract


# -- no signatures, the document, the audit trail, notices -------------------------------------

def _settled(session):
    unit = _unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    order = _buy(session, unit, {paper: 10})
    orders.confirm(session, supplier, order.id)
    return unit, supplier, order


def test_signing_a_settlement_order_is_refused_as_there_is_no_contract(session):
    unit, supplier, order = _settled(session)
    sha = contracts.get_contract(session, supplier, order.id).sha256
    for call, actor in ((contracts.sign, supplier), (contracts.sign, unit.buyer)):
        with pytest.raises(contracts.NoContractToSign) as refused:
            call(session, actor, order.id, sha)
        assert refused.value.code == "no_contract_to_sign" and refused.value.status == 409
        assert order.number in refused.value.detail
    with pytest.raises(contracts.NoContractToSign):
        contracts.verify_signatures(session, unit.buyer, order.id)
    assert order.status is OrderStatus.SIGNED


def test_the_settlement_order_names_both_parties_the_sums_in_capitals_and_the_payee(session):
    unit = _unit(session)
    _s, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    _with_profile(session, supplier)
    order = _buy(session, unit, {paper: 10})
    orders.confirm(session, supplier, order.id)
    document = contracts.get_contract(session, unit.buyer, order.id)
    html = document.html
    buyer = session.get(Organisation, unit.organisation.id)
    seller = session.get(Organisation, supplier.organisation_id)

    assert "<h1>结算单</h1>" in html and "政府采购合同" not in html
    assert buyer.credit_code in html and seller.credit_code in html
    assert buyer.name in html and seller.name in html
    assert "¥299.00" in html and "人民币贰佰玖拾玖元整" in html
    assert "6230901012345678" in html and "长沙银行麓山支行" in html
    assert document.number in html and order.number in html
    assert "签字" not in html.replace("无需签字盖章", "")  # no signature blocks
    assert fingerprint(html) == document.sha256


def test_the_settlement_orders_fingerprint_is_in_the_audit_trail(session):
    _unit_, supplier, order = _settled(session)
    document = contracts.get_contract(session, supplier, order.id)
    (event,) = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "order.signed", AuditEvent.object_type == "order",
        AuditEvent.object_id == str(order.id))).all()
    assert event.data["sha256"] == document.sha256 == fingerprint(document.html)
    assert event.data["paperwork"] == "settlement" and event.data["document_number"] == document.number
    assert event.actor_organisation_id == supplier.organisation_id


def test_a_settlement_order_gets_a_result_notice_and_never_a_contract_notice(session):
    unit, supplier, order = _settled(session)
    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF2")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    assert notices.publish_due(session) >= 1
    kinds = session.scalars(select(Notice.kind).where(Notice.order_id == order.id)).all()
    assert kinds == [NoticeKind.RESULT]
    with pytest.raises(ValueError):
        notices.record_notice(session, order, NoticeKind.CONTRACT)


# -- API and pages -----------------------------------------------------------------------------

def _bearer(session, actor) -> dict[str, str]:
    _token, secret = issue_token(session, actor, name="ERP", scopes=["orders:read", "orders:write"])
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_shows_the_paperwork_serves_the_settlement_order_and_refuses_signing(app, session):
    unit, supplier, order = _settled(session)
    buyer = _bearer(session, unit.approver)
    client = app.test_client()
    shown = client.get(f"{API}/orders/{order.id}", headers=buyer)
    assert shown.json["paperwork"] == "settlement" and shown.json["status"] == "signed"
    document = client.get(f"{API}/orders/{order.id}/contract", headers=buyer)
    assert document.mimetype == "text/html" and "结算单" in document.get_data(as_text=True)
    assert document.headers["X-Contract-SHA256"] == contracts.get_contract(session, supplier, order.id).sha256
    refused = client.post(f"{API}/orders/{order.id}/sign", json={}, headers=buyer)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert refused.json["code"] == "no_contract_to_sign"
    spec = client.get(f"{API}/openapi.json").json
    assert "paperwork" in spec["components"]["schemas"]["Order"]["properties"]
    assert "put" in spec["paths"][f"{API}/categories/centrally-procured"]
    assert "centrally_procured" in spec["components"]["schemas"]["Category"]["properties"]


def _browser(app, session, actor, *, english: bool = True):
    browser = app.test_client()
    if english:
        post_form(browser, "/login", "/language/en", {"next": "/login"})
    login(browser, session.get(User, actor.user_id).login)
    return browser


def test_the_order_page_shows_the_settlement_order_in_place_of_the_contract(app, session):
    unit, supplier, order = _settled(session)
    sha = contracts.get_contract(session, supplier, order.id).sha256
    seller = _browser(app, session, supplier)
    html = seller.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'id="settlement"' in html and 'id="contract"' not in html
    assert re.search(r'id="settlement-sha256">([0-9a-f]{64})<', html).group(1) == sha
    assert f'href="/orders/{order.id}/contract"' in html
    assert 'id="form-sign"' not in html and 'id="form-ship"' in html
    assert "Settlement order issued" in html and "Contract signed" not in html
    pdf = seller.get(f"/orders/{order.id}/contract?format=pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert f'filename="JS{order.number[2:]}.pdf"' in pdf.headers["Content-Disposition"]

    buyer = _browser(app, session, unit.buyer, english=False)  # the default language: Chinese
    html = buyer.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "<h2>结算单</h2>" in html and 'id="form-sign"' not in html


# -- the operator's centrally procured items ------------------------------------------------

def test_the_operator_marks_and_clears_centrally_procured_items_with_an_audit_entry(session):
    operator = operator_actor(session)
    assert catalog.set_centrally_procured(session, operator, codes=[DESKTOP, "A02010108"],
                                          centrally_procured=True) == 2
    assert catalog.get_category(session, DESKTOP).centrally_procured
    assert catalog.set_centrally_procured(session, operator, codes=[DESKTOP],
                                          centrally_procured=False) == 1
    assert not catalog.get_category(session, DESKTOP).centrally_procured
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "category").order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["category.centrally_procured", "category.not_centrally_procured"]
    with pytest.raises(ValidationFailed) as parent:
        catalog.set_centrally_procured(session, operator, codes=["A02010100"], centrally_procured=True)
    assert "A02010100" in parent.value.errors["codes"][0]


def test_nobody_but_the_operator_marks_centrally_procured_items(session):
    for kind in (OrganisationKind.PURCHASING_UNIT, OrganisationKind.SUPPLIER,
                 OrganisationKind.SUPERVISOR):
        actor = actor_for(make_member(session, kind))
        with pytest.raises(PermissionDenied):
            catalog.set_centrally_procured(session, actor, codes=[PAPER], centrally_procured=True)
    assert not catalog.get_category(session, PAPER).centrally_procured


def test_the_category_api_marks_items_for_operators_only(app, session):
    make_member(session, OrganisationKind.OPERATOR, login="central-op")
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="central-buyer")
    for name, status in (("central-buyer", 403), ("central-op", 200)):
        client = app.test_client()
        login(client, name)
        token_ = csrf_from(client.get("/").get_data(as_text=True))
        response = client.put(f"{API}/categories/centrally-procured",
                              json={"codes": [DESKTOP], "centrally_procured": True},
                              headers={"X-CSRFToken": token_})
        assert response.status_code == status, response.get_data(as_text=True)
        if status == 403:
            assert response.json["code"] == "role_required"
        else:
            assert response.json == {"changed": 1}
    assert client.get(f"{API}/categories/{DESKTOP}").json["centrally_procured"] is True


def test_the_demo_marks_its_centrally_procured_items(session):
    from catalog.models import Category
    from mall.demo.seed import CENTRALLY_PROCURED_CODES, seed_demo

    seed_demo(session, offers=30, seed=11, password="Demo-Password-1", echo=lambda _m: None)
    marked = dict(session.execute(select(Category.code, Category.name).where(
        Category.centrally_procured.is_(True))).all())
    assert set(marked) == set(CENTRALLY_PROCURED_CODES)
    assert {"台式计算机", "便携式计算机", "服务器", "扫描仪", "碎纸机", "投影仪",
            "多功能一体机"} <= set(marked.values())
