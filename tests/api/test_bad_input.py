"""Bad input is refused with a 4xx problem document and a stable code, never a 500.

Each case was seen by an outside probe: malformed JSON bodies on every JSON operation,
deeply nested JSON, ids and numbers past 64 bits in paths, queries, bodies and forms, a
signed webhook with a malformed body, a zip of garbage named .xlsx, POST /api/v1/tokens
failing every time, and titles, reasons and budget lines that should have been refused.
The walks go through the OpenAPI document, so an operation added later is covered too.
"""

from __future__ import annotations

import re
import time

import pytest
import stripe

from mall.accounts import services
from mall.core.auth import ROLES_BY_KIND, SCOPES_BY_KIND, OrganisationKind, Role, Scope
from mall.core.inputs import MAX_BIGINT, MAX_ID
from tests.conftest import csrf_from, login
from tests.factories.accounts import make_member

API = "/api/v1"
PROBLEM = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")
HUGE = 10**20  # past 64 bits
MALFORMED = {
    "open brace": b"{",
    "open bracket": b"[",
    "nul byte": b"\x00",
    "byte-order mark": b"\xef\xbb\xbf{}",
    "not utf-8": b"\xff\xfe{\x00}\x00",
    "nan": b'{"reason": NaN}',
    "1e999": b'{"quantity": 1e999}',
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "lone surrogate": b'{"reason": "\\ud800"}',
}


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"] == f"/problems/{body['code']}"
    if code is not None:
        assert body["code"] == code, body
    return body


def _document(client) -> dict:
    return client.get(f"{API}/openapi.json").get_json()


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _fill(path: str, value=1) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: "A02010104" if m.group(1) == "code"
                  else ("SKU-1" if m.group(1) == "sku" else str(value)), path)


@pytest.fixture
def tokens(session) -> dict[OrganisationKind, str]:
    """A bearer header per kind of organisation: a user with every role, a token with every scope."""
    headers = {}
    for kind in (OrganisationKind.PURCHASING_UNIT, OrganisationKind.SUPPLIER,
                 OrganisationKind.OPERATOR, OrganisationKind.FINANCE_PARTNER):
        user = make_member(session, kind, roles=sorted(ROLES_BY_KIND[kind]))
        _, secret = services.issue_token(session, services.actor_for(user), name="probe",
                                         scopes=sorted(s.value for s in SCOPES_BY_KIND[kind]))
        headers[kind] = {"Authorization": f"Bearer {secret}"}
    session.flush()
    return headers


def _caller(tokens, operation) -> dict:
    """The headers of a caller the operation's access rule lets through."""
    if operation.get("security") == []:
        return {}
    scope = Scope(operation["x-required-scope"])
    roles = {Role(r) for r in operation.get("x-required-roles", [])}
    kind = next(k for k in tokens if scope in SCOPES_BY_KIND[k]
                and (not roles or roles & ROLES_BY_KIND[k]))
    return tokens[kind]


# -- malformed JSON bodies ---------------------------------------------------------------------

@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_json_body_is_a_400_malformed_json_on_every_json_operation(client, tokens, body):
    walked = 0
    for path, method, operation in _operations(_document(client)):
        if "application/json" not in operation.get("requestBody", {}).get("content", {}):
            continue
        if path.endswith("/stripe-webhook"):
            continue  # the signature is checked first (tests of the webhook below)
        answer = client.open(_fill(path), method=method.upper(), data=body,
                             headers={**_caller(tokens, operation),
                                      "Content-Type": "application/json"})
        problem = assert_problem(answer, 400, "malformed_json")
        assert problem["errors"]["_body"], (method, path)
        walked += 1
    assert walked >= 20


def test_a_json_body_that_is_not_an_object_is_a_field_error(client, tokens):
    headers = tokens[OrganisationKind.PURCHASING_UNIT]
    for body in ([], "x", 1, None):
        answer = client.post(f"{API}/cart/items", json=body, headers=headers)
        assert_problem(answer, 422, "validation_failed")


# -- numbers past 64 bits ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [HUGE, MAX_BIGINT + 1, MAX_ID + 1, 0])
def test_an_id_outside_the_database_range_in_any_path_is_not_found(client, tokens, value):
    document = _document(client)
    walked = 0
    for path, method, operation in _operations(document):
        params = operation.get("parameters", []) + document["paths"][path].get("parameters", [])
        if not any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in params):
            continue
        answer = client.open(_fill(path, value), method=method.upper(), json={},
                             headers=_caller(tokens, operation))
        assert_problem(answer, 404, "not_found")
        walked += 1
    assert walked >= 20


