"""The supplier API: offers one by one and in batches, prices and stock, delisting, reviews,
idempotent retries, and a supplier that can only ever see and touch its own offers."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from catalog.models import Offer, OfferStatus, PriceChange
from mall.accounts.services import actor_for, issue_token
from mall.core.auth import OrganisationKind, Role
from mall.core.idempotency import IdempotencyRecord
from suppliers.listings import save_offers
from tests.factories.accounts import make_member
from tests.factories.suppliers import DESKTOP, PAPER, admitted_supplier, offer_input

API = "/api/v1/supplier"
PROBLEM = "application/problem+json"


def bearer(session, user, scopes=("offers:write",)) -> dict[str, str]:
    """An Authorization header with a real token of the user's organisation."""
    _token, secret = issue_token(session, actor_for(user), name="ERP", scopes=list(scopes))
    session.flush()
    return {"Authorization": f"Bearer {secret}"}


def supplier_with_token(session, **kwargs):
    user, actor = admitted_supplier(session, **kwargs)
    return actor, bearer(session, user)


def offer_json(sku: str, **overrides) -> dict:
    """An offer as a client sends it in a batch: money in integer fen."""
    item = offer_input(sku)
    body = {"sku": sku, "category_code": item.category_code, "brand": item.brand,
            "model": item.model, "title": item.title, "price_fen": item.price_fen,
            "stock": item.stock, "reference_price_fen": item.reference_price_fen,
            "reference_url": item.reference_url, "reference_checked_on": "2026-11-20",
            "unit": item.unit, "attributes": item.attributes,
            "delivery_regions": list(item.delivery_regions)}
    body.update(overrides)
    return body


def save(session, actor, *items):
    return save_offers(session, actor, supplier_id=actor.organisation_id, items=list(items))


def offer_of(session, actor, sku) -> Offer:
    session.expire_all()
    return session.scalars(select(Offer).where(Offer.supplier_id == actor.organisation_id,
                                               Offer.supplier_sku == sku)).one()


def history_count(session, offer_id) -> int:
    return session.scalar(select(func.count()).where(PriceChange.offer_id == offer_id))


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["code"] == code and response.json["status"] == status
    return response.json


def test_a_batch_creates_offers_and_reports_refused_items_one_by_one(client, session):
    actor, headers = supplier_with_token(session, codes=(PAPER,))
    admitted_supplier(session, codes=(DESKTOP,))  # desktops are sold, just not by this one
    items = [offer_json("B-OK"),
             offer_json("B-DEAR", price_fen=3500, reference_price_fen=3290),
             offer_json("B-PC", category_code=DESKTOP),
             offer_json("B-OK", model="OTHER-1")]
    response = client.post(f"{API}/offers/batch", json={"items": items}, headers=headers)
    assert response.status_code == 200
    body = response.json
    assert [(r["sku"], r["outcome"], r["status"], r["error"]) for r in body["results"]] == [
        ("B-OK", "created", "listed", None),
        ("B-DEAR", "created", "pending_review", None),
        ("B-PC", "refused", None, "category_not_admitted"),
        ("B-OK", "refused", None, "duplicate_sku_in_batch")]
    assert body["results"][1]["reasons"] == ["above_reference_price"]
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 2,
                              "in_review": 1}
    assert offer_of(session, actor, "B-OK").id == body["results"][0]["offer_id"]


def test_put_creates_an_offer_then_updates_it_and_a_repeat_changes_nothing(client, session):
    actor, headers = supplier_with_token(session)
    sku = "JD/100 012#3"  # slashes, spaces and hashes travel URL-encoded
    url = f"{API}/offers/{quote(sku, safe='')}"
    body = offer_json(sku)
    del body["sku"]
    created = client.put(url, json=body, headers=headers)
    assert created.status_code == 201
    assert (created.json["sku"], created.json["outcome"], created.json["status"]) == (
        sku, "created", "listed")
    again = client.put(url, json=body, headers=headers)
    assert (again.status_code, again.json["outcome"]) == (200, "unchanged")
    cheaper = client.put(url, json={**body, "price_fen": 2890, "stock": 5}, headers=headers)
    assert (cheaper.status_code, cheaper.json["outcome"]) == (200, "updated")
    offer = offer_of(session, actor, sku)
    assert (offer.price_fen, offer.stock) == (2890, 5)

    detail = client.get(url, headers=headers)
    assert detail.status_code == 200
    assert detail.json["offer"]["sku"] == sku
    assert detail.json["offer"]["product"]["category_code"] == PAPER
    assert detail.json["offer"]["reference_checked_on"] == "2026-11-20"
    assert [(p["old_price_fen"], p["new_price_fen"]) for p in detail.json["price_history"]] == [
        (2990, 2890), (None, 2990)]


