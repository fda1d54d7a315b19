"""The operator's pages over the suppliers: admission applications, suspensions, the review
queue of held offers, and framework agreements with their ceiling prices."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from mall.core.auth import OrganisationKind
from mall.core.clock import local_today
from suppliers import frameworks
from suppliers.models import AdmissionApplication, ApplicationStatus, CategoryAdmission
from tests.conftest import csrf_from, login, post_form
from tests.factories.accounts import credit_code, make_member
from tests.factories.purchasing import supplier_with_offers
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, operator_actor
from tests.factories.suppliers import listed_offer as make_offer
from tests.suppliers.test_supplier_pages import REGISTRATION

HUGE = "99999999999999999999"


def _enable(session, *codes):
    from catalog.services import set_categories_enabled

    set_categories_enabled(session, operator_actor(session), codes=list(codes), enabled=True)


def _english(client):
    post_form(client, "/login", "/language/en", {"next": "/login"})


def test_the_operator_admits_an_applicant_for_the_categories_ticked(client, session):
    _enable(session, PAPER, DESKTOP)
    page = client.get("/supplier/register").get_data(as_text=True)
    client.post("/supplier/register", data={
        **REGISTRATION, "credit_code": credit_code(OrganisationKind.SUPPLIER),
        "csrf_token": csrf_from(page)})
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    make_member(session, OrganisationKind.OPERATOR, login="centre-admit")
    login(client, "centre-admit")
    queue = client.get("/admin/admissions").get_data(as_text=True)
    assert "星沙办公用品有限公司" in queue and "王建国" in queue
    session.expire_all()
    application = session.scalar(select(AdmissionApplication).order_by(
        AdmissionApplication.id.desc()))
    post_form(client, "/admin/admissions", f"/admin/admissions/{application.id}",
              {"decision": "approve", "category_codes": [PAPER]})
    session.expire_all()
    admitted = session.scalars(select(CategoryAdmission).where(
        CategoryAdmission.supplier_id == application.organisation_id)).all()
    assert len(admitted) == 1 and application.status is ApplicationStatus.APPROVED


def test_rejecting_without_a_reason_is_refused(client, session):
    from mall.accounts.services import actor_for
    from suppliers.admission import ProfileInput, apply_for_admission
    from suppliers.models import SizeClass

    _enable(session, PAPER)
    supplier = make_member(session, OrganisationKind.SUPPLIER)
    application = apply_for_admission(session, actor_for(supplier), profile=ProfileInput(
        "甲", "甲", SizeClass.MICRO, "乙", "13900000000", "a@b.example.cn", "银行", "123456789",
        ("430100",)), category_codes=[PAPER])
    make_member(session, OrganisationKind.OPERATOR, login="centre-reject")
    login(client, "centre-reject")
    post_form(client, "/admin/admissions", f"/admin/admissions/{application.id}",
              {"decision": "reject", "reason": ""})
    session.expire_all()
    assert application.status is ApplicationStatus.SUBMITTED


def test_suspension_hides_the_suppliers_offers_and_reinstatement_brings_them_back(
        client, session):
    user, actor = admitted_supplier(session)
    result = make_offer(session, actor, sku="VIS-1")
    make_member(session, OrganisationKind.OPERATOR, login="centre-sanction")
    login(client, "centre-sanction")
    detail = f"/admin/suppliers/{actor.organisation_id}"
    admission = session.scalar(select(CategoryAdmission).where(
        CategoryAdmission.supplier_id == actor.organisation_id).order_by(CategoryAdmission.id))
    post_form(client, detail, f"/admin/admissions/category/{admission.id}",
              {"action": "suspend", "reason": "价格虚高，限期整改", "back": detail})
    session.expire_all()
    offer = session.get(Offer, result.offer_id)
    assert not offer.visible and offer.suspended
    assert "价格虚高" in client.get(detail).get_data(as_text=True)
    post_form(client, detail, f"/admin/admissions/category/{admission.id}",
              {"action": "reinstate", "back": detail})
    session.expire_all()
    assert session.get(Offer, result.offer_id).visible


def test_the_review_queue_shows_the_reason_and_the_operator_approves(client, session):
    _user, actor = admitted_supplier(session)
    held = make_offer(session, actor, sku="HIGH-1", price_fen=5000, reference=3000)
    make_member(session, OrganisationKind.OPERATOR, login="centre-review")
    login(client, "centre-review")
    client.post("/language/en", data={"csrf_token": csrf_from(client.get("/").text),
                                      "next": "/"})
    queue = client.get("/admin/reviews").get_data(as_text=True)
    assert "HIGH-1" in queue and "above_reference_price" in queue.replace(
        "Above the reference price", "above_reference_price")
    post_form(client, "/admin/reviews", "/admin/offers/decide",
              {"offer_ids": [str(held.offer_id)], "action": "approve"})
    session.expire_all()
    assert session.get(Offer, held.offer_id).status is OfferStatus.LISTED


def test_another_supplier_cannot_open_a_suppliers_admin_page(client, session):
    _u, owner = admitted_supplier(session)
    make_member(session, OrganisationKind.SUPPLIER, login="sup-nosy")
    login(client, "sup-nosy")
    assert client.get(f"/admin/suppliers/{owner.organisation_id}").status_code == 403
    assert client.get("/admin/reviews").status_code == 403


def test_the_operator_records_a_framework_agreement_of_at_most_one_year(client, session):
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    make_member(session, OrganisationKind.OPERATOR, login="centre-fw")
    login(client, "centre-fw")
    form = {"number": "HNZC-2026-001", "title": "复印纸入围", "category_code": PAPER,
            "starts_on": "2026-01-01", "ends_on": "2027-06-30",
            "supplier_ids": [str(first.organisation_id), str(second.organisation_id)]}
    too_long = post_form(client, "/admin/frameworks", "/admin/frameworks", form)
    assert too_long.status_code == 422 and 'id="ends_on-error"' in too_long.text
    ok = post_form(client, "/admin/frameworks", "/admin/frameworks",
                   {**form, "ends_on": "2026-12-31"})
    assert ok.status_code == 302
    assert "HNZC-2026-001" in client.get("/admin/frameworks").get_data(as_text=True)


def test_the_ceiling_price_page_refuses_a_huge_price(client, session):
    _u1, first = admitted_supplier(session)
    _u2, second = admitted_supplier(session)
    operator = operator_actor(session)
    product = session.get(Offer, supplier_with_offers(session)[2][0]).product_id
    today = local_today()
    agreement = frameworks.create_agreement(
        session, operator, number="FW-PAGE", title="", category_code=PAPER, starts_on=today,
        ends_on=today + timedelta(days=180),
        supplier_ids=[first.organisation_id, second.organisation_id])
    make_member(session, OrganisationKind.OPERATOR, login="centre-caps")
    _english(client)
    login(client, "centre-caps")
    for cap in (HUGE, "1e30", "-58.00"):
        answer = post_form(client, "/admin/frameworks", f"/admin/frameworks/{agreement.id}/caps",
                           {"product_id": str(product), "cap": cap})
        assert answer.status_code == 302, cap
    session.expire_all()
    assert session.get(type(agreement), agreement.id).caps == []
