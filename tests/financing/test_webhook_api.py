"""A bank manages its webhook endpoints through the API: adds one (the secret is answered
once), rotates the secret, reads the delivery log, replays a delivery and switches the
endpoint off; an address inside a network is refused, and another bank sees none of it."""

from __future__ import annotations

from datetime import timedelta

from financing import consent
from financing.feed import sequence_changes
from mall.core.clock import local_today
from mall.purchasing.orders import services as orders
from tests.factories.financing import confirmed_orders, make_bank
from tests.financing.test_feed_api import assert_problem, bearer

API = "/api/v1/finance/webhooks"


def test_a_bank_adds_rotates_reads_replays_and_switches_off_its_endpoint(app, session, client):
    deal = confirmed_orders(session, count=1)
    bank, other = make_bank(session), make_bank(session)
    own, theirs = bearer(session, bank), bearer(session, other)

    inside = client.post(API, json={"url": "https://169.254.169.254/latest/meta-data"},
                         headers=own)
    assert "url" in assert_problem(inside, 422, "validation_failed")["errors"]
    added = client.post(API, json={"url": "https://bank.example.com/mall",
                                   "events": ["order.cancelled"]}, headers=own)
    assert added.status_code == 201, added.get_data(as_text=True)
    endpoint = added.json
    assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == ["order.cancelled"]
    listed = client.get(API, headers=own).json
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert client.get(API, headers=theirs).json == []

    rotated = client.post(f"{API}/{endpoint['id']}/rotate", headers=own).json
    assert rotated["secret"] != endpoint["secret"]
    assert_problem(client.post(f"{API}/{endpoint['id']}/rotate", headers=theirs), 404,
                   "not_found")

    # An event for the endpoint: the supplier consents, then the order is cancelled (as the
    # 72-hour sweep cancels one).
    consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id, scope="all",
                  expires_on=local_today() + timedelta(days=30))
    orders.cancel_unconfirmed(session, deal.orders[0], "测试取消")
    while sequence_changes(session):
        pass
    log = client.get(f"{API}/deliveries", headers=own).json
    assert [d["event_type"] for d in log] == ["order.cancelled"]
    assert client.get(f"{API}/deliveries", headers=theirs).json == []
    assert_problem(client.post(f"{API}/deliveries/{log[0]['id']}/replay", headers=theirs),
                   404, "not_found")

    off = client.post(f"{API}/{endpoint['id']}/deactivate", headers=own)
    assert off.status_code == 200 and off.json["active"] is False
    failed = client.get(f"{API}/deliveries?status=failed", headers=own).json
    assert [d["id"] for d in failed] == [log[0]["id"]]

    # The bank's page names the event and the reason in words, not codes.
    from mall.accounts.models import User
    from tests.conftest import login

    with app.test_client() as browser:
        login(browser, session.get_one(User, bank.user_id).login)
        page = browser.get("/financing/bank").get_data(as_text=True)
    assert "订单已取消" in page and "order.cancelled" not in page
