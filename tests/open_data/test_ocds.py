"""OCDS releases and records of direct purchases and bidding rounds, through the public API:
every package and record validates against the official 1.1.5 schema and codelists, and says
what the statutory notices say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bidding_rounds import awards, closing
from mall.core.clock import frozen_clock, local_today
from mall.purchasing.contracts import notices
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.models import Notice, NoticeKind
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders import services as orders
from mall.purchasing.payments import services as payments
from suppliers.models import SizeClass
from tests.factories.purchasing import make_unit, supplier_with_offers, token
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds
from tests.open_data.validation import assert_valid

START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
API = "/api/v1/open-data/ocds"
PREFIX = "ocds-mall01"


def _get(client, path: str, kind: str):
    answer = client.get(f"{API}/{path}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json"
    document = answer.get_json()
    assert_valid(document, kind)
    return document


def _walk_to_paid(session, clock, *, secret: bool = False):
    """A direct purchase from checkout to a treasury payment, its notices published."""
    unit = make_unit(session)
    supplier_user, supplier, (paper,) = supplier_with_offers(session, prices=(2990,))
    cart.add_item(session, unit.buyer, offer_id=paper, quantity=10)
    (order,) = checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                                 delivery_address="长沙市岳麓区麓山路1号",
                                 contact="李四 13800000000", token=token(),
                                 secret=secret).orders
    clock[0] += timedelta(minutes=5)
    orders.confirm(session, supplier, order.id)
    clock[0] += timedelta(minutes=5)
    notices.publish_due(session)
    contract = contracts.get_contract(session, unit.buyer, order.id)
    contracts.sign(session, supplier, order.id, contract.sha256)
    clock[0] += timedelta(minutes=5)
    contracts.sign(session, unit.buyer, order.id, contract.sha256)
    clock[0] += timedelta(minutes=5)
    notices.publish_due(session)
    orders.ship(session, supplier, order.id, carrier="顺丰", tracking_number="SF123")
    orders.receive(session, unit.buyer, order.id)
    orders.accept(session, unit.buyer, order.id, result="pass")
    orders.invoice(session, supplier, order.id, invoice_number="E-2026-001")
    clock[0] += timedelta(minutes=5)
    payments.record_treasury_payment(session, unit.finance, order.id, voucher_number="GK-0001",
                                     paid_on=local_today(), amount_fen=29_900,
                                     **_payee(session, order))
    session.flush()
    return unit, supplier_user, order


def _payee(session, order) -> dict[str, str]:
    """The payee account a treasury payment names: the contract's payee account (the
    supplier's declared bank account; the test suppliers declare none, so any account)."""
    from mall.purchasing.contracts.payee import current_payee

    return {"payee_account_number": current_payee(session, order).account_number
            or "6216000000000001"}


def _notice(session, order_id: int, kind: NoticeKind) -> Notice:
    return session.scalars(select(Notice).where(Notice.order_id == order_id,
                                                Notice.kind == kind)).one()