def test_put_into_a_category_the_supplier_is_not_admitted_for_is_a_problem(client, session):
    actor, headers = supplier_with_token(session, codes=(PAPER,))
    admitted_supplier(session, codes=(DESKTOP,))
    body = offer_json("PC-1", category_code=DESKTOP)
    del body["sku"]
    problem = assert_problem(client.put(f"{API}/offers/PC-1", json=body, headers=headers),
                             422, "category_not_admitted")
    assert "category_code" in problem["errors"]
    assert session.scalar(select(Offer).where(Offer.supplier_id == actor.organisation_id)) is None


def test_a_price_and_stock_batch_updates_each_sku_and_reports_unknown_ones(client, session):
    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("P-1"), offer_input("P-2"), offer_input("P-3"))
    response = client.post(f"{API}/offers/prices", headers=headers, json={"items": [
        {"sku": "P-1", "price_fen": 2500, "stock": 7},
        {"sku": "P-2", "stock": 0},
        {"sku": "P-3", "price_fen": 9999},
        {"sku": "NOPE", "price_fen": 100}]})
    assert response.status_code == 200
    assert [(r["sku"], r["outcome"], r["status"], r["error"])
            for r in response.json["results"]] == [
        ("P-1", "updated", "listed", None), ("P-2", "updated", "listed", None),
        ("P-3", "updated", "pending_review", None), ("NOPE", "refused", None, "unknown_sku")]
    assert response.json["results"][2]["reasons"] == ["above_reference_price"]
    first, second = offer_of(session, actor, "P-1"), offer_of(session, actor, "P-2")
    assert (first.price_fen, first.stock, second.price_fen, second.stock) == (2500, 7, 2990, 0)
    assert history_count(session, first.id) == 2 and history_count(session, second.id) == 1


def test_a_batch_of_10000_price_updates_is_accepted_and_10001_refused(client, session):
    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("BIG-0"))
    items = [{"sku": f"BIG-{n}", "stock": 1} for n in range(10_000)]
    response = client.post(f"{API}/offers/prices", json={"items": items}, headers=headers)
    assert response.status_code == 200
    counts = response.json["counts"]
    assert (counts["updated"], counts["refused"]) == (1, 9_999)

    items.append({"sku": "BIG-10000", "stock": 2})
    items[0]["stock"] = 50
    problem = assert_problem(client.post(f"{API}/offers/prices", json={"items": items},
                                         headers=headers), 422, "validation_failed")
    assert list(problem["errors"]) == ["items"]
    assert offer_of(session, actor, "BIG-0").stock == 1


def test_a_retry_with_the_same_key_returns_the_first_answer_and_repeats_nothing(client, session):
    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("R-1", price_fen=3000, reference=3290))
    offer_id = offer_of(session, actor, "R-1").id
    keyed = {**headers, "Idempotency-Key": "0b6f1e0a-retry-1"}
    body = {"items": [{"sku": "R-1", "price_fen": 2800}]}
    first = client.post(f"{API}/offers/prices", json=body, headers=keyed)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    assert first.json["results"][0]["outcome"] == "updated"
    retry = client.post(f"{API}/offers/prices", json=body, headers=keyed)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json  # "updated" again, not "unchanged"
    assert history_count(session, offer_id) == 2  # the creation and one change
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord).where(
        IdempotencyRecord.organisation_id == actor.organisation_id)) == 1

    batch = {"items": [offer_json("R-2")]}
    batch_key = {**headers, "Idempotency-Key": "batch-1"}
    created = client.post(f"{API}/offers/batch", json=batch, headers=batch_key)
    replayed = client.post(f"{API}/offers/batch", json=batch, headers=batch_key)
    assert replayed.json == created.json and created.json["counts"]["created"] == 1
    assert replayed.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_a_different_body_is_refused_and_changes_nothing(client, session):
    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("K-1"))
    keyed = {**headers, "Idempotency-Key": "key-used-twice"}
    client.post(f"{API}/offers/prices", json={"items": [{"sku": "K-1", "stock": 3}]},
                headers=keyed)
    reused = client.post(f"{API}/offers/prices", json={"items": [{"sku": "K-1", "stock": 9}]},
                         headers=keyed)
    assert_problem(reused, 409, "idempotency_key_reused")
    other_path = client.post(f"{API}/offers/delist", json={"skus": ["K-1"]}, headers=keyed)
    assert_problem(other_path, 409, "idempotency_key_reused")
    offer = offer_of(session, actor, "K-1")
    assert (offer.stock, offer.status) == (3, OfferStatus.LISTED)


