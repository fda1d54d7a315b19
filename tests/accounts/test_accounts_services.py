"""Organisations, users, roles, login lockout and API tokens at the service layer."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mall.accounts import services
from mall.accounts.models import ApiToken
from mall.core.audit import AuditEvent
from mall.core.auth import OrganisationKind, Role, Scope
from mall.core.clock import frozen_clock
from mall.core.errors import (
    AuthenticationRequired,
    Conflict,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    ValidationFailed,
)
from tests.factories.accounts import PASSWORD, credit_code, make_member, make_organisation


def test_a_unit_with_an_invalid_credit_code_is_refused_with_a_field_error(session):
    good = credit_code(OrganisationKind.PURCHASING_UNIT)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as caught:
        services.create_organisation(session, kind=OrganisationKind.PURCHASING_UNIT,
                                     name="长沙市第一中学", credit_code=bad, region_code="430100")
    assert "credit_code" in caught.value.errors


def test_credit_codes_are_unique_and_stored_compact(session):
    code = credit_code(OrganisationKind.SUPPLIER)
    org = services.create_organisation(session, kind=OrganisationKind.SUPPLIER, name="甲公司",
                                       credit_code=f" {code[:6]} {code[6:]} ")
    assert org.credit_code == code
    with pytest.raises(Conflict):
        services.create_organisation(session, kind=OrganisationKind.SUPPLIER, name="乙公司",
                                     credit_code=code)


def test_a_unit_needs_a_region_code(session):
    with pytest.raises(ValidationFailed) as caught:
        services.create_organisation(session, kind=OrganisationKind.PURCHASING_UNIT,
                                     name="某局", credit_code=credit_code(), region_code="43")
    assert "region_code" in caught.value.errors


def test_roles_must_fit_the_organisation_kind(session):
    unit = make_organisation(session, OrganisationKind.PURCHASING_UNIT)
    with pytest.raises(ValidationFailed) as caught:
        services.create_user(session, organisation=unit, login="x1", display_name="x",
                             password=PASSWORD, roles=[Role.SUPPLIER_ADMIN])
    assert "roles" in caught.value.errors


def test_passwords_are_stored_as_argon2_hashes(session):
    user = make_member(session, OrganisationKind.PURCHASING_UNIT)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_succeeds_with_the_right_password_and_is_audited(session):
    user = make_member(session, OrganisationKind.PURCHASING_UNIT, login="buyer-a")
    assert services.authenticate(session, login="Buyer-A", password=PASSWORD,
                                 ip_address="127.0.0.1") is user
    actions = session.scalars(select(AuditEvent.action)
                              .where(AuditEvent.object_id == str(user.id))).all()
    assert "login.succeeded" in actions


def test_repeated_failures_lock_the_account_for_a_while(session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="buyer-b")
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with frozen_clock(start) as clock:
        for _ in range(5):
            with pytest.raises(AuthenticationRequired):
                services.authenticate(session, login="buyer-b", password="wrong-password",
                                      ip_address=None, max_failures=5, lock_minutes=15)
        with pytest.raises(TooManyRequests):  # even the right password is refused now
            services.authenticate(session, login="buyer-b", password=PASSWORD,
                                  ip_address=None, max_failures=5, lock_minutes=15)
        clock[0] = start + timedelta(minutes=16)
        assert services.authenticate(session, login="buyer-b", password=PASSWORD,
                                     ip_address=None).login == "buyer-b"


def test_a_buyer_cannot_read_another_units_organisation_or_users(session):
    mine = make_member(session, OrganisationKind.PURCHASING_UNIT)
    other = make_member(session, OrganisationKind.PURCHASING_UNIT)
    actor = services.actor_for(mine)
    with pytest.raises(NotFound):
        services.get_organisation(session, actor, other.organisation_id)
    with pytest.raises(NotFound):
        services.list_users(session, actor, other.organisation_id)
    assert services.get_organisation(session, actor, mine.organisation_id).id == \
        mine.organisation_id


def test_operators_and_supervisors_see_every_organisation(session):
    unit_user = make_member(session, OrganisationKind.PURCHASING_UNIT)
    for kind in (OrganisationKind.OPERATOR, OrganisationKind.SUPERVISOR):
        actor = services.actor_for(make_member(session, kind))
        assert services.get_organisation(session, actor, unit_user.organisation_id)


def test_a_supplier_admin_changes_staff_roles_and_the_change_is_audited(session):
    admin = make_member(session, OrganisationKind.SUPPLIER)
    from tests.factories.accounts import make_user

    staff = make_user(session, admin.organisation, roles=[Role.SUPPLIER_OPERATOR])
    services.set_user_roles(session, services.actor_for(admin), user_id=staff.id,
                            roles=["supplier_operator", "supplier_admin"])
    assert staff.roles == {Role.SUPPLIER_OPERATOR, Role.SUPPLIER_ADMIN}
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.roles_changed")
                            .order_by(AuditEvent.id.desc())).first()
    assert event.data == {"before": ["supplier_operator"],
                          "after": ["supplier_admin", "supplier_operator"]}


def test_a_buyer_cannot_change_roles_and_another_supplier_cannot_either(session):
    admin = make_member(session, OrganisationKind.SUPPLIER)
    buyer = make_member(session, OrganisationKind.PURCHASING_UNIT)
    rival = make_member(session, OrganisationKind.SUPPLIER)
    with pytest.raises(NotFound):
        services.set_user_roles(session, services.actor_for(buyer), user_id=admin.id,
                                roles=["supplier_operator"])
    with pytest.raises(NotFound):
        services.set_user_roles(session, services.actor_for(rival), user_id=admin.id,
                                roles=["supplier_operator"])
    assert admin.roles == {Role.SUPPLIER_ADMIN}


def test_a_token_is_stored_hashed_and_stops_working_once_revoked(session):
    admin = make_member(session, OrganisationKind.SUPPLIER)
    actor = services.actor_for(admin)
    token, secret = services.issue_token(session, actor, name="ERP", scopes=["offers:write"])
    stored = session.get(ApiToken, token.id)
    assert secret not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    machine = services.authenticate_token(session, secret)
    assert machine.organisation_id == admin.organisation_id
    assert machine.scopes == {Scope.OFFERS_WRITE}
    with pytest.raises(PermissionDenied):
        machine.require_scope(Scope.ORDERS_READ)
    services.revoke_token(session, actor, token_id=token.id)
    with pytest.raises(AuthenticationRequired):
        services.authenticate_token(session, secret)


def test_tokens_cannot_carry_scopes_outside_the_organisations_kind(session):
    bank = make_member(session, OrganisationKind.FINANCE_PARTNER)
    with pytest.raises(ValidationFailed) as caught:
        services.issue_token(session, services.actor_for(bank), name="loan system",
                             scopes=["offers:write"])
    assert "scopes" in caught.value.errors


def test_an_expired_token_is_refused(session):
    admin = make_member(session, OrganisationKind.SUPPLIER)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    with frozen_clock(start) as clock:
        _token, secret = services.issue_token(session, services.actor_for(admin), name="t",
                                              scopes=["catalog:read"],
                                              expires_at=start + timedelta(days=1))
        assert services.authenticate_token(session, secret)
        clock[0] = start + timedelta(days=2)
        with pytest.raises(AuthenticationRequired):
            services.authenticate_token(session, secret)


def test_another_organisation_cannot_revoke_my_token(session):
    admin = make_member(session, OrganisationKind.SUPPLIER)
    rival = make_member(session, OrganisationKind.SUPPLIER)
    token, secret = services.issue_token(session, services.actor_for(admin), name="t",
                                         scopes=["catalog:read"])
    with pytest.raises(NotFound):
        services.revoke_token(session, services.actor_for(rival), token_id=token.id)
    assert services.authenticate_token(session, secret)