def test_a_direct_purchase_walked_to_paid_publishes_award_contract_and_payments(client,
                                                                              session):
    with frozen_clock(START) as clock:
        _unit, supplier_user, order = _walk_to_paid(session, clock)
    ocid = f"{PREFIX}-{order.number}"
    day = _get(client, f"packages/{START.date().isoformat()}", "release-package")
    mine = [r for r in day["releases"] if r["ocid"] == ocid]
    assert [r["tag"] for r in mine] == [["tender", "award"], ["contract"], ["implementation"]]
    assert day["version"] == "1.1" and day["publisher"]["name"] == "政府采购电子卖场"
    assert day["license"] == "https://creativecommons.org/licenses/by/4.0/"

    record = _get(client, f"records/{ocid}", "record-package")
    (entry,) = record["records"]
    assert [r["id"] for r in entry["releases"]] == [r["id"] for r in mine]
    compiled = entry["compiledRelease"]
    result = _notice(session, order.id, NoticeKind.RESULT)
    contract_notice = _notice(session, order.id, NoticeKind.CONTRACT)
    (award,) = compiled["awards"]
    # the release says what the notices say: supplier, amount, items, contract number
    assert award["suppliers"][0]["name"] == result.body["supplier"] == result.supplier_name
    assert award["value"] == {"amount": result.amount_fen / 100, "currency": "CNY"}
    assert [i["quantity"] for i in award["items"]] == [i["quantity"] for i in result.body["items"]]
    (contract,) = compiled["contracts"]
    assert contract["id"] == contract_notice.body["contract_number"]
    assert contract["value"]["amount"] * 100 == contract_notice.amount_fen
    assert contract["awardID"] == award["id"]
    (payment,) = contract["implementation"]["transactions"]
    assert payment["id"] == "GK-0001" and payment["value"]["amount"] == 299
    assert compiled["tender"]["procurementMethod"] == "direct"
    assert compiled["planning"]["budget"]["projectID"] == "2026-BG-001"
    supplier = next(p for p in compiled["parties"] if "supplier" in p["roles"])
    assert supplier["identifier"] == {"scheme": "CN-USCC", "legalName": result.body["supplier"],
                                      "id": result.body["supplier_credit_code"]}
    assert set(supplier["roles"]) == {"supplier", "payee"}
    assert "details" not in supplier  # declared no size (中小企业声明函): no scale is claimed
    assert compiled["tag"] == ["compiled"] and compiled["date"] == mine[-1]["date"]
    classification = award["items"][0]["classification"]
    assert classification["scheme"] == "CN-ZFCGPM-2022" and classification["id"] == "A05040101"

    month = _get(client, f"bulk/{START:%Y-%m}", "release-package")
    assert [r["id"] for r in month["releases"] if r["ocid"] == ocid] == [r["id"] for r in mine]
    answer = client.get(f"{API}/bulk/{START:%Y-%m}")
    assert answer.headers["Content-Disposition"] == (
        f"attachment; filename=ocds-{PREFIX}-{START:%Y-%m}.json")
    # the release ids and dates are stable: read again, the same
    assert _get(client, f"records/{ocid}", "record-package")["records"][0]["releases"] == \
        entry["releases"]


def test_a_secret_order_publishes_no_release(client, session):
    with frozen_clock(START + timedelta(days=1)) as clock:
        _unit, _supplier, order = _walk_to_paid(session, clock, secret=True)
    ocid = f"{PREFIX}-{order.number}"
    day = client.get(f"{API}/packages/{(START + timedelta(days=1)).date().isoformat()}")
    assert day.status_code == 404 and day.get_json()["code"] == "no_releases"
    missing = client.get(f"{API}/records/{ocid}")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert missing.get_json()["code"] == "ocid_not_found"


def test_a_failed_round_is_an_unsuccessful_tender(client, session):
    moment = START + timedelta(days=2)
    with frozen_clock(moment) as clock:
        unit = unit_for_rounds(session)
        bidders = [make_bidder(session) for _ in range(2)]
        bidding_round = paper_round(session, unit, ceiling_fen=500_000)
        for bidder in bidders:
            quote(session, bidder, bidding_round, 4_000)
        clock[0] = bidding_round.deadline + timedelta(seconds=1)
        closing.close_due_rounds(session)
    ocid = f"{PREFIX}-{bidding_round.number}"
    record = _get(client, f"records/{ocid}", "record-package")
    (entry,) = record["records"]
    assert [r["tag"] for r in entry["releases"]] == [["tender"], ["tenderUpdate"]]
    tender = entry["compiledRelease"]["tender"]
    assert tender["status"] == "unsuccessful" and tender["numberOfTenderers"] == 2
    assert tender["procurementMethod"] == "open" and tender["value"]["amount"] == 5000
    assert "awards" not in entry["compiledRelease"]
    for day in (moment, clock[0]):
        _get(client, f"packages/{day.date().isoformat()}", "release-package")


