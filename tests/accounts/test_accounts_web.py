"""Pages and API over the account services: login, CSRF, scoping, tokens, problem+json."""

from datetime import UTC, datetime, timedelta

from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock
from mall.extensions import limiter
from tests.conftest import csrf_from, login, post_form
from tests.factories.accounts import make_member


def test_login_page_is_chinese_by_default_and_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and 'lang="zh-CN"' in page
    client.post("/language/en", data={"csrf_token": csrf_from(page), "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and 'lang="en"' in page


def test_a_buyer_logs_in_and_sees_the_home_page_of_their_unit(client, session):
    buyer = make_member(session, OrganisationKind.PURCHASING_UNIT, login="unit-buyer")
    response = login(client, "unit-buyer")
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert buyer.organisation.name in home and "经办人" in home


def test_a_wrong_password_shows_a_message_on_the_form(client, session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="unit-buyer2")
    response = login(client, "unit-buyer2", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_form_posted_without_its_csrf_token_is_rejected(client, session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="csrf-buyer")
    response = client.post("/login", data={"login": "csrf-buyer",
                                           "password": "Correct-Horse-42"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still not logged in


def test_changing_the_id_in_the_url_does_not_show_another_unit(client, session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="nosy-buyer")
    other = make_member(session, OrganisationKind.PURCHASING_UNIT)
    login(client, "nosy-buyer")
    assert client.get(f"/organisations/{other.organisation_id}").status_code == 404
    response = client.get(f"/api/v1/organisations/{other.organisation_id}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "not_found"
    users = client.get(f"/api/v1/organisations/{other.organisation_id}/users")
    assert users.status_code == 404


def test_an_operator_can_open_any_units_page(client, session):
    make_member(session, OrganisationKind.OPERATOR, login="centre-op")
    unit = make_member(session, OrganisationKind.PURCHASING_UNIT)
    login(client, "centre-op")
    page = client.get(f"/organisations/{unit.organisation_id}")
    assert page.status_code == 200 and unit.organisation.name in page.get_data(as_text=True)


def test_api_errors_are_problem_documents_with_field_errors(client, session):
    make_member(session, OrganisationKind.SUPPLIER, login="sup-admin")
    login(client, "sup-admin")
    token = csrf_from(client.get("/tokens").get_data(as_text=True))
    response = client.post("/api/v1/tokens", json={"name": "", "scopes": ["no-such-scope"]},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422
    body = response.json
    assert response.mimetype == "application/problem+json"
    assert body["code"] == "validation_failed" and body["status"] == 422
    assert set(body["errors"]) >= {"name", "scopes.0"}
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_browser_session_must_send_the_csrf_header_to_change_things_through_the_api(
        client, session):
    make_member(session, OrganisationKind.SUPPLIER, login="sup-admin2")
    login(client, "sup-admin2")
    response = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["catalog:read"]})
    assert response.status_code == 400 and response.json["code"] == "csrf_failed"


def test_a_machine_uses_a_token_until_it_is_revoked(client, session):
    make_member(session, OrganisationKind.SUPPLIER, login="sup-admin3")
    login(client, "sup-admin3")
    page = client.post("/tokens", data={"name": "ERP 对接", "scopes": ["account:read"],
                                        "csrf_token": csrf_from(client.get("/tokens").text)})
    html = page.get_data(as_text=True)
    secret = html.split('<code id="new-token">')[1].split("</code>")[0]
    machine = {"Authorization": f"Bearer {secret}"}
    robot = client.application.test_client()  # no cookies: only the token speaks
    me = robot.get("/api/v1/me", headers=machine)
    assert me.status_code == 200 and me.json["user"]["login"] == "sup-admin3"
    tokens = client.get("/api/v1/tokens").json
    post_form(client, "/tokens", f"/tokens/{tokens[0]['id']}/revoke", {})
    refused = robot.get("/api/v1/me", headers=machine)
    assert refused.status_code == 401 and refused.json["code"] == "invalid_token"


def test_a_token_without_the_scope_is_refused(client, session):
    from mall.accounts.services import actor_for, issue_token

    admin = make_member(session, OrganisationKind.SUPPLIER)
    _token, secret = issue_token(session, actor_for(admin), name="t", scopes=["offers:write"])
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403 and response.json["code"] == "scope_required"


def test_an_idle_session_expires(client, session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="sleepy-buyer")
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    with frozen_clock(start) as clock:
        login(client, "sleepy-buyer")
        assert client.get("/").status_code == 200
        clock[0] = start + timedelta(minutes=29)
        assert client.get("/").status_code == 200
        clock[0] = start + timedelta(minutes=60)
        response = client.get("/")
        assert response.status_code == 302
        assert "会话已过期" in client.get("/login").get_data(as_text=True)


def test_login_attempts_are_throttled_per_address(client, session, app):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="throttled")
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    with app.app_context():
        limiter.reset()
    try:
        statuses = [login(client, "throttled", "wrong-password-x").status_code
                    for _ in range(4)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
        with app.app_context():
            limiter.reset()
    assert statuses == [401, 401, 401, 429]


def test_the_openapi_document_lists_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/tokens" in spec["paths"] and "/api/v1/categories" in spec["paths"]


def test_role_changes_on_the_organisation_page(client, session):
    from tests.factories.accounts import make_user

    admin = make_member(session, OrganisationKind.SUPPLIER, login="sup-boss")
    staff = make_user(session, admin.organisation, login="sup-staff",
                      roles=["supplier_operator"])
    login(client, "sup-boss")
    page = f"/organisations/{admin.organisation_id}"
    response = post_form(client, page, f"/users/{staff.id}/roles",
                         {"roles": ["supplier_operator", "supplier_admin"]})
    assert response.status_code == 302
    session.expire_all()
    assert {r.value for r in staff.roles} == {"supplier_operator", "supplier_admin"}
    response = post_form(client, page, f"/users/{staff.id}/roles", {})
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "至少" in follow or "At least" in follow
