"""The order-step registry: every declared step is an API operation and a page action, both
taken through the one transition, with the same rules and the same timeline."""

from __future__ import annotations

import re

import pytest

from mall.core.errors import NotFound
from mall.purchasing import registry
from mall.purchasing.orders import steps
from mall.purchasing.orders.api import step_path
from mall.purchasing.orders.models import OrderStatus
from tests.conftest import post_form
from tests.purchasing.test_purchasing_api import API, Market, buy, make_market, step, to_signed
from tests.purchasing.test_purchasing_pages import _client


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def market(session) -> Market:
    return make_market(session)


def _operations(client) -> dict[str, dict]:
    document = client.get(f"{API}/openapi.json").get_json()
    return {path: ops["post"] for path, ops in document["paths"].items() if "post" in ops}


def test_every_declared_step_is_one_documented_api_operation(client):
    posted = _operations(client)
    for declared in registry.STEPS.values():
        path = API + re.sub(r"<int:(\w+)>", r"{\1}", step_path(declared))
        assert path in posted, f"no API operation for the step {declared.name} at {path}"
        operation = posted[path]
        # The step's own words document it, and who takes it.
        assert declared.doc and declared.doc.split(".")[0] in operation.get("description", "") + \
            operation.get("summary", ""), declared.name
        assert "Taken by:" in operation.get("description", ""), declared.name


def test_every_step_starts_from_states_or_checks_them_in_its_effect():
    for declared in registry.STEPS.values():
        assert declared.doc, f"the step {declared.name} has no description"
        assert declared.roles, f"the step {declared.name} names nobody who may take it"
        assert all(isinstance(s, OrderStatus) for s in declared.states)


def test_an_unknown_step_is_not_found(session, market):
    with pytest.raises(NotFound):
        steps.transition(session, market.supplier.actor, 1, "teleport", {})


def test_a_step_taken_on_the_page_and_through_the_api_leaves_the_same_timeline(
        app, session, client, market):
    by_api = buy(client, market)["id"]
    by_page = buy(client, market)["id"]
    to_signed(client, market, by_api)
    to_signed(client, market, by_page)
    shipped = step(client, market.supplier, by_api, "ship",
                   {"carrier": "顺丰", "tracking_number": "SF100"})
    assert shipped.status_code == 200, shipped.get_data(as_text=True)

    browser = _client(app, session, market.supplier.actor)
    answer = post_form(browser, f"/orders/{by_page}", f"/orders/{by_page}/ship",
                       {"carrier": "顺丰", "tracking_number": "SF100"})
    assert answer.status_code == 302, answer.get_data(as_text=True)

    def last_step(order_id: int) -> tuple[str, str]:
        order = client.get(f"{API}/orders/{order_id}", headers=market.buyer.headers).json
        entry = order["steps"][-1]
        return entry["status"], entry["note"]

    assert last_step(by_api) == last_step(by_page) == ("shipped", "顺丰 SF100")


def test_the_page_form_is_refused_with_the_apis_rules(app, session, client, market):
    order_id = buy(client, market)["id"]
    to_signed(client, market, order_id)
    browser = _client(app, session, market.supplier.actor)
    refused = post_form(browser, f"/orders/{order_id}", f"/orders/{order_id}/ship",
                        {"carrier": "顺丰", "tracking_number": "x" * 61})
    assert refused.status_code == 422
    assert 'id="ship-tracking_number-error"' in refused.get_data(as_text=True)
    api = step(client, market.supplier, order_id, "ship", {"carrier": "顺丰", "tracking_number": "x" * 61})
    assert api.status_code == 422 and "tracking_number" in api.json["errors"]
