"""The complaint pages: the supplier files from its challenge and sees its complaint; bad input
is refused next to the field with what was typed kept; another supplier and another unit get
404; the supervisor's worklist and decision page; the round's complaints for its unit; the
published decision readable without logging in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import bidding_rounds.challenge_views  # noqa: F401  (the pages, before the app is built)
import bidding_rounds.complaint_views  # noqa: F401
from bidding_rounds import challenges, closing
from bidding_rounds.models import Complaint, ComplaintStatus, Quote
from mall.accounts.models import User
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock
from tests.conftest import csrf_from, login
from tests.factories.accounts import make_member
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds
from tests.factories.suppliers import operator_actor

START = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)  # Monday 14 September 2026, 10:00 in Beijing


@pytest.fixture
def clock():
    with frozen_clock(START) as cell:
        yield cell


def _answered(session, clock):
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
    clock[0] = START + timedelta(days=2)
    challenges.answer_challenge(session, operator_actor(session), challenge.id,
                                decision="dismissed", answer="资质齐全，质疑不成立。")
    session.flush()  # the pages read through their own sessions
    return unit, bidders, bidding_round, challenge


def _logout(client):
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(
        as_text=True))})


def test_the_supplier_files_from_its_challenge_and_bad_input_keeps_what_was_typed(
        client, session, clock):
    _unit, bidders, bidding_round, challenge = _answered(session, clock)
    challenger = session.get_one(User, bidders[1].user.id)
    assert login(client, challenger.login).status_code == 302
    challenge_page = client.get(f"/rounds/{bidding_round.id}/challenge").get_data(as_text=True)
    url = f"/rounds/challenges/{challenge.id}/complaint"
    assert url in challenge_page  # the button on its challenge
    assert url in client.get("/rounds/challenges/mine").get_data(as_text=True)
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    refused = client.post(url, data={"csrf_token": token, "grounds": " ",
                                     "request": "请求重新评审"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="grounds-error"' in html and "请求重新评审" in html
    filed = client.post(url, data={"csrf_token": token, "grounds": "答复未核查资质证书",
                                   "request": "请求重新评审"})
    assert filed.status_code == 302
    mine = client.get("/rounds/complaints/mine").get_data(as_text=True)
    assert bidding_round.number in mine
    again = client.get(url).get_data(as_text=True)
    assert "答复未核查资质证书" in again and 'name="grounds"' not in again
    _logout(client)

    other = session.get_one(User, bidders[0].user.id)
    assert login(client, other.login).status_code == 302
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": token, "grounds": "冒名"}).status_code in (
        400, 404)
    assert session.scalar(select(Complaint.id).where(
        Complaint.supplier_id == other.organisation_id)) is None


def test_the_supervisor_suspends_and_decides_and_the_decision_is_public(client, session, clock):
    unit, bidders, bidding_round, challenge = _answered(session, clock)
    from bidding_rounds import complaints

    complaint = complaints.file_complaint(session, bidders[1].actor, challenge.id,
                                          grounds="答复不当", request="撤销成交结果")
    session.flush()
    supervisor = make_member(session, OrganisationKind.SUPERVISOR, roles=[Role.SUPERVISOR])
    assert login(client, supervisor.login).status_code == 302
    worklist = client.get("/rounds/complaints")
    text = worklist.get_data(as_text=True)
    assert worklist.status_code == 200 and bidding_round.number in text
    assert f'id="complaint-{complaint.id}"' in text
    page_url = f"/rounds/complaints/{complaint.id}"
    page = client.get(page_url).get_data(as_text=True)
    assert "答复不当" in page and "撤销成交结果" in page
    token = csrf_from(page)
    assert client.post(f"{page_url}/suspend", data={"csrf_token": token}).status_code == 302
    session.expire_all()
    assert session.get_one(Complaint, complaint.id).suspended is True
    refused = client.post(f"{page_url}/decide", data={
        "csrf_token": token, "decision": "upheld", "remedy": "strike", "reason": "投诉成立"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="strike_quote_id-error"' in html and "投诉成立" in html
    winner = session.scalars(select(Quote).where(Quote.round_id == bidding_round.id,
                                                 Quote.rank == 1)).one()
    decided = client.post(f"{page_url}/decide", data={
        "csrf_token": token, "decision": "upheld", "remedy": "strike",
        "strike_quote_id": str(winner.id), "reason": "第一名资质证书过期，投诉成立。"})
    assert decided.status_code == 302
    session.expire_all()
    assert session.get_one(Complaint, complaint.id).status is ComplaintStatus.UPHELD
    _logout(client)

    buyer = session.get_one(User, unit.buyer.user_id)
    assert login(client, buyer.login).status_code == 302
    section = client.get(f"/rounds/{bidding_round.id}/complaints")
    assert section.status_code == 200
    assert "第一名资质证书过期，投诉成立。" in section.get_data(as_text=True)
    _logout(client)
    stranger = unit_for_rounds(session)
    assert login(client, session.get_one(User, stranger.buyer.user_id).login).status_code == 302
    assert client.get(f"/rounds/{bidding_round.id}/complaints").status_code == 404
    assert client.get(page_url).status_code == 403
    _logout(client)

    public = client.get("/rounds/complaints/decisions")
    assert public.status_code == 200 and bidding_round.number in public.get_data(as_text=True)
    notice = client.get(f"/rounds/complaints/decisions/{complaint.id}").get_data(as_text=True)
    complainant = session.get_one(User, bidders[1].user.id).organisation.name
    assert complainant in notice and "第一名资质证书过期，投诉成立。" in notice


def test_a_pending_complaint_is_not_public_and_others_cannot_decide(client, session, clock):
    _unit, bidders, _round, challenge = _answered(session, clock)
    from bidding_rounds import complaints

    complaint = complaints.file_complaint(session, bidders[1].actor, challenge.id,
                                          grounds="答复不当")
    session.flush()
    assert client.get(f"/rounds/complaints/decisions/{complaint.id}").status_code == 404
    operator = make_member(session, OrganisationKind.OPERATOR, roles=[Role.OPERATOR])
    assert login(client, operator.login).status_code == 302
    page = client.get(f"/rounds/complaints/{complaint.id}")
    assert page.status_code == 200 and 'id="decide-form"' not in page.get_data(as_text=True)
    refused = client.post(f"/rounds/complaints/{complaint.id}/decide", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "decision": "dismissed",
        "reason": "运营方无权决定"})
    assert refused.status_code == 403
    session.expire_all()
    assert session.get_one(Complaint, complaint.id).status is ComplaintStatus.PENDING
