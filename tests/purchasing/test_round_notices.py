"""A bidding round's public notices (opened, result, failure, award change) are recorded by the
round's number, belong to no order, and show on the public notices pages and in
/api/v1/notices: kind, number, items, ceiling in yuan, deadline in Beijing time, and the
ranked quotes of a result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mall.core.clock import frozen_clock
from mall.purchasing.contracts import notices
from mall.purchasing.contracts.models import NoticeKind
from tests.conftest import post_form

API = "/api/v1"
NUMBER = "JJ20261201000042"
DEADLINE = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def _base() -> dict:
    return {"round_number": NUMBER, "mode": "quick", "buyer": "长沙市教育局",
            "items": [{"name": "台式计算机", "spec": "i5/16G/512G", "category_code": "A02010105",
                       "quantity": 20, "unit": "台"}],
            "ceiling_fen": 120_000_000, "deadline": DEADLINE.isoformat(), "sme_reserved": True,
            "sme_deduction_pct": 15}


def _record(session, kind: NoticeKind, *, publish_now: bool = True, supplier: str = "",
            amount_fen: int = 120_000_000, **body):
    return notices.record_round_notice(
        session, kind=kind, reference=NUMBER, title=f"长沙市教育局竞价公告（{NUMBER}）",
        buyer_name="长沙市教育局", supplier_name=supplier, amount_fen=amount_fen,
        body={**_base(), **body}, category_codes=["A02010105"], publish_now=publish_now)


QUOTES = [
    {"rank": 1, "supplier": "湖南小微科技有限公司", "sme": True, "sme_deducted": True,
     "total_fen": 110_000_000, "evaluated_fen": 93_500_000,
     "lines": [{"name": "台式计算机", "quantity": 20, "unit": "台", "unit_price_fen": 5_500_000}]},
    {"rank": 2, "supplier": "长沙大型电脑有限公司", "sme": False, "sme_deducted": False,
     "total_fen": 100_000_000, "evaluated_fen": 100_000_000,
     "lines": [{"name": "台式计算机", "quantity": 20, "unit": "台", "unit_price_fen": 5_000_000}]},
]


@pytest.fixture
def anonymous(app, session):
    browser = app.test_client()
    post_form(browser, "/notices", "/language/en", {"next": "/notices"})
    return browser


def test_a_round_notice_is_published_at_once_and_shows_the_purchase(session, anonymous):
    notice = _record(session, NoticeKind.ROUND)
    assert notice.order_id is None and notice.reference == NUMBER
    assert notice.published_at is not None
    session.flush()
    listing = anonymous.get("/notices", query_string={"kind": "round"}).get_data(as_text=True)
    assert "Bidding round notice" in listing and f"Bidding round {NUMBER}" in listing
    page = anonymous.get(f"/notices/{notice.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Mall quick bidding" in html and "台式计算机" in html and "i5/16G/512G" in html
    assert "¥1,200,000.00" in html and "2026-12-02 10:00" in html
    assert "only small, medium and micro enterprises may quote" in html and "15%" in html
    assert 'id="round-quotes"' not in html  # an open round publishes no quote


def test_a_result_notice_lists_every_valid_quote_with_its_evaluated_price(session, anonymous):
    notice = _record(session, NoticeKind.ROUND_RESULT, supplier=QUOTES[0]["supplier"],
                     amount_fen=110_000_000, quotes=QUOTES, winner=QUOTES[0]["supplier"])
    session.flush()
    html = anonymous.get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "Bidding result notice" in html and 'id="round-winner"' in html
    assert "¥935,000.00" in html and "¥1,000,000.00" in html and "¥55,000.00" in html
    assert "after the SME deduction" in html and "长沙大型电脑有限公司" in html

    feed = anonymous.get(f"{API}/notices", query_string={"kind": "round_result"}).json
    assert feed["total"] == 1
    (item,) = feed["items"]
    assert item["kind"] == "round_result" and item["reference"] == NUMBER
    assert [q["evaluated_fen"] for q in item["body"]["quotes"]] == [93_500_000, 100_000_000]
    assert anonymous.get(f"{API}/notices/{notice.id}").json["reference"] == NUMBER


def test_failure_and_award_change_notices_say_why(session, anonymous):
    failed = _record(session, NoticeKind.ROUND_FAILED, reason="too_few_quotes", quote_count=2,
                     min_quotes=3)
    changed = _record(session, NoticeKind.AWARD_CHANGED, supplier=QUOTES[1]["supplier"],
                      previous=QUOTES[0]["supplier"], winner=QUOTES[1]["supplier"],
                      reason="declined", quotes=[QUOTES[1]])
    session.flush()
    html = anonymous.get(f"/notices/{failed.id}").get_data(as_text=True)
    assert "Bidding round failure notice" in html
    assert "Fewer valid quotes than the round needs" in html and "2 valid quotes of the 3" in html
    html = anonymous.get(f"/notices/{changed.id}").get_data(as_text=True)
    assert "Award change notice" in html and "The supplier declined the award" in html
    assert "湖南小微科技有限公司" in html and "长沙大型电脑有限公司" in html


def test_a_round_notice_not_published_at_once_is_due_within_two_working_days(session):
    with frozen_clock(datetime(2026, 12, 4, 2, 0, tzinfo=UTC)):  # a Friday
        notice = _record(session, NoticeKind.ROUND_RESULT, publish_now=False, quotes=QUOTES,
                         winner=QUOTES[0]["supplier"])
        session.flush()  # recorded with the caller's work
        assert notice.published_at is None
        # the end of the second working day after, in Beijing (Tuesday 23:59:59)
        assert notice.due_by == datetime(2026, 12, 8, 15, 59, 59, tzinfo=UTC)
        assert notices.get_notice(session, notice.id) is None
        assert notices.publish_due(session) == 1
    assert notices.get_notice(session, notice.id) is notice


def test_an_orders_notice_kind_is_refused_for_a_round(session):
    with pytest.raises(ValueError):
        _record(session, NoticeKind.RESULT)
