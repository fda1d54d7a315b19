"""Security headers on every answer, redirects only to our own paths, and a lockout that does
not tell an existing login from an unknown one (issue 10, item 10)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Response, render_template_string

from mall.accounts import services
from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock
from mall.core.errors import AuthenticationRequired, TooManyRequests
from mall.web.security import safe_next, stored_document_policy
from tests.conftest import csrf_from, login, post_form
from tests.factories.accounts import make_member
from tests.factories.suppliers import admitted_supplier, listed_offer

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
EVIL_TARGETS = ["//evil.example/", "/\\evil.example/", "\\\\evil.example", "https://evil.example/",
                "javascript:alert(1)", "/\t/evil.example/", "/\n/evil.example", "http:/evil.example",
                "evil.example", " //evil.example/"]


def _policy(response) -> dict[str, list[str]]:
    text = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in text.split(";") if part.strip()}


def _assert_common_headers(response) -> dict[str, list[str]]:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = _policy(response)
    assert policy["frame-ancestors"] == ["'none'"]
    return policy


# -- headers ----------------------------------------------------------------------------------

def test_a_page_forbids_inline_script_and_style_and_being_framed(client):
    response = client.get("/login")
    assert response.status_code == 200
    policy = _assert_common_headers(response)
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert not any("stripe" in source for sources in policy.values() for source in sources)


def test_an_api_answer_and_error_answers_carry_the_headers(client, session):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert _assert_common_headers(answer)["default-src"] == ["'none'"]
    problem = client.get("/api/v1/orders/1")  # not logged in: a problem document
    assert problem.status_code == 401 and problem.mimetype == "application/problem+json"
    assert _assert_common_headers(problem)["default-src"] == ["'none'"]
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert _assert_common_headers(missing)["script-src"] == ["'self'"]
    with client.get("/static/mall.css") as static:
        assert static.status_code == 200
        _assert_common_headers(static)


def test_no_template_has_inline_script_event_handlers_or_inline_style():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.name == "contract.html":  # a stored, fingerprinted document with its own policy
            continue
        if path.name == "price_report_pdf.html":  # printed to PDF by WeasyPrint, never served
            continue
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text, flags=re.IGNORECASE):
            # A JSON data block (type="application/json") is never run: the CSP has nothing
            # to allow, and the page's script reads it with JSON.parse.
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.name}: inline {tag}")
        if re.search(r"<[^>]*\son[a-z]+\s*=", text, flags=re.IGNORECASE):
            offenders.append(f"{path.name}: inline event handler")
        if re.search(r"<style\b|\sstyle\s*=|=\s*[\"']?\s*javascript:", text, flags=re.IGNORECASE):
            offenders.append(f"{path.name}: inline style or javascript: URL")
    assert offenders == []


def test_only_a_page_that_loads_stripe_js_allows_stripe(app):
    with app.test_request_context("/orders/1"):
        url = render_template_string("{{ stripe_js_url() }}")
        policy = _policy(app.process_response(Response("<p>", mimetype="text/html")))
    origin = app.config["STRIPE_API_BASE"].rstrip("/")
    assert url == origin + "/js.stripe.com/v3/"  # localstripe's Stripe.js stand-in
    assert origin in policy["script-src"] and origin in policy["connect-src"]
    assert "'unsafe-inline'" not in policy["script-src"]


def test_with_real_stripe_the_card_page_allows_js_stripe_com(app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "https://api.stripe.com")
    with app.test_request_context("/orders/1"):
        url = render_template_string("{{ stripe_js_url() }}")
        policy = _policy(app.process_response(Response("<p>", mimetype="text/html")))
    assert url == "https://js.stripe.com/v3/"
    assert "https://js.stripe.com" in policy["script-src"]
    assert "https://js.stripe.com" in policy["frame-src"] and "'none'" not in policy["frame-src"]
    assert "https://api.stripe.com" in policy["connect-src"]


def test_a_stored_contract_allows_exactly_its_own_style_blocks():
    css = "\n  body { margin: 0; }\n"
    policy = stored_document_policy(f"<html><head><style>{css}</style></head><body>x</body>")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


# -- redirects --------------------------------------------------------------------------------

@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_safe_next_refuses_anything_but_a_path_of_this_site(target):
    assert safe_next(target, "/home") == "/home"


def test_safe_next_keeps_a_path_with_its_query():
    assert safe_next("/admin/reviews?page=2&q=a%2Fb", "/") == "/admin/reviews?page=2&q=a%2Fb"
    assert safe_next(None, "/") == "/" and safe_next("", "/x") == "/x"


def _location(response) -> str:
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/",
                                    "https://evil.example/", "javascript:alert(1)"])
def test_the_supplier_quick_edit_goes_back_only_to_our_own_pages(client, session, target):
    _user, actor = admitted_supplier(session, login="sup-back")
    listed_offer(session, actor, sku="BACK-1")
    login(client, "sup-back")
    response = post_form(client, "/supplier/offers", "/supplier/offers/BACK-1/quick",
                         {"price": "29.90", "stock": "3", "back": target})
    assert _location(response) == "/supplier/offers"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/",
                                    "https://evil.example/", "javascript:alert(1)"])
def test_login_language_and_operator_forms_go_only_to_our_own_pages(client, session, target):
    make_member(session, OrganisationKind.OPERATOR, login="op-back")
    page = client.get("/login").get_data(as_text=True)
    logged_in = client.post("/login", data={"login": "op-back", "password": "Correct-Horse-42",
                                            "next": target, "csrf_token": csrf_from(page)})
    assert _location(logged_in) == "/"
    language = post_form(client, "/", "/language/en", {"next": target})
    assert _location(language) == "/"
    categories = post_form(client, "/admin/categories", "/admin/categories",
                           {"codes": ["A05040101"], "action": "enable", "back": target})
    assert _location(categories) == "/admin/categories"
    decided = post_form(client, "/admin/reviews", "/admin/offers/decide",
                        {"offer_ids": ["999999"], "action": "approve", "back": target})
    assert _location(decided) == "/admin/reviews"


def test_an_own_path_is_still_followed(client, session):
    make_member(session, OrganisationKind.OPERATOR, login="op-back2")
    login(client, "op-back2")
    page = "/admin/categories?parent=A05040100"
    response = post_form(client, page, "/admin/categories",
                         {"codes": ["A05040101"], "action": "enable", "back": page})
    assert _location(response) == page


# -- lockout ----------------------------------------------------------------------------------

def _attempts(session, login_name: str, count: int) -> list[tuple[type, str, int]]:
    seen = []
    for _ in range(count):
        with pytest.raises((AuthenticationRequired, TooManyRequests)) as caught:
            services.authenticate(session, login=login_name, password="wrong-password",
                                  ip_address=None, max_failures=5, lock_minutes=15)
        seen.append((type(caught.value), caught.value.code, caught.value.status))
    return seen


def test_an_unknown_login_is_locked_like_an_existing_one(session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="real-buyer")
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with frozen_clock(start) as clock:
        existing = _attempts(session, "real-buyer", 7)
        unknown = _attempts(session, "nobody-here", 7)
        assert unknown == existing
        assert existing[4][1] == "invalid_credentials" and existing[5][1] == "account_locked"
        clock[0] = start + timedelta(minutes=16)  # both locks end after the same time
        assert _attempts(session, "real-buyer", 1) == _attempts(session, "Nobody-Here ", 1)


def test_the_login_page_answers_the_same_for_a_locked_and_an_unknown_login(client, session):
    make_member(session, OrganisationKind.PURCHASING_UNIT, login="page-buyer")

    def answers(name):
        out = []
        for _ in range(6):
            response = login(client, name, "wrong-password")
            message = re.search(r'role="alert"[^>]*>(.*?)<', response.get_data(as_text=True),
                                flags=re.DOTALL)
            out.append((response.status_code, message and message.group(1).strip()))
        return out

    existing, unknown = answers("page-buyer"), answers("page-nobody")
    assert unknown == existing
    assert existing[0][1] != existing[5][1]  # the sixth attempt says the login is locked
