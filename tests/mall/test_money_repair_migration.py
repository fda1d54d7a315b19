"""Migration 0009 repairs what the negative-price hole left (offers, open and cancelled
orders, budget, running totals, carts) before the database starts refusing such figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from tests.conftest import build_app, dispose, make_database_url

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _filled(table: sa.Table, values: dict) -> dict:
    """``values`` plus a plain value for every other required column of ``table``."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key \
                or column.server_default is not None:
            continue
        kind = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        row[column.name] = {int: 0, bool: False, str: "x", dict: {}, list: [],
                            date: NOW.date()}.get(kind, NOW)
    return row


class Seeder:
    """Rows written straight into a database at revision 0008, as the hole left them."""

    def __init__(self, connection):
        self.connection = connection
        self.tables = sa.MetaData()
        self.tables.reflect(connection)

    def add(self, table_name: str, /, **values) -> int:
        table = self.tables.tables[table_name]
        return self.connection.execute(sa.insert(table).values(_filled(table, values))
                                       .returning(table.c.id)).scalar_one()


@pytest.fixture
def database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("money0009")
    application = build_app(make_database_url(tmp, "money0009"), tmp / "var")
    try:
        yield application
    finally:
        dispose(application)


def _seed(seeder: Seeder) -> dict[str, int]:
    add = seeder.add
    buyer_org = add("organisations", kind="purchasing_unit", name="某单位", active=True,
                    region_code="430100")
    supplier = add("organisations", kind="supplier", name="某供应商", active=True,
                   region_code="430100")
    buyer = add("users", organisation_id=buyer_org, login="buyer-0009", active=True)
    category = add("categories", version="2022", code="A05040101", name="复印纸", level=4,
                   section="A", is_leaf=True, enabled=True)
    product = add("products", category_id=category, brand="得力", model="ZB-1", model_key="zb1",
                  title="复印纸", unit="包", attributes={})
    offer = add("offers", product_id=product, supplier_id=supplier, supplier_sku="NEG-1",
                price_fen=-50, stock=97, delivery_regions=[], lead_time_days=3,
                warranty_months=12, status="listed", review_reasons=[])
    add("price_changes", offer_id=offer, changed_at=NOW, old_price_fen=None, new_price_fen=2990)
    add("price_changes", offer_id=offer, changed_at=NOW, old_price_fen=2990, new_price_fen=-50)
    # The budget line holds what the hole did: a reservation of -100 fen.
    line = add("budget_lines", organisation_id=buyer_org, fiscal_year=2026, project_code="P",
               project_name="P", category_code="A00000000", amount_fen=50_000_000,
               reserved_fen=-100, committed_fen=0, spent_fen=0)
    add("category_spend", organisation_id=buyer_org, fiscal_year=2026,
        category_code="A05040101", total_fen=-100)
    ids = {"offer": offer, "line": line, "buyer_org": buyer_org, "supplier": supplier}
    for number, status, state in (("DP-OPEN", "sent", "reserved"),
                                  ("DP-DONE", "cancelled", "released")):
        checkout = add("checkouts", user_id=buyer, token=number)
        order = add("orders", number=number, checkout_id=checkout, buyer_org_id=buyer_org,
                    buyer_user_id=buyer, supplier_id=supplier, budget_line_id=line,
                    fiscal_year=2026, status=status, total_fen=-100, budget_state=state,
                    secret=False, submitted_at=NOW, paid_fen=0, refunded_fen=0,
                    cancel_reason="buyer changed mind" if status == "cancelled" else None)
        add("order_lines", order_id=order, offer_id=offer, product_id=product,
            category_code="A05040101", title="复印纸", brand="得力", model="ZB-1", unit="包",
            quantity=2, unit_price_fen=-50)
        if status == "cancelled":
            add("order_steps", order_id=order, status="cancelled", at=NOW, note="buyer changed mind")
        ids[number] = order
    add("cart_items", user_id=buyer, offer_id=offer, quantity=0, added_at=NOW)
    return ids


def test_the_upgrade_repairs_negative_prices_then_the_database_refuses_them(database):
    from mall.extensions import db

    with database.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as connection:
            ids = _seed(Seeder(connection))
        upgrade()
        with db.engine.begin() as connection:
            tables = sa.MetaData()
            tables.reflect(connection)
            t = tables.tables

            def one(name, **where):
                table = t[name]
                query = sa.select(table)
                for key, value in where.items():
                    query = query.where(table.c[key] == value)
                return connection.execute(query.order_by(table.c.id)).all()

            (offer,) = one("offers", id=ids["offer"])
            # The last price above zero is back; the offer waits for an operator. The stock
            # of the cancelled open order (2) came back.
            assert (offer.price_fen, offer.status, offer.review_reasons, offer.stock) == (
                2990, "pending_review", ["invalid_price"], 99)
            history = [(h.old_price_fen, h.new_price_fen)
                       for h in one("price_changes", offer_id=ids["offer"])]
            assert history == [(None, 2990), (2990, -50), (-50, 2990)]
            (decision,) = one("listing_decisions", offer_id=ids["offer"])
            assert decision.reasons == ["invalid_price"] and decision.action == "queued"

            (open_order,) = one("orders", id=ids["DP-OPEN"])
            assert (open_order.status, open_order.budget_state, open_order.total_fen) == (
                "cancelled", "released", 0)
            assert [ln.unit_price_fen for ln in one("order_lines", order_id=ids["DP-OPEN"])] == [0]
            (step,) = one("order_steps", order_id=ids["DP-OPEN"])
            assert step.status == "cancelled" and "-50 fen" in step.note
            assert {n.organisation_id for n in one("notifications", order_id=ids["DP-OPEN"])} \
                == {ids["buyer_org"], ids["supplier"]}

            (done,) = one("orders", id=ids["DP-DONE"])
            assert (done.status, done.total_fen, done.cancel_reason) == (
                "cancelled", 0, "buyer changed mind")
            (done_step,) = one("order_steps", order_id=ids["DP-DONE"])
            assert done_step.note.startswith("buyer changed mind") and "-50 fen" in done_step.note

            (line,) = one("budget_lines", id=ids["line"])
            assert line.reserved_fen == 0
            (spend,) = one("category_spend", organisation_id=ids["buyer_org"])
            assert spend.total_fen == 0
            assert one("cart_items") == []
            (event,) = [e for e in one("outbox_events") if e.topic == "offers.changed"]
            assert event.payload == {"offer_ids": [ids["offer"]]}

            for statement in (
                    sa.update(t["offers"]).values(price_fen=-50),
                    sa.update(t["order_lines"]).values(unit_price_fen=-50),
                    sa.update(t["budget_lines"]).values(reserved_fen=-100)):
                with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
                    connection.execute(statement)