def test_the_seen_oversize_order_id_is_not_found(client, tokens):
    answer = client.get(f"{API}/orders/99999999999999999999",
                        headers=tokens[OrganisationKind.PURCHASING_UNIT])
    assert_problem(answer, 404, "not_found")


def test_every_integer_query_parameter_past_its_bound_is_a_field_error(client, tokens):
    walked = 0
    for path, method, operation in _operations(_document(client)):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query" or parameter["schema"].get("type") != "integer":
                continue
            url = f"{_fill(path)}?{parameter['name']}={10**30}"
            answer = client.open(url, method=method.upper(), headers=_caller(tokens, operation))
            problem = assert_problem(answer, 422, "validation_failed")
            assert parameter["name"] in problem["errors"], (path, problem)
            walked += 1
    assert walked >= 6  # page and page_size of orders, notices, offers, reviews, search


def test_the_document_bounds_every_integer_the_api_reads(client):
    """Every integer in a path, query or request body has a maximum the database can hold."""
    document = _document(client)
    schemas = document["components"]["schemas"]
    unbounded = []

    def walk(schema, where):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(schemas[name], name)
            return
        if schema.get("type") == "integer" and not schema.get("maximum", MAX_BIGINT + 1) <= MAX_BIGINT:
            unbounded.append(where)
        for name, inner in schema.get("properties", {}).items():
            walk(inner, f"{where}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key], f"{where}[]")

    for path, method, operation in _operations(document):
        seen: set[str] = set()
        for parameter in operation.get("parameters", []) + document["paths"][path].get(
                "parameters", []):
            walk(parameter["schema"], f"{method} {path} {parameter['name']}")
        for media in operation.get("requestBody", {}).get("content", {}).values():
            walk(media["schema"], f"{method} {path} body")
    assert unbounded == [], "\n".join(unbounded)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/cart/items", {"offer_id": HUGE, "quantity": 1}, "offer_id"),
    ("/orders/checkout", {"budget_line_id": HUGE, "delivery_address": "长沙", "contact": "李四"},
     "budget_line_id"),
    ("/orders/checkout", {"budget_line_id": 1, "delivery_address": "长沙", "contact": "李四",
                          "items": [{"offer_id": HUGE, "quantity": 1}]}, "items.0.offer_id"),
    ("/orders/checkout", {"budget_line_id": 1, "delivery_address": "长沙", "contact": "李四",
                          "offer_ids": [HUGE]}, "offer_ids.0"),
])
def test_an_oversize_id_in_a_body_is_a_field_error(client, tokens, path, body, field):
    answer = client.post(API + path, json=body, headers=tokens[OrganisationKind.PURCHASING_UNIT])
    problem = assert_problem(answer, 422, "validation_failed")
    assert field in problem["errors"], problem


def test_an_oversize_order_line_id_in_a_confirmation_is_a_field_error(client, tokens):
    answer = client.post(f"{API}/orders/1/confirm", json={"prices": {str(HUGE): 100}},
                         headers=tokens[OrganisationKind.SUPPLIER])
    problem = assert_problem(answer, 422, "validation_failed")
    assert any(key.startswith("prices") for key in problem["errors"]), problem


# -- POST /api/v1/tokens -----------------------------------------------------------------------

def test_a_person_issues_a_token_through_the_api(client, session):
    approver = make_member(session, OrganisationKind.PURCHASING_UNIT, roles=[Role.APPROVER])
    session.flush()
    assert login(client, approver.login).status_code == 302
    csrf = csrf_from(client.get("/account/tokens").get_data(as_text=True))
    answer = client.post(f"{API}/tokens", json={"name": "ERP", "scopes": ["orders:read"]},
                         headers={"X-CSRFToken": csrf})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    issued = answer.get_json()
    assert issued["name"] == "ERP" and issued["scopes"] == ["orders:read"]
    assert issued["created_at"] and issued["token"].startswith(issued["token"].split("_")[0])
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {issued['token']}"})
    assert me.status_code == 403  # the new token works: known, but it lacks account:read
    assert me.get_json()["code"] == "scope_required"


