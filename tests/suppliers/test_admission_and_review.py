"""Admission decisions, suspensions, framework agreements and the operator's offer decisions."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from catalog.services import get_category
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from suppliers import admission, frameworks, moderation
from suppliers.listings import save_offers
from suppliers.models import AdmissionStatus, ApplicationStatus, ListingDecision, SizeClass
from tests.factories.accounts import make_member
from tests.factories.suppliers import (
    DESKTOP,
    PAPER,
    admitted_supplier,
    listed_offer,
    offer_input,
    operator_actor,
)

PROFILE = admission.ProfileInput("刘强", "刘强", SizeClass.SMALL, "刘强", "13800000000",
                                 "liu@example.cn", "银行", "6230901000001", ("430100",))


def _applicant(session):
    operator = operator_actor(session)
    from catalog.services import set_categories_enabled

    set_categories_enabled(session, operator, codes=[PAPER, DESKTOP], enabled=True)
    return operator, actor_for(make_member(session, OrganisationKind.SUPPLIER))


def test_an_application_can_be_approved_for_part_of_the_categories(session):
    operator, supplier = _applicant(session)
    application = admission.apply_for_admission(session, supplier, profile=PROFILE,
                                                category_codes=[PAPER, DESKTOP])
    admission.decide_application(session, operator, application_id=application.id,
                                 decision="approve", category_codes=[PAPER])
    admitted = admission.list_admissions(session, supplier, supplier_id=supplier.organisation_id)
    assert [c.code for _a, c in admitted] == [PAPER]
    assert application.status is ApplicationStatus.APPROVED


def test_more_information_lets_the_supplier_resubmit_the_same_application(session):
    operator, supplier = _applicant(session)
    application = admission.apply_for_admission(session, supplier, profile=PROFILE,
                                                category_codes=[PAPER])
    admission.decide_application(session, operator, application_id=application.id,
                                 decision="more_info", reason="请补充营业执照副本")
    again = admission.apply_for_admission(session, supplier, profile=PROFILE,
                                          category_codes=[PAPER], note="已补充")
    assert again.id == application.id and again.status is ApplicationStatus.SUBMITTED
    with pytest.raises(Conflict):
        admission.apply_for_admission(session, supplier, profile=PROFILE, category_codes=[PAPER])


def test_a_supplier_cannot_decide_its_own_application(session):
    _operator, supplier = _applicant(session)
    application = admission.apply_for_admission(session, supplier, profile=PROFILE,
                                                category_codes=[PAPER])
    with pytest.raises(PermissionDenied):
        admission.decide_application(session, supplier, application_id=application.id,
                                     decision="approve")


def test_a_timed_suspension_is_lifted_by_the_daily_sweep(session):
    _user, supplier = admitted_supplier(session, codes=(PAPER,))
    offer = listed_offer(session, supplier)
    operator = operator_actor(session)
    record = admission.list_admissions(session, supplier,
                                       supplier_id=supplier.organisation_id)[0][0]
    with frozen_clock(datetime(2026, 11, 23, 2, tzinfo=UTC)):
        admission.suspend_admission(session, operator, admission_id=record.id,
                                    reason="未按期发货", until=date(2026, 12, 1))
    assert not session.get(Offer, offer.offer_id).visible
    assert admission.lift_expired_suspensions(session, today=date(2026, 11, 30)) == 0
    assert admission.lift_expired_suspensions(session, today=date(2026, 12, 1)) == 1
    assert record.status is AdmissionStatus.ACTIVE
    assert session.get(Offer, offer.offer_id).visible


def test_an_ended_admission_refuses_new_offers_in_that_category(session):
    _user, supplier = admitted_supplier(session, codes=(PAPER,))
    operator = operator_actor(session)
    record = admission.list_admissions(session, supplier,
                                       supplier_id=supplier.organisation_id)[0][0]
    admission.suspend_admission(session, operator, admission_id=record.id, reason="协议到期",
                                end=True)
    report = save_offers(session, supplier, supplier_id=supplier.organisation_id,
                         items=[offer_input()])
    assert report.results[0].error == "category_not_admitted"


def test_a_framework_agreement_needs_two_admitted_suppliers_and_at_most_a_year(session):
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    _u3, outsider = admitted_supplier(session, codes=(DESKTOP,))
    operator = operator_actor(session)
    base = {"number": "FW-1", "title": "复印纸", "category_code": PAPER,
            "starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31)}
    with pytest.raises(ValidationFailed) as caught:
        frameworks.create_agreement(session, operator, **base,
                                    supplier_ids=[first.organisation_id])
    assert "supplier_ids" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        frameworks.create_agreement(session, operator, **base, supplier_ids=[
            first.organisation_id, outsider.organisation_id])
    assert "supplier_ids" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        frameworks.create_agreement(session, operator, **{**base, "ends_on": date(2027, 1, 2)},
                                    supplier_ids=[first.organisation_id,
                                                  second.organisation_id])
    assert "ends_on" in caught.value.errors
    agreement = frameworks.create_agreement(
        session, operator, **base, supplier_ids=[first.organisation_id, second.organisation_id])
    assert len(agreement.members) == 2


def test_an_offer_above_the_framework_ceiling_goes_to_review(session):
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    operator = operator_actor(session)
    offer = listed_offer(session, first, model="CAP-1", price_fen=3000, reference=4000)
    today = datetime.now(UTC).date()
    agreement = frameworks.create_agreement(
        session, operator, number="FW-2", title="", category_code=PAPER,
        starts_on=today, ends_on=today + timedelta(days=180),  # within the one-year term
        supplier_ids=[first.organisation_id, second.organisation_id])
    product_id = session.get(Offer, offer.offer_id).product_id
    frameworks.set_price_cap(session, operator, agreement_id=agreement.id,
                             product_id=product_id, cap_fen=2800)
    result = listed_offer(session, second, model="CAP-1", price_fen=2900, reference=4000)
    assert "above_framework_cap" in result.reasons


def test_the_operator_rejects_with_a_reason_and_the_supplier_sees_it(session):
    _user, supplier = admitted_supplier(session)
    held = listed_offer(session, supplier, price_fen=5000, reference=3000)
    operator = operator_actor(session)
    with pytest.raises(ValidationFailed):
        moderation.decide_offers(session, operator, offer_ids=[held.offer_id], action="reject")
    moderation.decide_offers(session, operator, offer_ids=[held.offer_id], action="reject",
                             reason="参考价链接失效")
    decisions = moderation.offer_decisions(session, supplier,
                                           supplier_id=supplier.organisation_id)
    assert decisions[0][0].action == "reject" and decisions[0][0].note == "参考价链接失效"
    assert decisions[0][0].reasons == ["above_reference_price"]


def test_a_frozen_offer_stays_frozen_when_the_supplier_edits_it(session):
    _user, supplier = admitted_supplier(session)
    offer = listed_offer(session, supplier, sku="FRZ")
    operator = operator_actor(session)
    moderation.decide_offers(session, operator, offer_ids=[offer.offer_id], action="freeze",
                             reason="涉嫌虚假宣传")
    result = listed_offer(session, supplier, sku="FRZ", price_fen=2500)
    assert result.status == "frozen"
    moderation.decide_offers(session, operator, offer_ids=[offer.offer_id], action="reinstate")
    assert session.get(Offer, offer.offer_id).status is OfferStatus.LISTED


def test_the_review_queue_lists_held_offers_with_the_lowest_competing_price(session):
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    listed_offer(session, first, model="Q-1", price_fen=2000, reference=5000)
    held = listed_offer(session, second, model="Q-1", price_fen=4000, reference=5000)
    rows, total = moderation.review_queue(session, operator_actor(session),
                                          reason="above_market_average")
    mine = [r for r in rows if r.offer.id == held.offer_id]
    assert mine and mine[0].others_min_fen == 2000 and total >= 1


def test_a_wrong_status_or_a_foreign_id_is_refused(session):
    _user, supplier = admitted_supplier(session)
    offer = listed_offer(session, supplier)
    operator = operator_actor(session)
    with pytest.raises(Conflict):
        moderation.decide_offers(session, operator, offer_ids=[offer.offer_id],
                                 action="approve")
    with pytest.raises(NotFound):
        moderation.decide_offers(session, operator, offer_ids=[987654321], action="freeze",
                                 reason="x")
    assert session.scalars(select(ListingDecision).where(
        ListingDecision.offer_id == offer.offer_id)).all() == []
    assert get_category(session, PAPER).enabled
