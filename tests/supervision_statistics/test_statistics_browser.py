"""In a real browser: a supervisor opens the statistics, filters a region and a quarter, the
four charts are drawn and the numbers of their tables agree with the headline figures, and
the XLSX export downloads with the same figures."""

from __future__ import annotations

import threading

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from mall.core.auth import OrganisationKind
from mall.core.clock import frozen_clock
from tests.browser.conftest import log_in
from tests.conftest import own_app, wait_until
from tests.factories.accounts import make_member
from tests.supervision_statistics.statistics_mall import MARCH, build

pytestmark = pytest.mark.browser
CHARTS = ("trend-chart", "mode-chart", "category-chart", "supplier-chart")


@pytest.fixture(scope="module")
def statistics_server(tmp_path_factory):
    """A live mall with the hand-worked set counted, and a supervisor (stats-supervisor)."""
    with own_app(tmp_path_factory, "browser_statistics") as application:
        from mall.extensions import db

        with application.app_context(), frozen_clock(MARCH) as clock:
            build(db.session, clock)
            make_member(db.session, OrganisationKind.SUPERVISOR, login="stats-supervisor")
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", 0, application, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        thread.join(timeout=5)


def column(tab, table: str, cell: str) -> list[int]:
    return [int(v) for v in tab.locator(f"#{table} td.{cell}").evaluate_all(
        "cells => cells.map(c => c.dataset.fen || c.textContent.trim())")]


def test_a_supervisor_filters_a_region_and_a_quarter_sees_the_charts_and_exports(
        browser, statistics_server, tmp_path):
    context, tab = log_in(browser, statistics_server, "stats-supervisor")
    tab.goto(f"{statistics_server}/supervision/statistics")
    tab.locator("#region").fill("430000")
    tab.locator("#quarter").fill("2026-Q1")
    with tab.expect_navigation():
        tab.locator("#apply-filters").click()
    assert "quarter=2026-Q1" in tab.url and "region=430000" in tab.url
    for chart in CHARTS:  # Chart.js drew on every canvas
        wait_until(tab, f"document.getElementById('{chart}').chart !== undefined")
        assert tab.locator(f"#{chart}").bounding_box()["width"] > 0
    headline = {key: tab.locator(f"#figure-{key} td").get_attribute("data-value")
                for key in ("deals", "amount", "budget", "savings-rate")}
    # Hunan's units only: 29,900 + 20,000 direct and 700,000 by the round.
    assert headline["deals"] == "3" and headline["amount"] == "749900"
    assert headline["budget"] == "1056900"
    for table in ("trend-table", "mode-table"):
        assert sum(column(tab, table, "deals")) == 3
        assert sum(column(tab, table, "amount")) == 749_900
    assert sum(column(tab, "supplier-table", "amount")) == 749_900
    assert column(tab, "category-table", "amount") == [749_900]
    rate = round(100 * (1_056_900 - 749_900) / 1_056_900, 2)
    assert float(headline["savings-rate"]) == rate
    assert tab.locator("#figure-savings-rate td").inner_text() == f"{rate:.2f}%"
    with tab.expect_download() as download:
        tab.locator("#export-xlsx").click()
    saved = tmp_path / "statistics.xlsx"
    download.value.save_as(saved)
    rows = list(load_workbook(saved).worksheets[0].iter_rows(values_only=True))
    blank = rows.index((None, None))
    assert [row[1] for row in rows[blank + 1:blank + 6]] == [
        3, 7_499.0, 10_569.0, 3_070.0, rate]
    context.close()
