"""Supplier portal and operator pages over the admission, review and framework services."""

from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from mall.accounts.models import Organisation
from mall.core.auth import OrganisationKind
from suppliers.models import AdmissionApplication, ApplicationStatus, CategoryAdmission
from tests.conftest import csrf_from, login, post_form
from tests.factories.accounts import credit_code, make_member
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, operator_actor
from tests.factories.suppliers import listed_offer as make_offer

REGISTRATION = {
    "organisation_name": "星沙办公用品有限公司", "region_code": "430104", "login": "xingsha",
    "display_name": "王经理", "password": "Xingsha-Pass-2026", "legal_representative": "王建国",
    "controlling_shareholder": "王建国", "size": "small", "employees": "35",
    "revenue_wan": "1800", "assets_wan": "900", "contact_name": "李娜",
    "contact_phone": "13800138000", "contact_email": "lina@xingsha.example.cn",
    "bank_name": "潇湘农商银行星沙支行", "bank_account": "6230 9010 0000 1234",
    "delivery_regions": ["430100"], "category_codes": [PAPER, DESKTOP], "note": "",
}


def _enable(session, *codes):
    from catalog.services import set_categories_enabled

    set_categories_enabled(session, operator_actor(session), codes=list(codes), enabled=True)


def test_a_new_supplier_registers_and_applies_in_one_form(client, session):
    _enable(session, PAPER, DESKTOP)
    page = client.get("/supplier/register").get_data(as_text=True)
    response = client.post("/supplier/register", data={
        **REGISTRATION, "credit_code": credit_code(OrganisationKind.SUPPLIER),
        "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert client.get("/supplier/").status_code == 200
    session.expire_all()
    org = session.scalar(select(Organisation).where(Organisation.name == "星沙办公用品有限公司"))
    application = session.scalar(select(AdmissionApplication)
                                 .where(AdmissionApplication.organisation_id == org.id))
    assert application.status is ApplicationStatus.SUBMITTED
    assert application.category_codes == [DESKTOP, PAPER]


def test_registration_errors_are_shown_next_to_the_fields_and_nothing_is_saved(client, session):
    _enable(session, PAPER)
    page = client.get("/supplier/register").get_data(as_text=True)
    bad = {**REGISTRATION, "credit_code": "91430100MA4L0000X0", "contact_email": "not-mail",
           "category_codes": [], "csrf_token": csrf_from(page)}
    response = client.post("/supplier/register", data=bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("credit_code", "contact_email", "category_codes"):
        assert f'id="{field}-error"' in html
    assert 'value="星沙办公用品有限公司"' in html  # what was typed is kept
    session.expire_all()
    assert session.scalar(select(Organisation).where(
        Organisation.name == "星沙办公用品有限公司")) is None


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


def test_the_supplier_edits_price_and_stock_inline_and_sees_the_review_decision(
        client, session):
    user, actor = admitted_supplier(session, login="sup-inline")
    make_offer(session, actor, sku="INL-1")
    login(client, "sup-inline")
    response = post_form(client, "/supplier/offers", "/supplier/offers/INL-1/quick",
                         {"price": "99.00", "stock": "3"})
    assert response.status_code == 302
    session.expire_all()
    offer = session.scalar(select(Offer).where(Offer.supplier_sku == "INL-1"))
    assert (offer.price_fen, offer.stock, offer.status) == (9900, 3, OfferStatus.PENDING_REVIEW)
    assert "INL-1" in client.get("/supplier/decisions").get_data(as_text=True)
    bad = post_form(client, "/supplier/offers", "/supplier/offers/INL-1/quick",
                    {"price": "12.345", "stock": "3"})
    assert bad.status_code == 302
    session.expire_all()
    assert session.scalar(select(Offer.price_fen).where(Offer.supplier_sku == "INL-1")) == 9900


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
