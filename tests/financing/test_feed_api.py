"""The banks' feed API through HTTP with real bearer tokens: a supplier consents, the bank
pulls, reads the contract by number and the supplier's contracts by credit code; after the
revocation every read path answers as if the contract did not exist. Another bank's client
sees nothing, a token without the scope or a non-bank is refused, and each client has its
own rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from financing import consent, loans, products
from financing.feed import sequence_changes
from financing.models import AccessRecord
from mall.accounts.models import User
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import Actor
from mall.core.clock import local_today
from mall.extensions import limiter
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.models import Contract
from tests.factories.financing import confirmed_orders, make_bank

API = "/api/v1/finance"
PROBLEM = "application/problem+json"


def bearer(session, actor: Actor, scopes=("financing:read", "financing:write")) -> dict:
    user = session.get_one(User, actor.user_id)
    _token, secret = issue_token(session, actor_for(user), name="core banking",
                                 scopes=list(scopes))
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["code"] == code and body["status"] == status and body["title"]
    return body


@pytest.fixture(autouse=True)
def fresh_limits():
    """Token ids come back after a rolled-back test: start every test with no count."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def client(app, session):
    return app.test_client()


def _grant(session, deal, bank: Actor, *, scope="all", order_ids=()):
    granted = consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id,
                            scope=scope, order_ids=list(order_ids),
                            expires_on=local_today() + timedelta(days=90))
    sequence_changes(session)
    return granted


def _number(session, order_id: int) -> str:
    return session.scalar(select(Contract.number).where(Contract.order_id == order_id))


