"""Complaints through the suppliers' API with real bearer tokens: filed once by the
challenger, refusals as problem documents with stable codes, another supplier 404, the wrong
scope or role refused, and the complainant's list with the decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bidding_rounds import challenges, closing
from bidding_rounds import complaints as service
from mall.accounts.models import User
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock
from tests.factories.accounts import make_member
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds
from tests.factories.suppliers import operator_actor

API = "/api/v1/supplier/rounds"
PROBLEM = "application/problem+json"
START = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)  # Monday 14 September 2026, 10:00 in Beijing


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def clock():
    with frozen_clock(START) as cell:
        yield cell


def bearer(session, user: User, scopes=("rounds:read", "rounds:write")) -> dict[str, str]:
    _token, secret = issue_token(session, actor_for(user), name="ERP", scopes=list(scopes))
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["code"] == code and body["status"] == status
    return body


def _challenged(session, clock, *, answer=True):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(3)]
    bidding_round = paper_round(session, unit, deadline=START + timedelta(hours=2))
    for bidder, price in zip(bidders, (7_000, 8_000, 9_000), strict=True):
        quote(session, bidder, bidding_round, price)
    clock[0] = bidding_round.deadline
    closing.close_due_rounds(session)
    session.refresh(bidding_round)
    challenge = challenges.file_challenge(session, bidders[1].actor, bidding_round.id,
                                          grounds="第一名资质不全")
    if answer:
        challenges.answer_challenge(session, operator_actor(session), challenge.id,
                                    decision="dismissed", answer="质疑不成立。")
    session.flush()
    return unit, bidders, bidding_round, challenge


def test_the_challenger_files_once_and_reads_the_decision(client, session, clock):
    unit, bidders, bidding_round, challenge = _challenged(session, clock)
    headers = bearer(session, bidders[1].user)
    url = f"{API}/challenges/{challenge.id}/complaint"
    blank = client.post(url, json={"grounds": ""}, headers=headers)
    assert "grounds" in assert_problem(blank, 422, "validation_failed")["errors"]
    long_request = client.post(url, json={"grounds": "x", "request": "长" * 2001},
                               headers=headers)
    assert "request" in assert_problem(long_request, 422, "validation_failed")["errors"]
    filed = client.post(url, json={"grounds": "答复未核查资质", "request": "重新评审"},
                        headers=headers)
    assert filed.status_code == 201, filed.get_data(as_text=True)
    body = filed.json
    assert body["status"] == "pending" and body["round_number"] == bidding_round.number
    assert body["challenge_id"] == challenge.id and body["suspended"] is False
    assert_problem(client.post(url, json={"grounds": "再次"}, headers=headers), 409,
                   "complaint_already_filed")
    supervisor = actor_for(make_member(session, OrganisationKind.SUPERVISOR,
                                       roles=[Role.SUPERVISOR]))
    service.decide(session, supervisor, body["id"], decision="dismissed", reason="不成立。")
    session.flush()
    listed = client.get(f"{API}/complaints", headers=headers)
    assert listed.status_code == 200
    (mine,) = listed.json
    assert mine["status"] == "dismissed" and mine["decision_reason"] == "不成立。"

    other = bearer(session, bidders[0].user)
    assert_problem(client.post(url, json={"grounds": "冒名"}, headers=other), 404, "not_found")
    assert client.get(f"{API}/complaints", headers=other).json == []
    read_only = bearer(session, bidders[1].user, scopes=("rounds:read",))
    assert_problem(client.post(url, json={"grounds": "只读"}, headers=read_only), 403,
                   "scope_required")
    buyer = bearer(session, session.get(User, unit.approver.user_id))
    assert_problem(client.get(f"{API}/complaints", headers=buyer), 403, "role_required")


def test_a_complaint_waits_for_the_answer_period_and_ends_with_its_own(client, session, clock):
    _unit, bidders, _round, challenge = _challenged(session, clock, answer=False)
    headers = bearer(session, bidders[1].user)
    url = f"{API}/challenges/{challenge.id}/complaint"
    assert_problem(client.post(url, json={"grounds": "未答复"}, headers=headers), 409,
                   "challenge_not_answered")
    clock[0] = service.working_day_deadline(challenge.answer_by, service.FILING_DAYS) \
        + timedelta(seconds=1)
    assert_problem(client.post(url, json={"grounds": "太晚"}, headers=headers), 409,
                   "complaint_period_over")
