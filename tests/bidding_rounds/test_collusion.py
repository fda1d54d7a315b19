"""Collusion signals recorded at closing: each kind found with its evidence, none among clean
quotes, the rotation of winners across a unit's rounds, and the oversight page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

import bidding_rounds.challenge_views  # noqa: F401  (the pages, before the app is built)
from bidding_rounds import closing, collusion
from bidding_rounds.models import CollusionSignal
from mall.accounts.models import Organisation
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock, now
from suppliers.models import SupplierProfile
from tests.conftest import login
from tests.factories.accounts import make_member
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds


def _signals(session, round_id=None, kind=None) -> list[CollusionSignal]:
    query = select(CollusionSignal).order_by(CollusionSignal.id)
    if round_id is not None:
        query = query.where(CollusionSignal.round_id == round_id)
    if kind is not None:
        query = query.where(CollusionSignal.kind == kind)
    return list(session.scalars(query))


def _close(session, clock, bidding_round) -> None:
    clock[0] = max(clock[0], bidding_round.deadline)
    closing.close_due_rounds(session)


def test_clean_quotes_raise_no_signal(session):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(4)]
    with frozen_clock(now()) as clock:
        bidding_round = paper_round(session, unit)
        for n, (bidder, price) in enumerate(zip(bidders, (5_000, 5_100, 5_300, 5_700),
                                                strict=True)):
            quote(session, bidder, bidding_round, price, ip=f"10.0.1.{n}")
        _close(session, clock, bidding_round)
    assert _signals(session, bidding_round.id) == []


def test_shared_origins_contacts_and_people_are_each_a_signal_with_evidence(session):
    unit = unit_for_rounds(session)
    a, b, c = (make_bidder(session) for _ in range(3))
    with frozen_clock(now()) as clock:
        bidding_round = paper_round(session, unit)
        quote(session, a, bidding_round, 5_000, ip="192.0.2.7", fingerprint="fp-same")
        quote(session, b, bidding_round, 5_100, ip="192.0.2.7", fingerprint="fp-same")
        quote(session, c, bidding_round, 5_350, ip="198.51.100.1")
        # Profiles changed after quoting (the related-party rule checked them at the time).
        session.execute(update(SupplierProfile).where(
            SupplierProfile.organisation_id.in_([b.id, c.id])).values(
            contact_phone="13900000000", contact_email="Same@Example.cn",
            legal_representative="李 四", controlling_shareholder="某某控股"))
        session.execute(update(SupplierProfile).where(SupplierProfile.organisation_id == a.id)
                        .values(legal_representative="李四"))
        session.expire_all()
        _close(session, clock, bidding_round)
    found = {(s.kind, tuple(s.supplier_ids)): s.evidence
             for s in _signals(session, bidding_round.id)}
    ab, bc = tuple(sorted((a.id, b.id))), tuple(sorted((b.id, c.id)))
    assert found[("shared_ip", ab)] == {"value": "192.0.2.7"}
    assert found[("shared_device", ab)] == {"value": "fp-same"}
    assert found[("shared_phone", bc)] == {"value": "13900000000"}
    assert found[("shared_email", bc)]["value"].casefold() == "same@example.cn"
    assert ("shared_legal_representative", tuple(sorted((a.id, b.id, c.id)))) in found
    assert found[("shared_shareholder", bc)] == {"value": "某某控股"}
    assert {kind for kind, _ids in found} == {
        "shared_ip", "shared_device", "shared_phone", "shared_email",
        "shared_legal_representative", "shared_shareholder"}


def test_identical_totals_and_totals_at_a_fixed_step(session):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(5)]
    with frozen_clock(now()) as clock:
        bidding_round = paper_round(session, unit, quantity=100)
        for n, (bidder, price) in enumerate(zip(bidders, (5_000, 5_000, 5_200, 5_400, 5_900),
                                                strict=True)):
            quote(session, bidder, bidding_round, price, ip=f"10.0.2.{n}")
        _close(session, clock, bidding_round)
    (same,) = _signals(session, bidding_round.id, "same_totals")
    assert same.supplier_ids == sorted([bidders[0].id, bidders[1].id])
    assert same.evidence == {"total_fen": 500_000}
    (step,) = _signals(session, bidding_round.id, "fixed_step")
    assert step.evidence == {"step_fen": 20_000, "totals_fen": [500_000, 520_000, 540_000]}
    assert len(step.supplier_ids) == 3 and step.supplier_ids[1:] == [bidders[2].id,
                                                                    bidders[3].id]


def test_fixed_step_needs_three_totals_in_arithmetic_progression():
    assert collusion.fixed_step([(1, 100), (2, 250)]) is None
    assert collusion.fixed_step([(1, 100), (2, 250), (3, 330)]) is None
    assert collusion.fixed_step([(1, 100), (2, 200), (3, 300), (4, 400), (5, 450)]) == (
        100, [(1, 100), (2, 200), (3, 300), (4, 400)])


def test_winners_rotating_among_the_same_group_across_a_units_rounds(session):
    unit = unit_for_rounds(session)
    group = [make_bidder(session) for _ in range(3)]
    start = now()
    with frozen_clock(start) as clock:
        numbers = []
        for turn in range(3):
            bidding_round = paper_round(session, unit, deadline=clock[0] + timedelta(hours=2))
            for n, bidder in enumerate(group):
                price = 5_000 if n == turn else 5_300 + 170 * n
                quote(session, bidder, bidding_round, price, ip=f"10.0.3.{n}")
            _close(session, clock, bidding_round)
            numbers.append(bidding_round.number)
            if turn < 2:
                assert _signals(session, kind="rotating_winners") == []
    (signal,) = _signals(session, kind="rotating_winners")
    assert signal.round_id is None and signal.buyer_org_id == unit.organisation.id
    assert signal.supplier_ids == sorted(b.id for b in group)
    assert signal.evidence == {"rounds": numbers, "winners": [b.id for b in group]}


def test_the_same_winner_every_time_is_no_rotation():
    history = [collusion.PastRound(i, f"R{i}", now(), frozenset({1, 2, 3}), 1)
               for i in range(4)]
    assert collusion.rotations(history, {3}) == []


def test_oversight_reads_the_signals_with_names_and_evidence(client, session):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session) for _ in range(3)]
    with frozen_clock(now()) as clock:
        bidding_round = paper_round(session, unit)
        for bidder, price in zip(bidders, (5_000, 5_000, 5_300), strict=True):
            quote(session, bidder, bidding_round, price, ip="203.0.113.9")
        _close(session, clock, bidding_round)
    supervisor = make_member(session, OrganisationKind.SUPERVISOR, roles=[Role.SUPERVISOR])
    assert login(client, supervisor.login).status_code == 302
    page = client.get("/rounds/signals")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "203.0.113.9" in html and bidding_round.number in html
    assert all(session.get_one(Organisation, b.id).name in html for b in bidders)
    assert "same_totals" not in html.split("<tbody>")[1]  # the kind's name, not its code
    filtered = client.get("/rounds/signals?kind=shared_ip").get_data(as_text=True)
    assert "203.0.113.9" in filtered


def test_suppliers_and_units_do_not_read_signals(client, session):
    bidder = make_bidder(session)
    assert login(client, bidder.user.login).status_code == 302
    assert client.get("/rounds/signals").status_code in (403, 404)
