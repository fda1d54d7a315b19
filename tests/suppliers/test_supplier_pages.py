"""The supplier portal: registration with the admission application in one form, and price
and stock edited inline. The operator's pages over suppliers are tested in tests/admin."""

from sqlalchemy import select

from catalog.models import Offer, OfferStatus
from mall.accounts.models import Organisation
from mall.core.auth import OrganisationKind
from suppliers.models import AdmissionApplication, ApplicationStatus
from tests.conftest import csrf_from, login, post_form
from tests.factories.accounts import credit_code
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