# -- the Stripe webhook ------------------------------------------------------------------------

def _signed(app, payload: bytes) -> dict:
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(
        f"{timestamp}.{payload.decode('utf-8', 'replace')}", secret)
    return {"Stripe-Signature": f"t={timestamp},v1={signature}",
            "Content-Type": "application/json"}


@pytest.mark.parametrize("payload", [b"[]", b"{}", b'"x"', b"1", b'{"id": 1, "type": []}',
                                     b'{"id": "evt_1", "type": "x", "created": "soon"}',
                                     b'{"id": "evt_1", "type": "x", "created": 1, "data": []}',
                                     b'{"id": "evt_1", "type": "x", "created": 1, '
                                     b'"data": {"object": {"object": "charge", "amount": "x"}}}',
                                     b'{"id": "evt_1", "type": "x", "created": 1e999}'])
def test_a_signed_webhook_with_a_malformed_body_is_a_400(app, client, payload):
    answer = client.post(f"{API}/payments/stripe-webhook", data=payload,
                         headers=_signed(app, payload))
    assert_problem(answer, 400, "webhook_payload_invalid")


def test_a_webhook_signed_with_another_secret_is_refused(client):
    payload = b'{"id": "evt_1"}'
    answer = client.post(f"{API}/payments/stripe-webhook", data=payload,
                         headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"})
    assert_problem(answer, 400, "webhook_signature_invalid")


# -- free text with control characters, budget lines for codes that do not exist -------------

def test_an_offer_title_with_control_characters_is_refused_at_every_door(client, session, tmp_path):
    from dataclasses import replace

    from suppliers.listings import save_offers
    from tests.factories.suppliers import admitted_supplier, offer_input
    from tests.suppliers.test_imports import csv_bytes, do_import, error_rows, offer_row

    user, actor = admitted_supplier(session)
    _, secret = services.issue_token(session, services.actor_for(user), name="probe",
                                     scopes=["offers:write"])
    body = {"category_code": "A05040101", "brand": "得力", "model": "ZB-1",
            "title": "A4复印纸\x1b[31m", "price_fen": 2990, "stock": 10}
    answer = client.put(f"{API}/supplier/offers/SKU-CTRL", json=body,
                        headers={"Authorization": f"Bearer {secret}"})
    assert "title" in assert_problem(answer, 422, "validation_failed")["errors"]
    # The service refuses it whatever the door (a batch through the service, an import).
    report = save_offers(session, actor, supplier_id=actor.organisation_id,
                         items=[replace(offer_input(sku="SKU-NUL"), title="纸\x00")])
    assert report.results[0].error == "title_control_characters"
    job = do_import(session, actor, tmp_path, csv_bytes([offer_row("I-1", title="纸\u202e张")]))
    rows = error_rows(tmp_path, job)
    assert rows[1][0] == "2" and "控制字符" in rows[1][2], rows


@pytest.mark.parametrize("reason", ["缺货\x00", "缺货\x1b", "缺\u202e货"])
def test_a_reason_with_control_characters_is_a_field_error(client, tokens, session, reason):
    from mall.core.errors import ValidationFailed
    from mall.purchasing.orders.steps import require_reason

    answer = client.post(f"{API}/orders/1/decline", json={"reason": reason},
                         headers=tokens[OrganisationKind.SUPPLIER])
    assert "reason" in assert_problem(answer, 422, "validation_failed")["errors"]
    with pytest.raises(ValidationFailed) as refused:
        require_reason(reason)  # every order step with a reason (decline, cancel, return)
    assert "reason" in refused.value.errors
    require_reason("缺货，\r\n下周补货")  # line breaks are fine


def test_operator_reasons_with_control_characters_are_refused(session):
    from mall.core.errors import ValidationFailed
    from suppliers import admission, moderation
    from tests.factories.suppliers import operator_actor

    operator = operator_actor(session)
    with pytest.raises(ValidationFailed) as refused:
        moderation.decide_offers(session, operator, offer_ids=[1], action="reject",
                                 reason="价格\x07")
    assert "reason" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        admission.decide_application(session, operator, application_id=HUGE, decision="reject",
                                     reason="资料\x00不全")
    assert "reason" in refused.value.errors


@pytest.mark.parametrize(("code", "refused"), [("A99999999", True), ("A02010105", False),
                                                 ("A00000000", False), ("A0201010", True)])
def test_a_budget_line_is_for_a_code_of_the_catalogue(client, tokens, session, code, refused):
    body = {"fiscal_year": 2026, "project_code": "2026-BG-9", "project_name": "办公设备",
            "category_code": code, "amount_fen": 100_000}
    answer = client.post(f"{API}/budget-lines", json=body,
                         headers=tokens[OrganisationKind.PURCHASING_UNIT])
    if refused:
        assert "category_code" in assert_problem(answer, 422, "validation_failed")["errors"]
    else:
        assert answer.status_code == 201, answer.get_json()


def test_a_budget_line_project_name_with_control_characters_is_refused(client, tokens):
    body = {"fiscal_year": 2026, "project_code": "2026-BG-9", "project_name": "办公\x00设备",
            "category_code": "A02010105", "amount_fen": 100_000}
    answer = client.post(f"{API}/budget-lines", json=body,
                         headers=tokens[OrganisationKind.PURCHASING_UNIT])
    assert "project_name" in assert_problem(answer, 422, "validation_failed")["errors"]


# -- uploads -------------------------------------------------------------------------------------

def _zip(parts: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_CONTENT_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                  b'2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="'
                  b'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  b'</Types>')


@pytest.mark.parametrize("content", [
    _zip({"garbage.bin": b"\x00\x01garbage"}),
    _zip({"[Content_Types].xml": b"garbage"}),
    _zip({"[Content_Types].xml": _CONTENT_TYPES, "xl/workbook.xml": b"garbage"}),
    _zip({"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": b"garbage",
          "xl/workbook.xml": b"<x/>"}),
], ids=["no parts", "garbage content types", "garbage workbook", "garbage relations"])
def test_a_zip_of_garbage_named_xlsx_fails_the_import_as_bad_xlsx(session, tmp_path, content):
    from suppliers.models import ImportStatus
    from tests.factories.suppliers import admitted_supplier
    from tests.suppliers.test_imports import do_import

    _user, actor = admitted_supplier(session)
    job = do_import(session, actor, tmp_path, content, filename="offers.xlsx")
    assert (job.status, job.failure) == (ImportStatus.FAILED, "bad_xlsx")


def test_a_workbook_whose_sheet_is_garbage_fails_as_bad_xlsx(session, tmp_path):
    import io
    import zipfile

    import openpyxl

    from suppliers.models import ImportStatus
    from tests.factories.suppliers import admitted_supplier
    from tests.suppliers.test_imports import do_import

    workbook = openpyxl.Workbook()
    workbook.active.append(["supplier_sku", "title"])
    saved = io.BytesIO()
    workbook.save(saved)
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved.getvalue())) as source, \
            zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, b"<worksheet><sheetData><row>" if "worksheets" in item.filename
                            else data)
    _user, actor = admitted_supplier(session)
    job = do_import(session, actor, tmp_path, broken.getvalue(), filename="offers.xlsx")
    assert (job.status, job.failure) == (ImportStatus.FAILED, "bad_xlsx")


