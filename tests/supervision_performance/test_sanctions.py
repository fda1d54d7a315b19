"""Sanctions: who may decide which, what a suspension, an expulsion and a bad-conduct entry do
to the supplier's admissions and offers, points that propose a suspension, expiry and
revocation, and refused input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bidding_rounds.eligibility import admitted_codes
from catalog.models import Offer
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock, local_today, now
from mall.core.errors import Conflict, MallError, NotFound, PermissionDenied, ValidationFailed
from mall.purchasing.orders import cart, checkout
from mall.purchasing.orders.models import Notification
from supervision.performance import sanctions
from supervision.performance.sanctions import SanctionInput
from suppliers.admission import lift_expired_suspensions
from suppliers.models import AdmissionStatus, CategoryAdmission
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit, supplier_with_offers, token
from tests.factories.suppliers import PAPER, operator_actor


@pytest.fixture
def clock():
    with frozen_clock(now()) as cell:
        yield cell


def _supervisor(session):
    return actor_for(make_member(session, OrganisationKind.SUPERVISOR))


def _admissions(session, supplier) -> list[CategoryAdmission]:
    return list(session.scalars(select(CategoryAdmission).where(
        CategoryAdmission.supplier_id == supplier.organisation_id).order_by(CategoryAdmission.id)))


def _suspended_offers(session, offer_ids) -> list[bool]:
    session.expire_all()
    return [session.get(Offer, i).suspended for i in offer_ids]


def _kinds_told(session, supplier) -> list[str]:
    return list(session.scalars(select(Notification.kind).where(
        Notification.organisation_id == supplier.organisation_id,
        Notification.kind.like("sanction_%")).order_by(Notification.id)))


def test_the_operator_warns_deducts_and_suspends_but_only_the_supervisor_expels_or_lists(session):
    _user, supplier, _offers = supplier_with_offers(session)
    operator, supervisor = operator_actor(session), _supervisor(session)
    sid = supplier.organisation_id
    warning = sanctions.impose(session, operator, supplier_id=sid,
                               data=SanctionInput("warning", "延迟确认订单多次"))
    assert warning.in_force(local_today())
    sanctions.impose(session, operator, supplier_id=sid,
                     data=SanctionInput("points", "虚假发货信息", points=3))
    for kind in ("expulsion", "bad_conduct"):
        with pytest.raises(PermissionDenied) as refused:
            sanctions.impose(session, operator, supplier_id=sid,
                             data=SanctionInput(kind, "提供虚假材料", ban_years=1))
        assert refused.value.code == "sanction_reserved_to_supervisor"
    for outsider in (supplier, make_unit(session).buyer):
        with pytest.raises(PermissionDenied):
            sanctions.impose(session, outsider, supplier_id=sid,
                             data=SanctionInput("warning", "自己警告自己"))
    listed = sanctions.impose(session, supervisor, supplier_id=sid,
                              data=SanctionInput("bad_conduct", "提供虚假材料谋取中标",
                                                 ban_years=2))
    assert listed.legal_basis == sanctions.LAW_77
    assert listed.ends_on == local_today().replace(year=local_today().year + 2)
    with pytest.raises(PermissionDenied):  # the operator may not revoke what it may not impose
        sanctions.revoke(session, operator, sanction_id=listed.id, reason="复议撤销")
    assert _kinds_told(session, supplier) == ["sanction_warning", "sanction_points",
                                              "sanction_bad_conduct"]


def test_a_suspension_takes_the_chosen_categories_out_and_ends_on_its_date(session, clock):
    _user, supplier, offer_ids = supplier_with_offers(session, prices=(2990, 3100))
    paper, desktop = _admissions(session, supplier)
    operator = operator_actor(session)
    ends_on = local_today() + timedelta(days=30)
    sanction = sanctions.impose(session, operator, supplier_id=supplier.organisation_id,
                                data=SanctionInput("suspension", "价格虚高，整改", ends_on=ends_on,
                                                   admission_ids=[paper.id]))
    assert sanction.category_names and sanction.admission_ids == [paper.id]
    session.refresh(paper)
    assert (paper.status, paper.reason, paper.suspended_until) == (
        AdmissionStatus.SUSPENDED, "价格虚高，整改", ends_on)
    assert _suspended_offers(session, offer_ids) == [True, True]  # both are paper
    assert PAPER not in admitted_codes(session, supplier.organisation_id, local_today())
    assert desktop.status is AdmissionStatus.ACTIVE
    assert [s.id for s in sanctions.current_sanctions(session, supplier.organisation_id)] == [
        sanction.id]

    clock[0] += timedelta(days=30)
    assert lift_expired_suspensions(session, today=local_today()) == 1
    assert _suspended_offers(session, offer_ids) == [False, False]
    assert sanctions.current_sanctions(session, supplier.organisation_id) == []


def test_revoking_a_suspension_brings_the_offers_back_and_tells_the_supplier(session):
    _user, supplier, offer_ids = supplier_with_offers(session)
    supervisor = _supervisor(session)
    paper = _admissions(session, supplier)[0]
    sanction = sanctions.impose(session, supervisor, supplier_id=supplier.organisation_id,
                                data=SanctionInput("suspension", "拒不履约",
                                                   ends_on=local_today() + timedelta(days=90),
                                                   admission_ids=[paper.id]))
    assert _suspended_offers(session, offer_ids) == [True]
    with pytest.raises(ValidationFailed):
        sanctions.revoke(session, supervisor, sanction_id=sanction.id, reason="  ")
    sanctions.revoke(session, supervisor, sanction_id=sanction.id, reason="复核后认定无责")
    assert _suspended_offers(session, offer_ids) == [False]
    assert sanctions.current_sanctions(session, supplier.organisation_id) == []
    with pytest.raises(Conflict):
        sanctions.revoke(session, supervisor, sanction_id=sanction.id, reason="再次撤销")
    assert _kinds_told(session, supplier)[-1] == "sanction_revoked"


def test_an_expulsion_ends_every_admission_and_takes_every_offer_out(session):
    _user, supplier, offer_ids = supplier_with_offers(session)
    supervisor = _supervisor(session)
    unit = make_unit(session)
    cart.add_item(session, unit.buyer, offer_id=offer_ids[0], quantity=1)  # in a cart before
    sanctions.impose(session, supervisor, supplier_id=supplier.organisation_id,
                     data=SanctionInput("expulsion", "串通投标"))
    assert {a.status for a in _admissions(session, supplier)} == {AdmissionStatus.ENDED}
    assert _suspended_offers(session, offer_ids) == [True]
    assert admitted_codes(session, supplier.organisation_id, local_today()) == set()
    with pytest.raises(MallError):  # no new order: the offer is no longer on sale
        checkout.checkout(session, unit.buyer, budget_line_id=unit.line_id,
                          delivery_address="长沙市岳麓区麓山路1号", contact="李四 13800000000",
                          token=token())
    with pytest.raises(NotFound):
        cart.add_item(session, unit.buyer, offer_id=offer_ids[0], quantity=1)
    with pytest.raises(Conflict):
        sanctions.impose(session, supervisor, supplier_id=supplier.organisation_id,
                         data=SanctionInput("expulsion", "再次清退"))


def test_points_reaching_the_threshold_propose_a_suspension_until_one_follows(session):
    _user, supplier, _offers = supplier_with_offers(session)
    operator = operator_actor(session)
    sid = supplier.organisation_id
    sanctions.impose(session, operator, supplier_id=sid,
                     data=SanctionInput("points", "逾期交货", points=6))
    assert sanctions.suspension_proposals(session, operator) == []
    second = sanctions.impose(session, operator, supplier_id=sid,
                              data=SanctionInput("points", "验收不合格", points=6))
    assert second.data == {"year_total": 12, "suspension_proposed": True}
    assert [(p.supplier_id, p.points) for p in sanctions.suspension_proposals(
        session, operator)] == [(sid, 12)]
    sanctions.impose(session, operator, supplier_id=sid, data=SanctionInput(
        "suspension", "积分达到12分", ends_on=local_today() + timedelta(days=60),
        admission_ids=[_admissions(session, supplier)[0].id]))
    assert sanctions.suspension_proposals(session, operator) == []


def test_the_bad_conduct_list_holds_current_entries_only(session, clock):
    supervisor = _supervisor(session)
    one_user, one_year, _o1 = supplier_with_offers(session)
    two_user, two_years, _o2 = supplier_with_offers(session)
    _u3, revoked, _o3 = supplier_with_offers(session)
    for supplier, years in ((one_year, 1), (two_years, 2), (revoked, 3)):
        sanction = sanctions.impose(session, supervisor, supplier_id=supplier.organisation_id,
                                    data=SanctionInput("bad_conduct", "提供虚假材料",
                                                       ban_years=years))
    sanctions.revoke(session, supervisor, sanction_id=sanction.id, reason="行政复议撤销")
    names = [e.name for e in sanctions.bad_conduct_list(session)]
    assert sorted(names) == sorted([one_user.organisation.name, two_user.organisation.name])
    clock[0] += timedelta(days=366)
    assert [e.name for e in sanctions.bad_conduct_list(session)] == [two_user.organisation.name]


def test_refused_input_names_the_fields(session):
    _user, supplier, _offers = supplier_with_offers(session)
    _other_user, other, _other_offers = supplier_with_offers(session)
    supervisor = _supervisor(session)
    sid = supplier.organisation_id
    cases = [
        (SanctionInput("fine", "罚款"), "kind"),
        (SanctionInput("warning", "   "), "reason"),
        (SanctionInput("warning", "理由\x00"), "reason"),
        (SanctionInput("points", "扣分", points=0), "points"),
        (SanctionInput("points", "扣分", points=13), "points"),
        (SanctionInput("suspension", "暂停", ends_on=local_today(),
                       admission_ids=[_admissions(session, supplier)[0].id]), "ends_on"),
        (SanctionInput("suspension", "暂停", ends_on=local_today() + timedelta(days=400),
                       admission_ids=[_admissions(session, supplier)[0].id]), "ends_on"),
        (SanctionInput("suspension", "暂停", ends_on=local_today() + timedelta(days=10),
                       admission_ids=[_admissions(session, other)[0].id]), "admission_ids"),
        (SanctionInput("bad_conduct", "不良行为", ban_years=5), "ban_years"),
        (SanctionInput("warning", "警告", legal_basis="x" * 201), "legal_basis"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            sanctions.impose(session, supervisor, supplier_id=sid, data=data)
        assert field in refused.value.errors, (data, refused.value.errors)
    buyer_org = make_unit(session).organisation.id
    with pytest.raises(NotFound):
        sanctions.impose(session, supervisor, supplier_id=buyer_org,
                         data=SanctionInput("warning", "不是供应商"))
    assert sanctions.sanctions_of(session, supervisor, supplier_id=sid) == []
    with pytest.raises(NotFound):  # another supplier's sanctions are not there for it
        sanctions.sanctions_of(session, other, supplier_id=sid)


def test_a_banned_supplier_gets_nothing_back_while_the_ban_is_in_force(session, clock):
    """Revoking an earlier suspension, a suspension running out, reinstating on the
    admission page or a second entry on the list: none gives a banned supplier its trade
    back; revoking the ban does."""
    _user, supplier, offers = supplier_with_offers(session)
    operator, supervisor = operator_actor(session), _supervisor(session)
    sid = supplier.organisation_id
    first, *others = _admissions(session, supplier)
    suspension = sanctions.impose(session, operator, supplier_id=sid, data=SanctionInput(
        "suspension", "价格虚高，整改", ends_on=local_today() + timedelta(days=30),
        admission_ids=[first.id]))
    ban = sanctions.impose(session, supervisor, supplier_id=sid,
                           data=SanctionInput("bad_conduct", "提供虚假材料", ban_years=1))
    assert first.id in ban.admission_ids and first.suspended_until == ban.ends_on
    with pytest.raises(Conflict) as twice:
        sanctions.impose(session, supervisor, supplier_id=sid,
                         data=SanctionInput("bad_conduct", "再次列入", ban_years=3))
    assert twice.value.code == "already_listed"
    sanctions.revoke(session, operator, sanction_id=suspension.id, reason="整改完成")
    with pytest.raises(Conflict) as held:
        from suppliers.admission import reinstate_admission

        reinstate_admission(session, operator, admission_id=others[0].id, reason="恢复")
    assert held.value.code == "held_by_sanction"
    clock[0] = now() + timedelta(days=40)  # the suspension's own end has passed
    lift_expired_suspensions(session, today=local_today())
    session.expire_all()
    assert {a.status for a in _admissions(session, supplier)} == {AdmissionStatus.SUSPENDED}
    assert all(_suspended_offers(session, offers))
    sanctions.revoke(session, supervisor, sanction_id=ban.id, reason="复议撤销")
    session.expire_all()
    assert {a.status for a in _admissions(session, supplier)} == {AdmissionStatus.ACTIVE}
    assert not any(_suspended_offers(session, offers))


def test_a_revoke_reason_has_a_length_limit(session):
    _user, supplier, _offers = supplier_with_offers(session)
    operator = operator_actor(session)
    warning = sanctions.impose(session, operator, supplier_id=supplier.organisation_id,
                               data=SanctionInput("warning", "延迟确认"))
    with pytest.raises(ValidationFailed) as refused:
        sanctions.revoke(session, operator, sanction_id=warning.id, reason="长" * 2001)
    assert "reason" in refused.value.errors
    assert warning.revoked_at is None