def _pull_all(client, headers, after: int = 0, limit: int = 1000) -> tuple[list[dict], int]:
    items: list[dict] = []
    while True:
        answer = client.get(f"{API}/contracts?after={after}&limit={limit}", headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        items += answer.json["items"]
        after = answer.json["next_after"]
        if not answer.json["has_more"]:
            return items, after


def test_consent_pull_read_and_revoke_through_the_api_only(client, session):
    deal = confirmed_orders(session, count=3)
    bank = make_bank(session)
    headers = bearer(session, bank)
    assert _pull_all(client, headers)[0] == []  # no consent yet: nothing
    granted = _grant(session, deal, bank)

    items, cursor = _pull_all(client, headers, limit=2)  # two pages
    seqs = [item["seq"] for item in items]
    assert seqs == sorted(set(seqs)) and cursor == seqs[-1]
    ids = {item["contract"]["order_id"] for item in items}
    assert ids == {o.id for o in deal.orders}
    first = next(i["contract"] for i in items if i["contract"]["order_id"] == deal.orders[0].id)
    supplier = session.get_one(User, deal.supplier.user_id).organisation
    assert first["supplier"]["credit_code"] == supplier.credit_code
    assert first["total_fen"] == 2 * 2990 and isinstance(first["total_fen"], int)
    assert first["items"][0]["amount_fen"] == 2 * 2990
    assert first["payee_account"]["locked"] is False
    assert {i["step"] for i in items} >= {"consented"}
    assert _pull_all(client, headers, after=cursor)[0] == []  # read up to the head

    number = _number(session, deal.orders[0].id)
    detail = client.get(f"{API}/contracts/{number}", headers=headers)
    assert detail.status_code == 200 and detail.json["contract_number"] == number
    assert all(change["at"].endswith("+00:00") for change in detail.json["payee_history"])
    lookup = client.get(f"{API}/suppliers/{supplier.credit_code}/contracts", headers=headers)
    assert lookup.status_code == 200
    assert {c["order_id"] for c in lookup.json["items"]} == ids
    consents = client.get(f"{API}/consents", headers=headers).json
    assert consents == [{"id": granted.id, "scope": "all", "contract_numbers": [],
                         "supplier": {"name": supplier.name,
                                      "credit_code": supplier.credit_code},
                         "granted_at": consents[0]["granted_at"],
                         "expires_at": consents[0]["expires_at"]}]
    assert consents[0]["expires_at"].endswith("+00:00")
    vias = [r.via for r in session.scalars(select(AccessRecord).where(
        AccessRecord.bank_org_id == bank.organisation_id))]
    assert sorted(set(vias)) == ["detail", "feed", "lookup"]  # every read logged

    consent.revoke(session, deal.supplier, granted.id)
    session.flush()  # the requests below read through their own sessions
    assert _pull_all(client, headers)[0] == []  # not even from the start
    assert_problem(client.get(f"{API}/contracts/{number}", headers=headers), 404, "not_found")
    assert_problem(client.get(f"{API}/suppliers/{supplier.credit_code}/contracts",
                              headers=headers), 404, "not_found")
    assert client.get(f"{API}/consents", headers=headers).json == []


def test_a_chosen_consent_shows_the_chosen_contracts_only(client, session):
    deal = confirmed_orders(session, count=2)
    bank = make_bank(session)
    headers = bearer(session, bank)
    chosen = deal.orders[1].id
    _grant(session, deal, bank, scope="chosen", order_ids=[chosen])
    items, _cursor = _pull_all(client, headers)
    assert {i["contract"]["order_id"] for i in items} == {chosen}
    other = _number(session, deal.orders[0].id)
    assert_problem(client.get(f"{API}/contracts/{other}", headers=headers), 404, "not_found")
    (listed,) = client.get(f"{API}/consents", headers=headers).json
    assert listed["scope"] == "chosen" and listed["contract_numbers"] == [_number(session,
                                                                                  chosen)]


def test_another_banks_client_sees_nothing(client, session):
    deal = confirmed_orders(session)
    bank, other_bank = make_bank(session), make_bank(session)
    _grant(session, deal, bank)
    headers = bearer(session, other_bank)
    supplier = session.get_one(User, deal.supplier.user_id).organisation
    number = _number(session, deal.orders[0].id)
    assert _pull_all(client, headers)[0] == []
    assert_problem(client.get(f"{API}/contracts/{number}", headers=headers), 404, "not_found")
    assert_problem(client.get(f"{API}/suppliers/{supplier.credit_code}/contracts",
                              headers=headers), 404, "not_found")
    assert client.get(f"{API}/consents", headers=headers).json == []
    assert session.scalar(select(AccessRecord.id).where(
        AccessRecord.bank_org_id == other_bank.organisation_id)) is None


def test_a_token_without_the_scope_and_a_supplier_are_refused(client, session):
    deal = confirmed_orders(session)
    bank = make_bank(session)
    _grant(session, deal, bank)
    no_scope = bearer(session, bank, scopes=("account:read",))
    for path in ("/contracts", "/consents", f"/contracts/{_number(session, deal.orders[0].id)}"):
        assert_problem(client.get(API + path, headers=no_scope), 403, "scope_required")
    supplier_user = session.get_one(User, deal.supplier.user_id)
    _token, secret = issue_token(session, actor_for(supplier_user), name="erp",
                                 scopes=["orders:read"])
    session.flush()
    assert_problem(client.get(f"{API}/contracts", headers={"Authorization": f"Bearer {secret}"}),
                   403, "role_required")
    assert_problem(client.get(f"{API}/contracts"), 401, "authentication_required")


def test_a_credit_code_with_a_wrong_check_character_is_refused(client, session):
    headers = bearer(session, make_bank(session))
    body = assert_problem(client.get(f"{API}/suppliers/91430100000000001X/contracts",
                                     headers=headers), 422, "validation_failed")
    assert "check character" in body["errors"]["credit_code"][0]
    body = assert_problem(client.get(f"{API}/suppliers/123/contracts", headers=headers),
                          422, "validation_failed")
    assert "credit_code" in body["errors"]


def test_a_bad_cursor_or_page_size_is_refused(client, session):
    headers = bearer(session, make_bank(session))
    for query in ("after=-1", "limit=0", "limit=1001", "after=x"):
        assert_problem(client.get(f"{API}/contracts?{query}", headers=headers), 422,
                       "validation_failed")


def test_each_api_client_has_its_own_rate_limit(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "FINANCE_RATE_LIMIT", "3 per minute")
    bank = make_bank(session)
    first, second = bearer(session, bank), bearer(session, bank)
    statuses = [client.get(f"{API}/consents", headers=first).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert_problem(client.get(f"{API}/contracts", headers=first), 429, "too_many_requests")
    assert client.get(f"{API}/consents", headers=second).status_code == 200  # its own budget


def test_the_openapi_document_describes_the_feed(client):
    document = client.get("/api/v1/openapi.json").get_json()
    feed = document["paths"]["/api/v1/finance/contracts"]["get"]
    assert feed["x-required-scope"] == "financing:read"
    assert feed["responses"]["429"]["content"][PROBLEM]
    lookup = document["paths"]["/api/v1/finance/suppliers/{credit_code}/contracts"]["get"]
    assert {"404", "422"} <= set(lookup["responses"])
    contract = document["components"]["schemas"]["Contract"]["properties"]
    assert "fen" in contract["total_fen"]["description"]
    assert contract["signed_at"]["format"] == "date-time"


# -- loans ------------------------------------------------------------------------------------

def _applied_loan(session):
    """A signed contract, a consent to a bank with a product, and the supplier's application."""
    deal = confirmed_orders(session)
    order = deal.orders[0]
    contracts.sign(session, deal.supplier, order.id)
    contracts.sign(session, deal.unit.buyer, order.id)
    bank = make_bank(session)
    _grant(session, deal, bank)
    product = products.create_product(session, bank, products.product_data({
        "name": "政采贷", "max_share_pct": "80", "rate_min": "3.65", "rate_max": "6.00",
        "term_days": "180", "regions": "000000"}))
    loan = loans.apply_for_loan(session, deal.supplier, order_id=order.id,
                                product_id=product.id, amount_fen=4000)
    session.flush()
    return deal, bank, loan


def test_a_bank_approves_disburses_repays_and_closes_a_loan_through_the_api(client, session):
    deal, bank, loan = _applied_loan(session)
    headers = bearer(session, bank)
    url = f"{API}/loans/{loan.id}"
    (listed,) = client.get(f"{API}/loans", headers=headers).json
    assert listed["status"] == "applied" and listed["requested_fen"] == 4000
    assert listed["contract_number"] == _number(session, deal.orders[0].id)

    refused = assert_problem(client.post(f"{url}/approve", headers=headers, json={
        "amount_fen": 5000, "rate_bp": 435, "term_days": 90}), 422, "validation_failed")
    assert "amount_fen" in refused["errors"]  # named as the API names it
    approved = client.post(f"{url}/approve", headers=headers,
                           json={"amount_fen": 4000, "rate_bp": 435, "term_days": 90})
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert_problem(client.post(f"{url}/approve", headers=headers, json={
        "amount_fen": 4000, "rate_bp": 435, "term_days": 90}), 409, "loan_state_conflict")

    paid_out = client.post(f"{url}/disburse", headers=headers, json={
        "amount_fen": 4000, "value_date": local_today().isoformat(),
        "bank_name": "湖南银行长沙分行", "account_name": "湖南银行政采贷回款专户",
        "account_number": "6222 0202 0011 2233", "bank_reference": "HN-2026-001"})
    assert paid_out.status_code == 200, paid_out.json
    assert paid_out.json["repayment_account_number"] == "6222020200112233"
    sequence_changes(session)
    contract = client.get(f"{API}/contracts/{_number(session, deal.orders[0].id)}",
                          headers=headers).json
    assert contract["payee_account"]["locked"] is True
    assert contract["payee_account"]["account_number"] == "6222020200112233"

    repayment = {"amount_fen": 4000, "on_day": local_today().isoformat()}
    once = {**headers, "Idempotency-Key": "repay-1"}
    first = client.post(f"{url}/repay", headers=once, json=repayment)
    again = client.post(f"{url}/repay", headers=once, json=repayment)
    assert first.status_code == again.status_code == 200
    assert again.json["repaid_fen"] == 4000 and again.json["status"] == "repaid"
    closed = client.post(f"{url}/close", headers=headers, json={})
    assert closed.json["status"] == "closed"
    assert [e["kind"] for e in closed.json["events"]] == [
        "applied", "approved", "disbursed", "repayment", "repaid", "closed"]


def test_another_bank_cannot_see_or_step_a_loan(client, session):
    _deal, _bank, loan = _applied_loan(session)
    headers = bearer(session, make_bank(session))
    assert client.get(f"{API}/loans", headers=headers).json == []
    assert_problem(client.get(f"{API}/loans/{loan.id}", headers=headers), 404, "not_found")
    assert_problem(client.post(f"{API}/loans/{loan.id}/reject", headers=headers,
                               json={"reason": "no"}), 404, "not_found")
    read_only = bearer(session, _bank, scopes=("financing:read",))
    assert_problem(client.post(f"{API}/loans/{loan.id}/reject", headers=read_only,
                               json={"reason": "no"}), 403, "scope_required")
