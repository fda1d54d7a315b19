"""Acceptance in a real browser: a new supplier applies, is admitted for two categories,
imports a CSV with bad rows, reads the error report, fixes it and re-imports; its offers
are listed, and the one priced above its reference waits in the operator's review queue."""

import csv
import io

import pytest
from stdnum.cn import uscc

from mall.core.auth import OrganisationKind

pytestmark = pytest.mark.browser
PAPER, TONER = "A05040101", "A05040201"
HEADER = ["supplier_sku", "category_code", "brand", "model", "title", "price",
          "reference_price", "reference_url", "stock", "unit"]
GOOD = [
    ["XS-P-001", PAPER, "得力（deli）", "ZB-A4-70", "得力 A4复印纸 70g 500张/包", "25.90", "29.90",
     "https://item.example.cn/1.html", "500", "包"],
    ["XS-P-002", PAPER, "得力（deli）", "ZB-A4-80", "得力 A4复印纸 80g 500张/包", "31.50", "33.00",
     "https://item.example.cn/2.html", "300", "包"],
    ["XS-T-001", TONER, "惠普（HP）", "CF226A", "惠普 CF226A 黑色硒鼓 约3100页", "589.00",
     "629.00", "https://item.example.cn/3.html", "40", "支"],
    # Priced above its own reference price: listed only after review.
    ["XS-T-002", TONER, "惠普（HP）", "CF228A", "惠普 CF228A 黑色硒鼓", "699.00", "659.00",
     "https://item.example.cn/4.html", "12", "支"],
]
BAD = [
    ["XS-P-003", PAPER, "得力（deli）", "ZB-A3-70", "得力 A3复印纸 70g", "三十元", "49.00",
     "https://item.example.cn/5.html", "100", "包"],
    ["XS-P-004", PAPER, "得力（deli）", "ZB-B5-70", "得力 B5复印纸 70g", "19.90", "21.00",
     "https://item.example.cn/6.html", "-5", "包"],
]
FIXED = [
    ["XS-P-003", PAPER, "得力（deli）", "ZB-A3-70", "得力 A3复印纸 70g", "45.00", "49.00",
     "https://item.example.cn/5.html", "100", "包"],
    ["XS-P-004", PAPER, "得力（deli）", "ZB-B5-70", "得力 B5复印纸 70g", "19.90", "21.00",
     "https://item.example.cn/6.html", "5", "包"],
]


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _log_in(page, base, login, password="Correct-Horse-42"):
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def _upload_and_wait(page, base, name, content):
    page.goto(f"{base}/supplier/imports/")
    page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv",
                                          "buffer": content}])
    page.locator("form[enctype] button[type=submit]").click()
    row = page.locator("#imports tbody tr", has_text=name).first
    try:
        row.locator("[data-field=status] .tag-done").wait_for(timeout=60_000)
    except Exception:  # say where the import stood, not just that it timed out
        job = row.get_attribute("data-job")
        progress = page.request.get(f"{base}/supplier/imports/{job}/progress").text()
        pytest.fail(f"import {name} not done within 60 s: {progress}")
    return row


def test_supplier_onboarding_import_and_review(browser, live_server, live_app,
                                               make_live_member):
    from catalog.services import set_categories_enabled
    from mall.accounts.services import actor_for
    from mall.extensions import db
    from tests.factories.accounts import make_member

    with live_app.app_context():
        operator = make_member(db.session, OrganisationKind.OPERATOR, login="centre-e2e")
        set_categories_enabled(db.session, actor_for(operator), codes=[PAPER, TONER],
                               enabled=True)
        db.session.commit()
    supplier_page = browser.new_context(locale="zh-CN").new_page()
    operator_page = browser.new_context(locale="zh-CN").new_page()
    base = live_server

    # 1. A new supplier registers and applies for two categories.
    body = "91430104MA4T" + "12345"
    supplier_page.goto(f"{base}/supplier/register")
    for field, value in {
            "organisation_name": "星沙文印科技有限公司", "credit_code": body + uscc.calc_check_digit(body),
            "region_code": "430104", "login": "xingsha-e2e", "display_name": "周经理",
            "password": "Xingsha-E2E-2026", "legal_representative": "周文",
            "controlling_shareholder": "周文", "employees": "28", "contact_name": "周文",
            "contact_phone": "13975100000", "contact_email": "zhou@xswy.example.cn",
            "bank_name": "潇湘农商银行星沙支行", "bank_account": "6230901000005678"}.items():
        supplier_page.fill(f"#{field}", value)
    supplier_page.select_option("#size", "small")
    supplier_page.check("input[name=delivery_regions][value='430100']")
    supplier_page.check(f"input[name=category_codes][value='{PAPER}']")
    supplier_page.check(f"input[name=category_codes][value='{TONER}']")
    supplier_page.get_by_role("button", name="提交申请").click()
    supplier_page.wait_for_url(f"{base}/supplier/")
    assert "待审核" in supplier_page.content()

    # 2. The operator admits it for both categories.
    _log_in(operator_page, base, "centre-e2e")
    operator_page.goto(f"{base}/admin/admissions")
    card = operator_page.locator("section.application", has_text="星沙文印科技有限公司")
    card.get_by_role("button", name="准予入驻").click()
    operator_page.wait_for_url(f"{base}/admin/admissions")
    supplier_page.goto(f"{base}/supplier/")
    assert supplier_page.locator("table").first.locator("tbody tr").count() == 2

    # 3. The supplier imports a file with two bad rows and reads the error report.
    row = _upload_and_wait(supplier_page, base, "offers.csv", _csv(GOOD + BAD))
    link = row.locator("[data-field=errors]")
    link.wait_for(state="visible")
    report = supplier_page.request.get(base + link.get_attribute("href")).text()
    assert "6" in report and "price" in report.lower() or "价格" in report
    assert "stock" in report.lower() or "库存" in report
    assert "XS-P-001" not in report

    # 4. It fixes the two rows and imports again: everything is in, nothing is doubled.
    _upload_and_wait(supplier_page, base, "offers-fixed.csv", _csv(GOOD + FIXED))
    supplier_page.goto(f"{base}/supplier/offers?status=listed")
    listed = supplier_page.locator("table.offers tbody tr")
    assert listed.count() == 5
    assert supplier_page.locator("table.offers", has_text="XS-P-003").count() == 1

    # 5. The offer above its reference price waits for the operator, with that reason.
    operator_page.goto(f"{base}/admin/reviews")
    held = operator_page.locator("tr.review-row", has_text="XS-T-002")
    assert held.count() == 1
    assert "高于参考价" in held.inner_text()
