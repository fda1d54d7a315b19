"""A supplier's prices and stock pass the same rules whatever the door (page, API, import,
service), and the database refuses what gets past them: no offer at zero or less."""

import io

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from catalog.models import Offer, PriceChange
from mall.core.money import PRICE, STOCK
from suppliers.imports.service import create_import_job, run_import
from suppliers.listings import PriceStockUpdate, save_offers, update_prices
from tests.conftest import login, post_form
from tests.factories.suppliers import admitted_supplier, listed_offer, offer_input
from tests.suppliers.test_imports import csv_bytes, error_rows, offer_row
from tests.suppliers.test_supplier_api import assert_problem, bearer


def _offer(session, actor, sku) -> Offer:
    session.expire_all()
    return session.scalars(select(Offer).where(Offer.supplier_id == actor.organisation_id,
                                               Offer.supplier_sku == sku)).one()


def _history(session, offer_id) -> int:
    return session.scalar(select(func.count()).where(PriceChange.offer_id == offer_id))


@pytest.mark.parametrize(("price", "stock", "message"), [
    ("-0.50", "3", PRICE.message), ("0", "3", PRICE.message), ("1e30", "3", PRICE.message),
    ("99999999999999999999", "3", PRICE.message), ("29.90", "-1", STOCK.message),
    ("29.90", "99999999999", STOCK.message)])
def test_the_quick_edit_refuses_a_figure_out_of_range_and_keeps_the_offer_as_it_was(
        client, session, price, stock, message):
    _user, actor = admitted_supplier(session, login="sup-quick")
    listed_offer(session, actor, sku="Q-1")
    post_form(client, "/login", "/language/en", {"next": "/login"})
    login(client, "sup-quick")
    response = post_form(client, "/supplier/offers", "/supplier/offers/Q-1/quick",
                         {"price": price, "stock": stock})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Not saved" in page and message in page
    offer = _offer(session, actor, "Q-1")
    assert (offer.price_fen, offer.stock) == (2990, 100)
    assert _history(session, offer.id) == 1


@pytest.mark.parametrize(("change", "code"), [
    ({"price_fen": -50}, "price_fen_out_of_range"), ({"price_fen": 0}, "price_fen_out_of_range"),
    ({"price_fen": 10**20}, "price_fen_out_of_range"),
    ({"price_fen": 29.9}, "price_fen_out_of_range"), ({"stock": -1}, "stock_out_of_range"),
    ({"stock": 2**31}, "stock_out_of_range")])
def test_the_price_service_refuses_an_update_out_of_range_whoever_calls_it(session, change, code):
    _user, actor = admitted_supplier(session)
    listed_offer(session, actor, sku="S-1")
    report = update_prices(session, actor, supplier_id=actor.organisation_id, updates=[
        PriceStockUpdate("S-1", **change), PriceStockUpdate("S-2-UNKNOWN", price_fen=100)])
    assert [(r.outcome, r.error) for r in report.results] == [
        ("refused", code), ("refused", "unknown_sku")]
    offer = _offer(session, actor, "S-1")
    assert (offer.price_fen, offer.stock) == (2990, 100) and _history(session, offer.id) == 1


@pytest.mark.parametrize(("figures", "code"), [
    ({"price_fen": -50}, "price_fen_out_of_range"), ({"price_fen": 0}, "price_fen_out_of_range"),
    ({"price_fen": 10**13}, "price_fen_out_of_range"),
    ({"reference_price_fen": 0}, "reference_price_fen_out_of_range"),
    ({"stock": -3}, "stock_out_of_range"), ({"lead_time_days": 400}, "lead_time_days_out_of_range"),
    ({"warranty_months": -1}, "warranty_months_out_of_range")])
def test_saving_offers_refuses_an_item_out_of_range_and_keeps_the_rest_of_the_batch(
        session, figures, code):
    from dataclasses import replace

    _user, actor = admitted_supplier(session)
    bad = replace(offer_input("BAD-1"), **figures)
    report = save_offers(session, actor, supplier_id=actor.organisation_id,
                         items=[bad, offer_input("GOOD-1")])
    assert [(r.outcome, r.error) for r in report.results] == [("refused", code),
                                                               ("created", None)]
    assert session.scalar(select(func.count()).where(Offer.supplier_sku == "BAD-1")) == 0


@pytest.mark.parametrize(("figures", "field"), [
    ({"price_fen": -50}, "price_fen"), ({"price_fen": 10**20}, "price_fen"),
    ({"stock": -1}, "stock")])
def test_the_api_refuses_a_figure_out_of_range_next_to_its_field(client, session, figures,
                                                                  field):
    from tests.suppliers.test_supplier_api import offer_json

    user, actor = admitted_supplier(session)
    listed_offer(session, actor, sku="API-1")
    body = {k: v for k, v in offer_json("API-1").items() if k != "sku"}
    put = client.put("/api/v1/supplier/offers/API-1", json={**body, **figures},
                     headers=bearer(session, user))
    assert field in assert_problem(put, 422, "validation_failed")["errors"]
    prices = client.post("/api/v1/supplier/offers/prices",
                         json={"items": [{"sku": "API-1", **figures}]},
                         headers=bearer(session, user))
    assert assert_problem(prices, 422, "validation_failed")["errors"]
    offer = _offer(session, actor, "API-1")
    assert (offer.price_fen, offer.stock) == (2990, 100)


def test_an_import_reports_huge_and_negative_figures_per_row_and_imports_the_rest(
        session, tmp_path):
    _user, actor = admitted_supplier(session)
    rows = [offer_row("I-1", price="1e30"), offer_row("I-2", price="-0.50"),
            offer_row("I-3", stock="9" * 5000), offer_row("I-4")]
    job = create_import_job(session, actor, filename="offers.csv",
                            stream=io.BytesIO(csv_bytes(rows)), locale="en", var_dir=tmp_path,
                            max_bytes=10 * 1024 * 1024)
    job = run_import(session, job.id, var_dir=tmp_path)
    assert (job.status.value, job.rows_created, job.rows_invalid) == ("done", 1, 3)
    reasons = {(row[3], row[1]): row[2] for row in error_rows(tmp_path, job)[1:]}
    assert reasons == {("I-1", "price"): "is out of range (0.01–10,000,000,000)",
                       ("I-2", "price"): "is out of range (0.01–10,000,000,000)",
                       ("I-3", "stock"): "is out of range (0–1,000,000,000)"}


@pytest.mark.parametrize(("values", "constraint"), [
    ({"price_fen": -50}, "price_positive"), ({"price_fen": 0}, "price_positive"),
    ({"stock": -1}, "stock_not_negative"),
    ({"reference_price_fen": 0}, "reference_price_positive"),
    ({"lead_time_days": -1}, "terms_not_negative")])
def test_the_database_refuses_an_offer_figure_written_past_the_service(session, values,
                                                                        constraint):
    _user, actor = admitted_supplier(session)
    offer_id = listed_offer(session, actor, sku="DB-1").offer_id
    offers = Offer.__table__
    with pytest.raises(IntegrityError) as refused, session.begin_nested():
        session.execute(update(offers).where(offers.c.id == offer_id).values(**values))
    assert constraint in str(refused.value)
    row = session.execute(select(offers).where(offers.c.id == offer_id)).one()._asdict()
    with pytest.raises(IntegrityError), session.begin_nested():
        row.pop("id")
        session.execute(insert(offers).values(**{**row, "supplier_sku": "DB-2", **values}))
    assert _offer(session, actor, "DB-1").price_fen == 2990
