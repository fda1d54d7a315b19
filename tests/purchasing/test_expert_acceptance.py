"""Random expert acceptance through the services: who may be drawn, the seed, the guard on
the buyer's acceptance and the panel's acceptance of the order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mall.accounts.models import Organisation, User
from mall.core.audit import AuditEvent
from mall.core.auth import OrganisationKind, Role
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.purchasing.experts import pool, reviews
from mall.purchasing.experts import services as experts
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Acceptance, AcceptanceResult, OrderStatus
from tests.factories.accounts import make_user
from tests.factories.experts import (
    add_experts,
    delivered,
    expert_actor,
    operator,
    placed_order,
    signed,
)


def _requested(session, deal):
    experts.request_experts(session, deal.unit.buyer, deal.order.id, reason="大额设备，请专家验收")
    return deal


def _credit_code(session, organisation_id: int) -> str:
    return session.get(Organisation, organisation_id).credit_code


def _drawn(session, *, pool: int = 5, seed: str = "seed-1"):
    op = operator(session)
    team = add_experts(session, op, pool)
    deal = signed(session, _requested(session, placed_order(session)))
    draw = experts.draw_experts(session, op, deal.order.id, seed=seed)
    return op, team, deal, draw


def test_tied_experts_are_never_drawn_whatever_the_seed(session):
    op = operator(session)
    deal = signed(session, _requested(session, placed_order(session)))
    buyer_code = _credit_code(session, deal.order.buyer_org_id)
    supplier_code = _credit_code(session, deal.order.supplier_id)
    free = add_experts(session, op, 3)
    employed = add_experts(session, op, 1, employer_credit_code=supplier_code)
    tied = add_experts(session, op, 2)
    pool.add_tie(session, op, tied[0].id, credit_code=buyer_code, note="三年内曾任职")
    pool.add_tie(session, op, tied[1].id, credit_code=supplier_code, note="配偶任职")
    staff = add_experts(session, op, 1)
    make_user(session, session.get(Organisation, deal.order.buyer_org_id), roles=[Role.BUYER])
    session.get(Organisation, deal.order.buyer_org_id).users[-1].display_name = staff[0].name
    session.flush()
    excluded = {employed[0].id, tied[0].id, tied[1].id, staff[0].id}
    free_ids = {e.id for e in free}
    more = add_experts(session, op, 3)  # six free experts: the seed picks three of them
    drawn: set[int] = set()
    for n in range(30):  # each draw in a savepoint, undone: the order is drawn afresh
        attempt = session.begin_nested()
        draw = experts.draw_experts(session, op, deal.order.id, seed=f"seed-{n}")
        assert not excluded & set(draw.chosen_ids) and not excluded & set(draw.eligible_ids)
        drawn |= set(draw.chosen_ids)
        attempt.rollback()
    assert drawn == free_ids | {e.id for e in more}  # every free expert comes up, no tied one
    for expert in more:
        pool.set_active(session, op, expert.id, active=False)
    draw = experts.draw_experts(session, op, deal.order.id)
    assert set(draw.chosen_ids) == {e.id for e in free}
    assert {e["expert_id"]: e["reasons"] for e in draw.excluded} == {
        employed[0].id: ["employer_supplier"], tied[0].id: ["tie_buyer"],
        tied[1].id: ["tie_supplier"], staff[0].id: ["person_buyer"]}
    assert not excluded & set(draw.eligible_ids)


def test_the_same_seed_draws_the_same_experts_and_the_draw_is_audited(session):
    op, team, deal, draw = _drawn(session, pool=8, seed="2026-lottery")
    assert draw.chosen_ids == experts.draw_panel("2026-lottery", [e.id for e in team], 3)
    assert experts.reproduce(draw).matches
    others = {tuple(experts.draw_panel(f"other-{n}", draw.eligible_ids, 3)) for n in range(20)}
    assert len(others) > 1  # the seed decides, not the pool's order
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "expert_draw.drawn",
                                                    AuditEvent.object_id == str(deal.order.id)))
    assert event.data["seed"] == "2026-lottery" and event.data["chosen"] == draw.chosen_ids
    draw.chosen_ids = list(reversed(draw.chosen_ids))  # a tampered row no longer follows
    assert not experts.reproduce(draw).matches


def test_a_seed_is_made_when_none_is_given(session):
    op = operator(session)
    add_experts(session, op, 3)
    deal = signed(session, _requested(session, placed_order(session)))
    draw = experts.draw_experts(session, op, deal.order.id, seed="  ")
    assert len(draw.seed) == 32 and experts.reproduce(draw).matches


def test_too_few_eligible_experts_are_refused_with_the_count(session):
    op = operator(session)
    add_experts(session, op, 2)
    add_experts(session, op, 4, codes="A0201")  # computers: not the order's paper
    deal = signed(session, _requested(session, placed_order(session)))
    with pytest.raises(Conflict) as refused:
        experts.draw_experts(session, op, deal.order.id)
    assert refused.value.code == "too_few_experts"
    assert "Only 2 experts" in refused.value.detail and "needs 3" in refused.value.detail


def test_an_order_from_the_amount_needs_experts_and_a_small_one_does_not(session):
    op = operator(session)
    small = placed_order(session, quantity=1)
    large = placed_order(session, quantity=4)
    experts.update_rule(session, op, threshold_fen=4 * 2990, panel_size=3)
    assert experts.requirement(session, large.order).basis == "amount"
    assert not experts.requirement(session, small.order).required
    waiting = experts.orders_needing_draw(session, op)
    assert large.order in waiting and small.order not in waiting
    with pytest.raises(ValidationFailed) as refused:
        experts.update_rule(session, op, threshold_fen=0, panel_size=12)
    assert set(refused.value.errors) == {"threshold", "panel_size"}


def test_the_buyer_cannot_accept_alone_while_experts_are_required(session):
    op, team, deal, draw = _drawn(session)
    delivered(session, deal)
    with pytest.raises(Conflict) as refused:
        orders.accept(session, deal.unit.buyer, deal.order.id, result="pass")
    assert refused.value.code == "expert_acceptance_required"
    assert deal.order.status is OrderStatus.DELIVERED


def test_the_buyer_cannot_accept_alone_before_the_draw_either(session):
    deal = delivered(session, signed(session, _requested(session, placed_order(session))))
    with pytest.raises(Conflict):
        orders.accept(session, deal.unit.buyer, deal.order.id, result="pass")


def test_the_panels_majority_is_the_orders_acceptance(session):
    op, team, deal, draw = _drawn(session)
    delivered(session, deal)
    (line,) = deal.order.lines
    drawn = {e.id: e for e in team}
    verdicts = [("pass", {}), ("partial", {line.id: 3}), ("partial", {line.id: 2})]
    for expert_id, (result, quantities) in zip(draw.chosen_ids, verdicts, strict=True):
        assert deal.order.status is OrderStatus.DELIVERED
        reviews.record_review(session, expert_actor(session, drawn[expert_id]), draw.id,
                              result=result, quantities=quantities, opinion="货物与合同一致")
    # two of three accepted at least 3 of the 4 reams: the panel accepts 3
    assert deal.order.status is OrderStatus.ACCEPTED
    acceptance = session.scalar(select(Acceptance).where(Acceptance.order_id == deal.order.id))
    assert acceptance.result is AcceptanceResult.PARTIAL and line.accepted_quantity == 3
    assert deal.order.accepted_fen == 3 * 2990
    assert draw.result is AcceptanceResult.PARTIAL and draw.concluded_at is not None
    assert "专家1" in acceptance.reasons
    # the order goes on as usual: the supplier invoices
    orders.invoice(session, deal.supplier, deal.order.id, invoice_number="INV-1")
    assert deal.order.status is OrderStatus.INVOICED


def test_only_drawn_experts_review_and_each_once(session):
    op, team, deal, draw = _drawn(session, pool=4)
    delivered(session, deal)
    outsider = next(e for e in team if e.id not in draw.chosen_ids)
    with pytest.raises(NotFound):
        reviews.record_review(session, expert_actor(session, outsider), draw.id, result="pass",
                              opinion="合格")
    with pytest.raises(PermissionDenied):
        reviews.record_review(session, deal.unit.buyer, draw.id, result="pass", opinion="合格")
    first = expert_actor(session, next(e for e in team if e.id == draw.chosen_ids[0]))
    reviews.record_review(session, first, draw.id, result="pass", opinion="合格")
    with pytest.raises(Conflict) as again:
        reviews.record_review(session, first, draw.id, result="pass", opinion="合格")
    assert again.value.code == "already_reviewed"


def test_experts_review_only_received_goods_and_bad_input_is_refused(session):
    op, team, deal, draw = _drawn(session)
    first = expert_actor(session, next(e for e in team if e.id == draw.chosen_ids[0]))
    with pytest.raises(Conflict):
        reviews.record_review(session, first, draw.id, result="pass", opinion="合格")
    delivered(session, deal)
    (line,) = deal.order.lines
    with pytest.raises(ValidationFailed) as refused:
        reviews.record_review(session, first, draw.id, result="maybe", opinion="")
    assert "result" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        reviews.record_review(session, first, draw.id, result="partial",
                              quantities={line.id: 99}, opinion="")
    assert set(refused.value.errors) == {f"quantities.{line.id}", "opinion"}
    with pytest.raises(ValidationFailed):
        reviews.record_review(session, first, draw.id, result="partial",
                              quantities={line.id: line.quantity}, opinion="全部合格")


def test_names_are_hidden_from_the_parties_until_the_acceptance(session):
    op, team, deal, draw = _drawn(session)
    delivered(session, deal)
    names = {e.id: e.name for e in team}
    view = reviews.panel_view(session, deal.unit.buyer, deal.order)
    assert [m.name for m in view.members] == [None, None, None] and not view.names_shown
    assert [m.name for m in reviews.panel_view(session, op, deal.order).members] == [
        names[i] for i in draw.chosen_ids]
    for expert_id in draw.chosen_ids:
        actor = expert_actor(session, next(e for e in team if e.id == expert_id))
        reviews.record_review(session, actor, draw.id, result="pass", opinion="合格")
    view = reviews.panel_view(session, deal.supplier, deal.order)
    assert view.names_shown and [m.name for m in view.members] == [names[i] for i in draw.chosen_ids]


def test_other_organisations_and_roles_are_refused(session):
    op, team, deal, draw = _drawn(session)
    other = placed_order(session)
    with pytest.raises(NotFound):
        experts.request_experts(session, other.unit.buyer, deal.order.id, reason="x")
    with pytest.raises(PermissionDenied):
        experts.draw_experts(session, deal.unit.buyer, other.order.id)
    with pytest.raises(PermissionDenied):
        pool.add_expert(session, deal.unit.buyer, login="x", name="x", password="x" * 10,
                           employer_name="x", category_codes="A0504")
    with pytest.raises(PermissionDenied):
        reviews.assignments(session, op)


def test_adding_an_expert_checks_every_field(session):
    op = operator(session)
    with pytest.raises(ValidationFailed) as refused:
        pool.add_expert(session, op, login="e1", name=" ", password="short",
                           employer_name="", category_codes="Z99 A0504",
                           employer_credit_code="not-a-code", email="nobody")
    assert set(refused.value.errors) == {"login", "name", "password", "employer_name",
                                         "category_codes", "employer_credit_code", "email"}
    for odd in ("expert1\u200b", "ｅｘｐｅｒｔ１", "exp ert", "x" * 41, ""):  # look-alikes
        with pytest.raises(ValidationFailed) as looks_like:
            pool.add_expert(session, op, login=odd, name="张三", password="x" * 10,
                            employer_name="某大学", category_codes="A0504")
        assert set(looks_like.value.errors) == {"login"}
    (expert,) = add_experts(session, op, 1)
    user = session.get(User, expert.user_id)
    assert expert.category_codes == ["A05040000"] and user.roles == {Role.EXPERT}
    assert user.organisation.kind is OrganisationKind.EXPERT_POOL
    with pytest.raises(ValidationFailed):
        pool.add_tie(session, op, expert.id, credit_code="91430100000000000X", note="")


def test_a_request_is_made_once_and_not_after_acceptance(session):
    deal = placed_order(session)
    with pytest.raises(ValidationFailed):
        experts.request_experts(session, deal.unit.buyer, deal.order.id, reason="  ")
    _requested(session, deal)
    with pytest.raises(Conflict) as again:
        _requested(session, deal)
    assert again.value.code == "experts_already_required"
    plain = delivered(session, signed(session, placed_order(session)))
    orders.accept(session, plain.unit.buyer, plain.order.id, result="pass")
    with pytest.raises(Conflict):
        _requested(session, plain)