def test_keys_belong_to_one_organisation(client, session):
    first, first_headers = supplier_with_token(session)
    second, second_headers = supplier_with_token(session)
    save(session, first, offer_input("SAME-SKU"))
    save(session, second, offer_input("SAME-SKU"))
    body = {"items": [{"sku": "SAME-SKU", "stock": 42}]}
    for headers in (first_headers, second_headers):
        response = client.post(f"{API}/offers/prices", json=body,
                               headers={**headers, "Idempotency-Key": "shared-key"})
        assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    assert offer_of(session, second, "SAME-SKU").stock == 42


def test_a_refused_request_stores_no_answer_so_a_corrected_retry_runs(client, session):
    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("F-1"))
    keyed = {**headers, "Idempotency-Key": "fix-and-retry"}
    bad = client.post(f"{API}/offers/prices", json={"items": [{"sku": "F-1", "stock": -1}]},
                      headers=keyed)
    assert_problem(bad, 422, "validation_failed")
    good = client.post(f"{API}/offers/prices", json={"items": [{"sku": "F-1", "stock": 1}]},
                       headers=keyed)
    assert good.status_code == 200 and good.json["results"][0]["outcome"] == "updated"
    too_long = client.post(f"{API}/offers/prices", json={"items": [{"sku": "F-1", "stock": 2}]},
                           headers={**headers, "Idempotency-Key": "k" * 101})
    assert "Idempotency-Key" in assert_problem(too_long, 422, "invalid_idempotency_key")["errors"]


@pytest.mark.parametrize("first_visible", [True, False])
def test_a_concurrent_duplicate_replays_the_first_answer_or_is_told_to_retry(
        client, session, monkeypatch, first_visible):
    """Simulates the race: the key is taken when claimed; its answer may not be visible yet."""
    import mall.web.idempotency as idempotency

    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("C-1"))
    keyed = {**headers, "Idempotency-Key": "racing"}
    body = {"items": [{"sku": "C-1", "price_fen": 2500}]}
    first = client.post(f"{API}/offers/prices", json=body, headers=keyed)
    real_find = idempotency.find_response
    lookups = []

    def find_late(session_, **kwargs):
        lookups.append(kwargs["key"])
        if not first_visible:
            return None  # the first request had not committed when we looked
        return real_find(session_, **kwargs)

    monkeypatch.setattr(idempotency, "find_response", find_late)
    second = client.post(f"{API}/offers/prices", json=body, headers=keyed)
    if first_visible:
        assert second.status_code == 200 and second.json == first.json
        assert second.headers["Idempotent-Replayed"] == "true"
    else:
        assert_problem(second, 409, "idempotency_key_in_flight")
    assert lookups == ["racing"]  # looked up once, after the claim found the key taken
    assert history_count(session, offer_of(session, actor, "C-1").id) == 2


