"""Supplier registration: the service that creates the company, its administrator and its
application, and the page's answer when a login or credit code is taken."""

import pytest
from sqlalchemy import func, select

from mall.accounts.models import Organisation
from mall.core.auth import OrganisationKind, Role
from mall.core.errors import Conflict
from suppliers.admission import ProfileInput
from suppliers.models import AdmissionApplication, ApplicationStatus, SizeClass, SupplierProfile
from suppliers.registration import register_supplier
from tests.conftest import csrf_from
from tests.factories.accounts import credit_code, make_member
from tests.factories.suppliers import DESKTOP, PAPER, operator_actor
from tests.suppliers.test_supplier_pages import REGISTRATION

PROFILE = ProfileInput("王建国", "王建国", SizeClass.SMALL, "李娜", "13800138000",
                       "lina@xingsha.example.cn", "潇湘农商银行星沙支行", "6230901000001234",
                       ("430100",))


def _enable(session, *codes):
    from catalog.services import set_categories_enabled

    set_categories_enabled(session, operator_actor(session), codes=list(codes), enabled=True)


def _register(session, *, login="xingsha", code=None):
    return register_supplier(
        session, organisation_name="星沙办公用品有限公司",
        credit_code=code or credit_code(OrganisationKind.SUPPLIER), region_code="430104",
        login=login, display_name="王经理", password="Xingsha-Pass-2026",
        email="lina@xingsha.example.cn", profile=PROFILE, category_codes=[PAPER, DESKTOP],
        note="长沙市内次日达")


def test_registering_creates_the_supplier_its_administrator_and_the_application(session):
    _enable(session, PAPER, DESKTOP)
    user = _register(session)
    organisation = user.organisation
    assert organisation.kind is OrganisationKind.SUPPLIER
    assert organisation.name == "星沙办公用品有限公司" and organisation.region_code == "430104"
    assert user.login == "xingsha" and user.roles == {Role.SUPPLIER_ADMIN}
    application = session.scalar(select(AdmissionApplication).where(
        AdmissionApplication.organisation_id == organisation.id))
    assert application.status is ApplicationStatus.SUBMITTED
    assert application.category_codes == [DESKTOP, PAPER] and application.note == "长沙市内次日达"
    profile = session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == organisation.id))
    assert profile.size is SizeClass.SMALL and profile.bank_account == "6230901000001234"


def test_a_credit_code_already_registered_is_refused_before_anything_is_created(session):
    _enable(session, PAPER, DESKTOP)
    taken = credit_code(OrganisationKind.SUPPLIER)
    _register(session, login="first", code=taken)
    with pytest.raises(Conflict) as refused:
        _register(session, login="second", code=taken)
    assert refused.value.code == "credit_code_taken"
    assert session.scalar(select(func.count()).select_from(Organisation)
                          .where(Organisation.credit_code == taken)) == 1


def test_a_taken_login_is_refused(session):
    _enable(session, PAPER, DESKTOP)
    make_member(session, OrganisationKind.SUPPLIER, login="xingsha")
    with pytest.raises(Conflict) as refused:
        _register(session, login="XingSha")
    assert refused.value.code == "login_taken"


def test_the_page_shows_a_taken_login_next_to_the_login_field_and_saves_nothing(
        client, session):
    _enable(session, PAPER, DESKTOP)
    make_member(session, OrganisationKind.SUPPLIER, login="xingsha")
    code = credit_code(OrganisationKind.SUPPLIER)
    page = client.get("/supplier/register").get_data(as_text=True)
    response = client.post("/supplier/register", data={
        **REGISTRATION, "credit_code": code, "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="login-error"' in html and 'id="credit_code-error"' not in html
    session.expire_all()
    assert session.scalar(select(Organisation).where(Organisation.credit_code == code)) is None


def test_the_page_shows_a_taken_credit_code_next_to_its_field(client, session):
    _enable(session, PAPER, DESKTOP)
    taken = credit_code(OrganisationKind.SUPPLIER)
    _register(session, login="first", code=taken)
    page = client.get("/supplier/register").get_data(as_text=True)
    response = client.post("/supplier/register", data={
        **REGISTRATION, "login": "second", "credit_code": taken, "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="credit_code-error"' in html and 'id="login-error"' not in html