def test_a_deeply_nested_json_line_is_a_bad_row_not_a_crash(session, tmp_path):
    from suppliers.models import ImportStatus
    from tests.factories.suppliers import admitted_supplier
    from tests.suppliers.test_imports import do_import

    _user, actor = admitted_supplier(session)
    job = do_import(session, actor, tmp_path, b"[" * 100_000 + b"]" * 100_000 + b"\n",
                    filename="offers.jsonl")
    assert job.status is ImportStatus.DONE and job.error_path


# -- pages (form posts and links) with oversize numbers -----------------------------------------

@pytest.mark.parametrize(("kind", "roles", "url"), [
    (OrganisationKind.PURCHASING_UNIT, [Role.BUYER], "/orders?page=" + "9" * 30),
    (OrganisationKind.SUPPLIER, [Role.SUPPLIER_ADMIN], "/supplier/offers?page=" + "9" * 30),
    (OrganisationKind.OPERATOR, [Role.OPERATOR], "/admin/reviews?page=" + "9" * 30),
])
def test_a_page_link_with_an_oversize_number_shows_the_first_page(client, session, kind, roles, url):
    user = make_member(session, kind, roles=roles)
    session.flush()
    assert login(client, user.login).status_code == 302
    assert client.get(url).status_code == 200


def test_a_form_with_an_oversize_number_shows_a_field_error(client, session):
    from tests.factories.purchasing import make_unit, supplier_with_offers

    unit = make_unit(session)
    _user, _actor, (offer_id,) = supplier_with_offers(session)
    session.flush()
    assert login(client, unit.buyer_user.login).status_code == 302
    page = client.get("/cart")
    token = csrf_from(page.get_data(as_text=True))
    assert client.post("/cart/add", data={"offer_id": offer_id, "quantity": 1,
                                          "csrf_token": token}).status_code in (200, 302)
    answer = client.post("/cart/update", data={f"quantity-{offer_id}": "9" * 30,
                                               "csrf_token": token})
    assert answer.status_code in (200, 422), answer.status_code
    assert answer.status_code != 500
    removed = client.post("/cart/remove", data={"offer_id": "9" * 30, "csrf_token": token})
    assert removed.status_code < 500
    checkout = client.post("/checkout", data={"budget_line_id": "9" * 30, "csrf_token": token,
                                              "delivery_address": "长沙", "contact": "李四"})
    assert checkout.status_code < 500