def test_a_supplier_cannot_see_or_touch_another_suppliers_offer(client, session):
    owner, owner_headers = supplier_with_token(session)
    _rival, headers = supplier_with_token(session)
    save(session, owner, offer_input("MINE-1"))
    mine = offer_of(session, owner, "MINE-1")

    assert_problem(client.get(f"{API}/offers/MINE-1", headers=headers), 404, "not_found")
    prices = client.post(f"{API}/offers/prices", headers=headers,
                         json={"items": [{"sku": "MINE-1", "price_fen": 1, "stock": 0}]})
    assert prices.json["results"][0]["error"] == "unknown_sku"
    delist = client.post(f"{API}/offers/delist", json={"skus": ["MINE-1"]}, headers=headers)
    assert "skus.0" in assert_problem(delist, 404, "not_found")["errors"]
    listing = client.get(f"{API}/offers", headers=headers)
    assert listing.json["total"] == 0 and listing.json["items"] == []
    assert client.get(f"{API}/reviews", headers=headers).json["total"] == 0
    # SKUs are per supplier: the rival's PUT makes the rival's own offer, never the owner's.
    body = offer_json("MINE-1", price_fen=100)
    del body["sku"]
    put = client.put(f"{API}/offers/MINE-1", json=body, headers=headers)
    assert put.status_code == 201 and put.json["offer_id"] != mine.id

    after = offer_of(session, owner, "MINE-1")
    assert (after.price_fen, after.stock, after.status) == (2990, 100, OfferStatus.LISTED)
    assert history_count(session, mine.id) == 1
    assert client.get(f"{API}/offers/MINE-1", headers=owner_headers).status_code == 200


def test_buyers_and_tokens_without_offers_write_are_refused(client, session):
    buyer = make_member(session, OrganisationKind.PURCHASING_UNIT,  # approvers issue tokens
                        roles=[Role.BUYER, Role.APPROVER])
    supplier, _actor = admitted_supplier(session)
    cases = [(bearer(session, buyer, scopes=("catalog:read",)), "role_required"),
             (bearer(session, supplier, scopes=("catalog:read",)), "scope_required")]
    for headers, code in cases:
        assert_problem(client.get(f"{API}/offers", headers=headers), 403, code)
        assert_problem(client.post(f"{API}/offers/batch", json={"items": []}, headers=headers),
                       403, code)
        assert_problem(client.post(f"{API}/offers/prices", headers=headers,
                                   json={"items": [{"sku": "X", "stock": 1}]}), 403, code)
    assert_problem(client.get(f"{API}/reviews"), 401, "authentication_required")


def test_bad_offer_payloads_are_problems_with_field_errors(client, session):
    actor, headers = supplier_with_token(session)
    items = [offer_json("E-0", price_fen=29.9),
             offer_json("E-1", stock=-1),
             {k: v for k, v in offer_json("E-2").items() if k != "sku"},
             offer_json("E-3", colour="red"),
             offer_json("E-4", price_fen="2990", reference_price_fen=3290.0),
             offer_json("E-5", category_code="A0504", reference_checked_on="yesterday"),
             offer_json("E-6")]
    problem = assert_problem(client.post(f"{API}/offers/batch", json={"items": items},
                                         headers=headers), 422, "validation_failed")
    assert set(problem["errors"]) == {
        "items.0.price_fen", "items.1.stock", "items.2.sku", "items.3.colour",
        "items.4.price_fen", "items.4.reference_price_fen", "items.5.category_code",
        "items.5.reference_checked_on"}
    assert session.scalar(select(Offer).where(Offer.supplier_id == actor.organisation_id)) is None

    prices = client.post(f"{API}/offers/prices", headers=headers, json={"items": [
        {"sku": "E-6", "price_fen": 10.5}, {"sku": "E-6"}, {"sku": "E-6", "stock": True}]})
    assert set(assert_problem(prices, 422, "validation_failed")["errors"]) == {
        "items.0.price_fen", "items.1.price_fen", "items.2.stock"}
    duplicates = client.post(f"{API}/offers/prices", headers=headers, json={"items": [
        {"sku": "E-6", "stock": 1}, {"sku": "E-6", "stock": 2}]})
    assert set(assert_problem(duplicates, 422, "validation_failed")["errors"]) == {"items.1.sku"}
    empty = client.post(f"{API}/offers/batch", json={"items": []}, headers=headers)
    assert set(assert_problem(empty, 422, "validation_failed")["errors"]) == {"items"}
    not_json = client.post(f"{API}/offers/batch", data="price=1", headers=headers,
                           content_type="text/plain")
    assert not_json.status_code in (415, 422) and not_json.mimetype == PROBLEM
    long_sku = client.put(f"{API}/offers/{'S' * 65}", json={}, headers=headers)
    assert_problem(long_sku, 422, "validation_failed")
    query = client.get(f"{API}/offers?page_size=501&sort=colour&pagesize=3", headers=headers)
    assert set(assert_problem(query, 422, "validation_failed")["errors"]) == {
        "page_size", "sort", "pagesize"}