def test_a_confirmed_round_awards_its_winner_and_carries_its_orders_contract(client, session):
    moment = START + timedelta(days=3)
    with frozen_clock(moment) as clock:
        unit = unit_for_rounds(session)
        bidders = [make_bidder(session, size=size)
                   for size in (SizeClass.LARGE, SizeClass.MEDIUM, SizeClass.SMALL)]
        bidding_round = paper_round(session, unit, ceiling_fen=1_000_000)
        for bidder, price in zip(bidders, (7_000, 8_000, 9_000), strict=True):
            quote(session, bidder, bidding_round, price)
        clock[0] = bidding_round.deadline
        closing.close_due_rounds(session)
        clock[0] += timedelta(minutes=30)
        awards.decline_award(session, bidders[0].actor, bidding_round.id, reason="无法供货")
        clock[0] += timedelta(minutes=30)
        order = awards.confirm_award(session, bidders[1].actor, bidding_round.id)
        clock[0] += timedelta(minutes=30)
        contracts.sign(session, bidders[1].actor, order.id)
        contracts.sign(session, unit.buyer, order.id)
        clock[0] += timedelta(minutes=30)
        notices.publish_due(session)
        session.flush()
    ocid = f"{PREFIX}-{bidding_round.number}"
    record = _get(client, f"records/{ocid}", "record-package")
    (entry,) = record["records"]
    assert [r["tag"] for r in entry["releases"]] == [
        ["tender"], ["tenderUpdate", "award"], ["awardUpdate"], ["awardUpdate"], ["contract"]]
    compiled = entry["compiledRelease"]
    assert compiled["tender"]["status"] == "complete"
    assert compiled["tender"]["numberOfTenderers"] == 3
    statuses = {a["id"]: a["status"] for a in compiled["awards"]}
    number = bidding_round.number
    assert statuses == {f"{number}-award-1": "cancelled", f"{number}-award-2": "active"}
    result = session.scalars(select(Notice).where(
        Notice.reference == number, Notice.kind == NoticeKind.ROUND_RESULT)).one()
    first = next(a for a in compiled["awards"] if a["id"].endswith("-1"))
    assert first["suppliers"][0]["name"] == result.body["winner"]
    assert first["value"]["amount"] * 100 == result.amount_fen
    (contract,) = compiled["contracts"]
    assert contract["awardID"] == f"{number}-award-2"
    assert contract["value"]["amount"] * 100 == order.total_fen
    scales = {p["name"]: p["details"]["scale"] for p in compiled["parties"]
              if "tenderer" in p["roles"]}
    assert sorted(scales.values()) == ["large", "sme", "sme"]
    assert "records" not in _get(client, f"packages/{clock[0].date().isoformat()}",
                                 "release-package")
    # the round's order is no contracting process of its own
    assert client.get(f"{API}/records/{PREFIX}-{order.number}").status_code == 404


@pytest.mark.parametrize("path", ["packages/2026-13-01", "packages/20260301", "packages/x",
                                  "packages/0001-01-01", "bulk/2026-13", "bulk/2026-3",
                                  "bulk/0000-01"])
def test_bad_days_and_months_are_refused_with_a_problem(client, path):
    answer = client.get(f"{API}/{path}")
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["code"] == "validation_failed"


@pytest.mark.parametrize("ocid", ["nope", f"{PREFIX}-DP00000000", "ocds-other-DP1", "a%00b"])
def test_unknown_ocids_are_not_found(client, ocid):
    answer = client.get(f"{API}/records/{ocid}")
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"


def test_a_day_or_month_without_releases_is_not_found(client):
    for path in ("packages/2001-01-01", "bulk/2001-01"):
        answer = client.get(f"{API}/{path}")
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
        assert answer.get_json()["code"] == "no_releases"