def test_a_supplier_registration_with_oversize_figures_shows_field_errors(client, session):
    from tests.factories.accounts import credit_code
    from tests.suppliers.test_supplier_pages import REGISTRATION, _enable

    _enable(session, "A05040101", "A02010105")
    page = client.get("/supplier/register").get_data(as_text=True)
    answer = client.post("/supplier/register", data={
        **REGISTRATION, "credit_code": credit_code(OrganisationKind.SUPPLIER),
        "employees": "9" * 30, "revenue_wan": "1" + "0" * 25, "csrf_token": csrf_from(page)})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="employees-error"' in html and 'id="revenue_wan-error"' in html


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31",
                                   "date_from=0001-01-01&date_to=0001-01-01"])
def test_a_date_at_the_end_of_the_calendar_is_a_field_error(client, query):
    """Found by the fuzz run: midnight of 0001-01-01 in Shanghai is before year 1 in UTC."""
    answer = client.get(f"{API}/notices?{query}")
    problem = assert_problem(answer, 422, "validation_failed")
    assert set(problem["errors"]) <= {"date_from", "date_to"}


def test_a_token_expiry_at_the_end_of_the_calendar_is_a_field_error(client, session):
    approver = make_member(session, OrganisationKind.PURCHASING_UNIT, roles=[Role.APPROVER])
    session.flush()
    assert login(client, approver.login).status_code == 302
    csrf = csrf_from(client.get("/account/tokens").get_data(as_text=True))
    answer = client.post(f"{API}/tokens", json={"name": "ERP", "scopes": ["orders:read"],
                                                "expires_at": "0001-01-01T00:00:00+08:00"},
                         headers={"X-CSRFToken": csrf})
    assert "expires_at" in assert_problem(answer, 422, "validation_failed")["errors"]


# -- NUL characters: no database column can store one -------------------------------------------

def test_a_nul_in_any_query_parameter_is_a_field_error_not_a_crash(client, tokens, session):
    """Seen by the fuzz run on PostgreSQL: GET /supplier/offers?sku=…%00 answered 500."""
    document = _document(client)
    walked = 0
    for path, method, operation in _operations(document):
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
                 and p.get("schema", {}).get("type") == "string"]
        for name in names:
            answer = client.open(_fill(path), method=method.upper(),
                                 query_string={name: "A\x00B"}, headers=_caller(tokens, operation))
            body = assert_problem(answer, 422, "validation_failed")
            assert name in body["errors"], (method, path, name)
            walked += 1
    assert walked >= 5


def test_a_nul_in_a_json_string_or_a_page_form_is_a_field_error(client, tokens, session):
    answer = client.post("/api/v1/budget-lines", headers=tokens[OrganisationKind.PURCHASING_UNIT],
                         data=b'{"name": "A\\u0000B"}', content_type="application/json")
    assert "name" in assert_problem(answer, 422, "validation_failed")["errors"]
    buyer = make_member(session, OrganisationKind.PURCHASING_UNIT)
    session.flush()
    login(client, buyer.login)
    page = client.get("/search?q=%E7%BA%B8%00")
    assert page.status_code == 422
    assert "NUL" in page.get_data(as_text=True) or "空字符" in page.get_data(as_text=True)
