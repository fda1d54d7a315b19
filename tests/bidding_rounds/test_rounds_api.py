"""The bidding rounds API through HTTP with real bearer tokens: a round from creation through
sealed quotes to the ranked result and the award's order, the seal held on every read path
before closing, each refusal with its stable code, and the wrong scope, role or unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bidding_rounds import closing
from bidding_rounds.models import BiddingRound, Quote, QuoteSubmission
from catalog.models import Offer
from mall.accounts.models import User
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock, now
from mall.purchasing.budget.models import BudgetLine
from mall.purchasing.orders.models import Order
from suppliers.frameworks import set_price_cap
from suppliers.listings import save_offers
from suppliers.models import SizeClass
from tests.conftest import login
from tests.factories.accounts import make_member
from tests.factories.rounds import Bidder, framework, make_bidder, unit_for_rounds
from tests.factories.suppliers import PAPER, offer_input, operator_actor

API = "/api/v1"
PROBLEM = "application/problem+json"
ROUND_SCOPES = ("rounds:read", "rounds:write")


def bearer(session, user: User, scopes=ROUND_SCOPES) -> dict[str, str]:
    _token, secret = issue_token(session, actor_for(user), name="ERP", scopes=list(scopes))
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["code"] == code and body["status"] == status and body["title"]
    return body


@pytest.fixture
def client(app, session):
    return app.test_client()


@dataclass
class Field:
    """A unit with a buyer's token and three admitted suppliers with theirs."""

    unit: Any
    buyer: dict[str, str]
    bidders: list[Bidder]
    tokens: list[dict[str, str]]


@pytest.fixture
def field(session) -> Field:
    bidders = [make_bidder(session) for _ in range(3)]
    unit = unit_for_rounds(session)
    return Field(unit=unit, buyer=bearer(session, session.get(User, unit.approver.user_id)),
                 bidders=bidders, tokens=[bearer(session, b.user) for b in bidders])


def round_body(field: Field, **overrides) -> dict:
    return {"mode": "quick", "title": "复印纸竞价",
            "items": [{"category_code": PAPER, "name": "A4复印纸 70g", "spec": "500张/包",
                       "quantity": 100, "unit": "包"}],
            "budget_line_id": field.unit.line_id, "ceiling_fen": 1_000_000,
            "delivery_address": "长沙市岳麓区政务服务中心", "contact": "王敏 13800001111",
            **overrides}


def create(client, field: Field, **overrides) -> dict:
    response = client.post(f"{API}/rounds", json=round_body(field, **overrides),
                           headers=field.buyer)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def put_quote(client, headers, answer: dict, unit_price_fen: int, *, ua: str = "pytest",
              environ_base: dict | None = None, **extra):
    """The supplier's quote of one unit price for every item of the round ``answer``."""
    lines = [{"item_id": item["id"], "unit_price_fen": unit_price_fen}
             for item in answer["items"]]
    return client.put(f"{API}/supplier/rounds/{answer['id']}/quote",
                      json={"lines": lines, **extra}, headers={**headers, "User-Agent": ua},
                      environ_base=environ_base or {})


def reserved(session, unit) -> int:
    line = session.get_one(BudgetLine, unit.line_id)
    session.refresh(line)
    return line.reserved_fen


def leaks(value: Any, *, numbers: set[int], names: set[str]) -> list[Any]:
    """Every number or text in a JSON document that tells a price or a quoting supplier."""
    if isinstance(value, dict):
        return [hit for key, inner in value.items()
                for hit in ([key] if key in {"quotes", "awards", "supplier", "unit_price_fen"}
                            and inner is not None else [])
                + leaks(inner, numbers=numbers, names=names)]
    if isinstance(value, list):
        return [hit for inner in value for hit in leaks(inner, numbers=numbers, names=names)]
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value] if value in numbers else []
    if isinstance(value, str):
        return [name for name in names if name in value]
    return []


def names_of(session, bidders) -> set[str]:
    from mall.accounts.models import Organisation

    return {session.get_one(Organisation, b.id).name for b in bidders}


def close_now(session, clock, round_id: int) -> None:
    """Move the frozen clock to the round's deadline and run the closing sweep."""
    clock[0] = session.get_one(BiddingRound, round_id).deadline
    assert closing.close_due_rounds(session) == 1
    session.flush()
    session.expire_all()


# -- the whole flow ---------------------------------------------------------------------------