def test_reviews_show_why_an_overpriced_offer_waits_for_review(client, session):
    _actor, headers = supplier_with_token(session)
    client.post(f"{API}/offers/batch", headers=headers, json={"items": [
        offer_json("FAIR"), offer_json("DEAR", price_fen=3500, reference_price_fen=3290)]})
    reviews = client.get(f"{API}/reviews", headers=headers)
    assert reviews.status_code == 200 and reviews.json["total"] == 1
    decision = reviews.json["items"][0]
    assert (decision["sku"], decision["action"], decision["reasons"]) == (
        "DEAR", "queued", ["above_reference_price"])
    detail = client.get(f"{API}/offers/DEAR", headers=headers).json
    assert detail["offer"]["status"] == "pending_review"
    assert detail["offer"]["review_reasons"] == ["above_reference_price"]
    assert [d["action"] for d in detail["decisions"]] == ["queued"]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert client.get(f"{API}/reviews", query_string={"since": later},
                      headers=headers).json["total"] == 0


def test_offers_are_listed_with_filters_sorting_and_pages(client, session):
    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("L-1", price_fen=1000), offer_input("L-2", price_fen=3000),
         offer_input("L-3", price_fen=2000), offer_input("X-9", code=DESKTOP, price_fen=500,
                                                         reference=600),
         offer_input("L-4", price_fen=4000, reference=3290))

    def skus(**query):
        response = client.get(f"{API}/offers", query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        return response.json["total"], [o["sku"] for o in response.json["items"]]

    assert skus(sort="price_fen") == (5, ["X-9", "L-1", "L-3", "L-2", "L-4"])
    assert skus(sort="-price_fen", page_size=2, page=2) == (5, ["L-3", "L-1"])
    assert skus(sku="L-", status="listed", sort="sku") == (3, ["L-1", "L-2", "L-3"])
    assert skus(status="pending_review") == (1, ["L-4"])
    assert skus(category_code=DESKTOP) == (1, ["X-9"])
    assert skus(category_code="A05040000", sort="sku") == (4, ["L-1", "L-2", "L-3", "L-4"])
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert skus(updated_since=later) == (0, [])
    first = client.get(f"{API}/offers", query_string={"sku": "L-1"}, headers=headers).json
    assert first["items"][0]["product"]["category_code"] == PAPER
    assert first["items"][0]["price_fen"] == 1000


def test_a_supplier_delists_its_offers_in_one_call(client, session):
    actor, headers = supplier_with_token(session)
    save(session, actor, offer_input("D-1"), offer_input("D-2"))
    response = client.post(f"{API}/offers/delist", json={"skus": ["D-1", "D-2"]},
                           headers=headers)
    assert response.status_code == 200 and response.json == {"delisted": 2}
    assert offer_of(session, actor, "D-1").status is OfferStatus.DELISTED
    again = client.post(f"{API}/offers/delist", json={"skus": ["D-1"]}, headers=headers)
    assert again.json == {"delisted": 0}
    decisions = client.get(f"{API}/reviews", query_string={"sku": "D-2"}, headers=headers).json
    assert [d["action"] for d in decisions["items"]] == ["delisted_by_supplier"]


def test_the_openapi_document_describes_the_supplier_api(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert {"get"} <= set(paths[f"{API}/offers"])
    assert {"get", "put"} <= set(paths[f"{API}/offers/{{sku}}"])
    for name in ("batch", "prices", "delist"):
        operation = paths[f"{API}/offers/{name}"]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
        assert "409" in operation["responses"]
    assert "get" in paths[f"{API}/reviews"]
    prices = paths[f"{API}/offers/prices"]["post"]
    assert prices["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PriceBatch")
    schemas = spec["components"]["schemas"]
    assert {"OfferItem", "OfferBatch", "PriceUpdate", "PriceBatch", "BatchResult",
            "ItemResult", "Offer", "OfferDetail", "Decision"} <= set(schemas)
    assert schemas["PriceBatch"]["properties"]["items"]["maxItems"] == 10_000
    assert schemas["OfferItem"]["properties"]["price_fen"]["type"] == "integer"
    assert "sku" in schemas["OfferItem"]["required"]