def test_a_round_is_sealed_until_it_closes_then_ranked_and_confirmed_into_an_order(
        app, client, session, field):
    operator = bearer(session, make_member(session, OrganisationKind.OPERATOR),
                      scopes=("rounds:read",))
    supervisor = make_member(session, OrganisationKind.SUPERVISOR)
    session.flush()
    watcher = app.test_client()  # supervisors hold no tokens: a browser session
    assert login(watcher, supervisor.login).status_code == 302
    first, second, third = field.tokens
    with frozen_clock(now()) as clock:
        created = create(client, field)
        assert created["status"] == "open" and created["quote_count"] == 0
        assert created["number"].startswith("JJ") and created["mode"] == "quick"
        assert created["deadline"].endswith("+00:00")  # ISO 8601 with its offset
        assert "quotes" not in created and "awards" not in created
        (item,) = created["items"]
        assert item["category_name"] and item["category_code"] == PAPER
        assert (item["quantity"], item["unit"]) == (100, "包")
        assert reserved(session, field.unit) == 1_000_000
        round_id = created["id"]

        listed = client.get(f"{API}/supplier/rounds", headers=first).json
        assert [(o["id"], o["own_quote"]) for o in listed] == [(round_id, None)]
        assert "quote_count" not in listed[0] and "refusals" not in listed[0]

        assert put_quote(client, first, created, 9_137).status_code == 200
        assert put_quote(client, second, created, 9_251).status_code == 200
        assert put_quote(client, third, created, 9_389).status_code == 200
        revised = put_quote(client, second, created, 8_963, sme_goods=False,
                            device_fingerprint="fp-erp-7",
                            environ_base={"REMOTE_ADDR": "203.0.113.7"},
                            ua="ERP-Client/2.1")
        assert revised.status_code == 200, revised.get_data(as_text=True)
        own = revised.json  # the supplier's own quote as it stands
        assert (own["round_id"], own["total_fen"], own["revisions"], own["rank"]) == (
            round_id, 896_300, 2, None)
        assert own["lines"] == [{"item_id": item["id"], "unit_price_fen": 8_963}]
        latest = session.scalars(select(QuoteSubmission).order_by(QuoteSubmission.id.desc())
                                 ).first()
        assert (latest.client_ip, latest.user_agent, latest.device_fingerprint) == (
            "203.0.113.7", "ERP-Client/2.1", "fp-erp-7")

        # The seal: the buyer, an operator and a supervisor see the count and nothing else.
        secret_numbers = {9_137, 9_251, 9_389, 8_963, 913_700, 925_100, 938_900, 896_300}
        names = names_of(session, field.bidders)
        for reader, headers in ((client, field.buyer), (client, operator), (watcher, {})):
            one = reader.get(f"{API}/rounds/{round_id}", headers=headers)
            assert one.status_code == 200, one.get_data(as_text=True)
            assert one.json["quote_count"] == 3 and one.json.get("quotes") is None
            page = reader.get(f"{API}/rounds", headers=headers).json
            assert round_id in [r["id"] for r in page["items"]]
            assert leaks([one.json, page], numbers=secret_numbers, names=names) == []
        # A supplier reads its own quote only.
        mine = client.get(f"{API}/supplier/rounds/{round_id}", headers=first).json
        assert mine["own_quote"]["total_fen"] == 913_700 and "quote_count" not in mine
        assert leaks({**mine, "own_quote": None}, numbers=secret_numbers - {9_137, 913_700},
                     names=names) == []

        close_now(session, clock, round_id)
        ranked = client.get(f"{API}/rounds/{round_id}", headers=field.buyer).json
        assert ranked["status"] == "awarded" and ranked["closed_at"]
        assert [(q["rank"], q["supplier"]["id"], q["total_fen"], q["evaluated_fen"])
                for q in ranked["quotes"]] == [
            (1, field.bidders[1].id, 896_300, 896_300), (2, field.bidders[0].id, 913_700, 913_700),
            (3, field.bidders[2].id, 938_900, 938_900)]
        assert all(q["supplier"]["name"] in names and q["status"] == "valid"
                   for q in ranked["quotes"])
        assert ranked["quotes"][0]["lines"] == [{"item_id": item["id"], "unit_price_fen": 8_963}]
        assert [(a["rank"], a["supplier"]["id"], a["outcome"]) for a in ranked["awards"]] == [
            (1, field.bidders[1].id, "pending")]
        overseen = client.get(f"{API}/rounds/{round_id}", headers=operator).json
        assert overseen["quotes"] == ranked["quotes"]
        offered = client.get(f"{API}/supplier/rounds/{round_id}", headers=second).json
        assert offered["own_quote"]["rank"] == 1 and offered["pending_award"]["confirm_by"]

        confirmed = client.post(f"{API}/supplier/rounds/{round_id}/award/confirm", headers=second)
    assert confirmed.status_code == 201, confirmed.get_data(as_text=True)
    order = session.get_one(Order, confirmed.json["order_id"])
    assert order.number == confirmed.json["order_number"]
    assert (order.supplier_id, order.total_fen) == (field.bidders[1].id, 896_300)
    after = client.get(f"{API}/rounds/{round_id}", headers=field.buyer).json
    assert (after["status"], after["order_id"]) == ("confirmed", order.id)
    assert after["awards"][0]["outcome"] == "confirmed"


def test_a_retried_creation_with_its_idempotency_key_publishes_one_round(client, session, field):
    headers = {**field.buyer, "Idempotency-Key": "round-2026-0001"}
    body = round_body(field, ceiling_fen=400_000)
    first = client.post(f"{API}/rounds", json=body, headers=headers)
    again = client.post(f"{API}/rounds", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert reserved(session, field.unit) == 400_000


# -- refusals ---------------------------------------------------------------------------------

def quote_rows(session, round_id: int) -> tuple[int, int, int]:
    """The round's quote count, its quotes and their submissions as stored."""
    session.expire_all()
    count = session.get_one(BiddingRound, round_id).quote_count
    quotes = session.scalar(select(func.count()).select_from(Quote)
                            .where(Quote.round_id == round_id))
    submissions = session.scalar(select(func.count()).select_from(QuoteSubmission)
                                 .join(Quote, Quote.id == QuoteSubmission.quote_id)
                                 .where(Quote.round_id == round_id))
    return count, quotes, submissions


def test_refused_quotes_say_why_and_leave_nothing_written(client, session, field):
    created = create(client, field)  # ceiling 1,000,000 for 100 packs: 10,000 a pack at most
    first, second, _third = field.tokens
    assert put_quote(client, first, created, 9_000).status_code == 200

    elsewhere = make_bidder(session, regions=("110000",))
    refused = put_quote(client, bearer(session, elsewhere.user), created, 9_000)
    problem = assert_problem(refused, 403, "not_eligible")
    assert "430100" in problem["errors"]["round"][0]
    seen = client.get(f"{API}/supplier/rounds/{created['id']}", headers=bearer(session, elsewhere.user))
    assert seen.status_code == 200 and "430100" in seen.json["refusals"][0]
    assert seen.json["own_quote"] is None and seen.json["pending_award"] is None

    related = make_bidder(session, legal_representative=field.bidders[0].legal_representative)
    assert_problem(put_quote(client, bearer(session, related.user), created, 8_000), 409,
                   "related_supplier_quoted")

    problem = assert_problem(put_quote(client, second, created, 10_001), 422, "above_ceiling")
    assert "lines" in problem["errors"]

    wrong_item = client.put(f"{API}/supplier/rounds/{created['id']}/quote", headers=second,
                            json={"lines": [{"item_id": created["items"][0]["id"] + 999,
                                             "unit_price_fen": 9_000}]})
    assert "lines.0.item_id" in assert_problem(wrong_item, 422, "validation_failed")["errors"]
    empty = client.put(f"{API}/supplier/rounds/{created['id']}/quote", headers=second,
                       json={"lines": []})
    assert "lines" in assert_problem(empty, 422, "validation_failed")["errors"]
    assert quote_rows(session, created["id"]) == (1, 1, 1)


def _listed_product(session, bidder: Bidder, price_fen: int) -> int:
    """List a paper product for ``bidder`` at ``price_fen``; the product's id."""
    report = save_offers(session, bidder.actor, supplier_id=bidder.id,
                         items=[offer_input(code=PAPER, price_fen=price_fen,
                                            reference=price_fen + 300)])
    (result,) = report.results
    assert result.offer_id, report
    return session.get_one(Offer, result.offer_id).product_id


def test_a_supplier_may_not_quote_above_its_own_mall_price(client, session, field):
    product_id = _listed_product(session, field.bidders[0], 4_000)
    item = {"category_code": PAPER, "name": "得力复印纸", "quantity": 10, "unit": "包",
            "product_id": product_id}
    created = create(client, field, items=[item], ceiling_fen=100_000)
    item_id = created["items"][0]["id"]
    first = field.tokens[0]
    seen = client.get(f"{API}/supplier/rounds/{created['id']}", headers=first).json
    assert seen["caps"] == {str(item_id): 4_000}  # what the quote form prefills
    problem = assert_problem(put_quote(client, first, created, 4_001), 422, "above_mall_price")
    assert "lines.0.unit_price_fen" in problem["errors"]
    assert put_quote(client, first, created, 4_000).status_code == 200
    assert put_quote(client, field.tokens[1], created, 4_500).status_code == 200  # lists none


def test_admitted_supplier_bidding_keeps_to_the_framework_ceiling_and_its_members(
        client, session, field):
    agreement_id = framework(session, field.bidders)
    outsider = make_bidder(session, size=SizeClass.SMALL)
    product_id = _listed_product(session, outsider, 2_500)
    set_price_cap(session, operator_actor(session), agreement_id=agreement_id,
                  product_id=product_id, cap_fen=3_000)
    item = {"category_code": PAPER, "name": "框架协议复印纸", "quantity": 20, "unit": "包",
            "product_id": product_id}
    created = create(client, field, mode="framework", items=[item], ceiling_fen=100_000)
    assert created["mode"] == "framework" and created["number"].startswith("RW")
    assert_problem(put_quote(client, field.tokens[0], created, 3_001), 422,
                   "above_framework_price")
    assert put_quote(client, field.tokens[0], created, 3_000).status_code == 200
    refused = put_quote(client, bearer(session, outsider.user), created, 2_400)
    assert_problem(refused, 403, "not_eligible")
    assert quote_rows(session, created["id"]) == (1, 1, 1)


def test_a_quote_after_the_deadline_or_in_a_cancelled_round_is_refused(client, session, field):
    with frozen_clock(now()) as clock:
        created = create(client, field)
        clock[0] = session.get_one(BiddingRound, created["id"]).deadline
        assert_problem(put_quote(client, field.tokens[0], created, 9_000), 409, "round_closed")
    withdrawn = create(client, field, ceiling_fen=500_000)
    cancelled = client.post(f"{API}/rounds/{withdrawn['id']}/cancel", json={"reason": "需求变更"},
                            headers=field.buyer)
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    assert (cancelled.json["status"], cancelled.json["cancel_reason"]) == ("cancelled", "需求变更")
    assert reserved(session, field.unit) == 1_000_000  # only the first round's ceiling
    assert_problem(put_quote(client, field.tokens[0], withdrawn, 4_000), 409, "round_closed")
    again = client.post(f"{API}/rounds/{withdrawn['id']}/cancel", json={"reason": "再次"},
                        headers=field.buyer)
    assert_problem(again, 409, "round_not_open")
    assert quote_rows(session, created["id"])[1:] == (0, 0)


def test_the_award_passes_on_through_the_api_and_a_late_confirmation_is_refused(
        client, session, field):
    first, second, third = field.tokens
    with frozen_clock(now()) as clock:
        created = create(client, field)
        round_id = created["id"]
        for headers, price in zip(field.tokens, (7_000, 8_000, 9_000), strict=True):
            assert put_quote(client, headers, created, price).status_code == 200
        close_now(session, clock, round_id)

        assert_problem(client.post(f"{API}/supplier/rounds/{round_id}/award/confirm",
                                   headers=second), 409, "no_pending_award")
        passed = client.post(f"{API}/rounds/{round_id}/unresponsive",
                             json={"reason": "电话无人接听"}, headers=field.buyer)
        assert passed.status_code == 200, passed.get_data(as_text=True)
        assert [(a["supplier"]["id"], a["outcome"]) for a in passed.json["awards"]] == [
            (field.bidders[0].id, "unresponsive"), (field.bidders[1].id, "pending")]
        assert passed.json["awards"][0]["reason"] == "电话无人接听"

        declined = client.post(f"{API}/supplier/rounds/{round_id}/award/decline",
                               json={"reason": "无法供货"}, headers=second)
        assert declined.status_code == 200, declined.get_data(as_text=True)
        assert declined.json["pending_award"] is None
        assert client.get(f"{API}/supplier/rounds/{round_id}",
                          headers=third).json["pending_award"]

        clock[0] += timedelta(hours=72, seconds=1)
        assert_problem(client.post(f"{API}/supplier/rounds/{round_id}/award/confirm",
                                   headers=third), 409, "award_lapsed")
        assert_problem(client.post(f"{API}/supplier/rounds/{round_id}/award/decline",
                                   json={"reason": "x"}, headers=first), 409, "no_pending_award")
    session.expire_all()
    assert session.get_one(BiddingRound, round_id).order_id is None
    assert session.scalar(select(func.count()).select_from(Order)
                          .where(Order.buyer_org_id == field.unit.organisation.id)) == 0


@pytest.mark.parametrize(("changes", "field_name"), [
    ({"items": []}, "items"),
    ({"mode": "auction"}, "mode"),
    ({"ceiling_fen": 0}, "ceiling_fen"),
    ({"deadline": "2030-01-01T10:00:00"}, "deadline"),  # no offset
    ({"sme_deduction_pct": 25}, "sme_deduction_pct"),
    ({"items": [{"category_code": "A99999999", "name": "?", "quantity": 1, "unit": "个"}]},
     "items.0.category_code"),
    ({"invited_supplier_ids": [1, 2, 3]}, "invited_supplier_ids"),
])
def test_a_bad_round_is_refused_naming_the_field_and_reserves_nothing(
        client, session, field, changes, field_name):
    response = client.post(f"{API}/rounds", json=round_body(field, **changes), headers=field.buyer)
    problem = assert_problem(response, 422, "validation_failed")
    assert any(key == field_name or key.startswith(field_name + ".")
               for key in problem["errors"]), problem
    assert reserved(session, field.unit) == 0


def test_a_deadline_sooner_than_the_minimum_window_is_refused(client, session, field):
    soon = (now() + timedelta(minutes=30)).isoformat()
    response = client.post(f"{API}/rounds", json=round_body(field, deadline=soon),
                           headers=field.buyer)
    assert "deadline" in assert_problem(response, 422, "validation_failed")["errors"]
    assert reserved(session, field.unit) == 0
    assert session.scalar(select(func.count()).select_from(BiddingRound)) == 0


# -- who may call what ------------------------------------------------------------------------

def test_wrong_scope_role_or_unit_is_refused(client, session, field):
    created = create(client, field)
    round_id = created["id"]
    reader = bearer(session, session.get(User, field.unit.approver.user_id),
                    scopes=("rounds:read",))
    assert_problem(client.post(f"{API}/rounds", json=round_body(field), headers=reader), 403,
                   "scope_required")
    assert_problem(client.post(f"{API}/rounds/{round_id}/cancel", json={"reason": "x"},
                               headers=reader), 403, "scope_required")
    assert client.get(f"{API}/rounds/{round_id}", headers=reader).status_code == 200
    supplier = field.tokens[0]
    assert_problem(client.get(f"{API}/rounds/{round_id}", headers=supplier), 403,
                   "role_required")
    assert_problem(client.get(f"{API}/supplier/rounds", headers=field.buyer), 403,
                   "role_required")
    assert_problem(put_quote(client, field.buyer, created, 9_000), 403, "role_required")
    supplier_reader = bearer(session, field.bidders[0].user, scopes=("rounds:read",))
    assert_problem(put_quote(client, supplier_reader, created, 9_000), 403, "scope_required")
    operator = bearer(session, make_member(session, OrganisationKind.OPERATOR),
                      scopes=("rounds:read",))
    assert_problem(client.post(f"{API}/rounds/{round_id}/cancel", json={"reason": "x"},
                               headers=operator), 403, "role_required")

    other = unit_for_rounds(session)
    stranger = bearer(session, session.get(User, other.approver.user_id))
    assert_problem(client.get(f"{API}/rounds/{round_id}", headers=stranger), 404, "not_found")
    assert_problem(client.post(f"{API}/rounds/{round_id}/cancel", json={"reason": "x"},
                               headers=stranger), 404, "not_found")
    assert_problem(client.post(f"{API}/rounds/{round_id}/unresponsive", json={"reason": "x"},
                               headers=stranger), 404, "not_found")
    assert client.get(f"{API}/rounds", headers=stranger).json == {"items": [], "total": 0}
    assert_problem(client.get(f"{API}/supplier/rounds/99999999", headers=supplier), 404,
                   "not_found")
    session.expire_all()
    assert session.get_one(BiddingRound, round_id).status.value == "open"
    assert reserved(session, field.unit) == 1_000_000


def test_the_unit_lists_its_rounds_by_status_a_page_at_a_time(client, session, field):
    ids = [create(client, field, ceiling_fen=100_000 + n)["id"] for n in range(3)]
    client.post(f"{API}/rounds/{ids[0]}/cancel", json={"reason": "需求变更"}, headers=field.buyer)
    page = client.get(f"{API}/rounds?page_size=2", headers=field.buyer).json
    assert page["total"] == 3 and [r["id"] for r in page["items"]] == [ids[2], ids[1]]
    assert "quotes" not in page["items"][0]
    cancelled = client.get(f"{API}/rounds?status=cancelled", headers=field.buyer).json
    assert [r["id"] for r in cancelled["items"]] == [ids[0]]
    bad = client.get(f"{API}/rounds?status=sealed", headers=field.buyer)
    assert "status" in assert_problem(bad, 422, "validation_failed")["errors"]
