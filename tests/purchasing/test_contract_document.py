"""The contract of a direct-purchase order: what its HTML and PDF show, and the fingerprint a
signature records."""

import re
import shutil
import subprocess
import zlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask import Flask

from mall.purchasing.contracts.document import (
    ContractDocument,
    ContractItem,
    ContractParty,
    PayeeAccount,
    fingerprint,
    render_html,
    render_pdf,
)

BUYER = ContractParty("某市教育局", "11330100002490612X", "某市人民路 1 号", "张三", "0571-12345678")
SUPPLIER = ContractParty("杭州云图科技有限公司", "91330106MA2B3C4D5E", "杭州市西湖区文三路 9 号", "李四",
                         "13800000000")
COMPUTER = ContractItem("联想 扬天 M4000 台式计算机", "A02010104", "台式计算机", "联想", "M4000", "台",
                        2, 456780)
PAPER = ContractItem("得力 A4 复印纸 70g", "A02021001", "复印纸", "得力", "7401", "箱", 15, 21400)


def make_document(**changes) -> ContractDocument:
    document = ContractDocument(
        number="HT-2026-000123",
        order_number="DD-2026-000456",
        buyer=BUYER,
        supplier=SUPPLIER,
        items=(COMPUTER, PAPER),
        delivery_address="某市人民路 1 号 302 室",
        delivery_days=7,
        payment_terms="货到验收合格后 10 个工作日内一次性支付全部合同款。",
        payee=PayeeAccount("中国工商银行杭州文三路支行", "杭州云图科技有限公司", "1202020809900012345"),
        supplier_is_sme=False,
        sme_size=None,
        secret=False,
        budget_project="2026 年办公设备购置",
        created_at=datetime(2026, 3, 5, 2, 30, tzinfo=UTC),
    )
    return replace(document, **changes)


def row_containing(html: str, text: str) -> str:
    rows = [row for row in re.findall(r"<tr>.*?</tr>", html, re.DOTALL) if text in row]
    assert len(rows) == 1, f"expected one table row with {text!r}, found {len(rows)}"
    return rows[0]


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated, so dictionaries in object streams show."""
    parts = [pdf]
    for start in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[start.end():]))
        except zlib.error:
            continue
    return b"\n".join(parts)


@pytest.fixture(scope="module")
def contract_pdf() -> bytes:
    return render_pdf(render_html(make_document(supplier_is_sme=True, sme_size="small")))


def test_the_contract_shows_both_parties_with_their_credit_codes():
    html = render_html(make_document())

    assert "采购人（甲方）" in html
    assert "供应商（乙方）" in html
    names = row_containing(html, "<th>名称</th>")
    assert "某市教育局" in names and "杭州云图科技有限公司" in names
    codes = row_containing(html, "统一社会信用代码")
    assert "11330100002490612X" in codes and "91330106MA2B3C4D5E" in codes
    assert "0571-12345678" in row_containing(html, "联系电话")


def test_each_item_line_shows_what_was_bought_at_which_price():
    html = render_html(make_document())

    computer = row_containing(html, "联想 扬天 M4000 台式计算机")
    for shown in ("台式计算机", "A02010104", "联想", "M4000", "台", ">2<", "¥4,567.80", "¥9,135.60"):
        assert shown in computer
    paper = row_containing(html, "得力 A4 复印纸 70g")
    for shown in ("复印纸", "A02021001", "7401", "箱", ">15<", "¥214.00", "¥3,210.00"):
        assert shown in paper


def test_the_total_is_written_in_figures_and_in_chinese_capitals():
    html = render_html(make_document())

    assert "¥12,345.60" in row_containing(html, "合计（小写）")
    assert "人民币壹万贰仟叁佰肆拾伍元陆角" in row_containing(html, "合计（大写）")
    assert make_document().total_fen == 1234560


def test_delivery_payment_and_payee_account_are_stated():
    html = render_html(make_document())

    assert "交货期限及地点" in html
    assert "7 日内" in html and "某市人民路 1 号 302 室" in html
    assert "货到验收合格后 10 个工作日内一次性支付全部合同款。" in html
    assert "中国工商银行杭州文三路支行" in row_containing(html, "开户银行")
    assert "1202020809900012345" in row_containing(html, "账号")


def test_the_creation_time_is_shown_in_beijing_time():
    html = render_html(make_document())

    assert "2026-03-05 10:30" in html


@pytest.mark.parametrize(("size", "mark"), [
    ("small", "乙方为小型企业（中小企业声明函已提交）"),
    ("micro", "乙方为微型企业（中小企业声明函已提交）"),
    ("medium", "乙方为中型企业（中小企业声明函已提交）"),
])
def test_an_sme_supplier_is_marked_with_its_declared_size(size, mark):
    assert mark in render_html(make_document(supplier_is_sme=True, sme_size=size))


def test_a_contract_with_a_large_supplier_does_not_mention_sme():
    assert "中小企业" not in render_html(make_document())


def test_a_secret_contract_says_it_is_not_published_and_an_ordinary_one_does_not():
    assert "本合同涉密，不予公开" in render_html(make_document(secret=True))
    assert "涉密" not in render_html(make_document())


def test_a_payee_account_locked_for_financing_carries_the_banks_lock_note():
    locked = replace(make_document().payee, locked_for_financing=True)

    assert "该账户为政采贷融资锁定回款账户" in render_html(make_document(payee=locked))
    assert "政采贷" not in render_html(make_document())


def test_both_parties_have_a_signature_block():
    html = render_html(make_document())

    assert "甲方（盖章）：某市教育局" in html
    assert "乙方（盖章）：杭州云图科技有限公司" in html
    assert html.count("法定代表人或授权代表（签字）") == 2


def test_markup_in_any_field_is_shown_as_text():
    hostile = replace(SUPPLIER, name='<script>alert("x")</script>有限公司')
    item = replace(PAPER, title="<b>复印纸</b>")
    html = render_html(make_document(supplier=hostile, items=(item,), payment_terms="<img src=x>"))

    assert "<script>" not in html and "<b>复印纸" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;有限公司" in html
    assert "&lt;b&gt;复印纸&lt;/b&gt;" in html


def test_the_same_document_always_renders_the_same_fingerprint():
    first = fingerprint(render_html(make_document()))

    assert first == fingerprint(render_html(make_document()))
    assert re.fullmatch(r"[0-9a-f]{64}", first)


def test_rendering_inside_a_flask_app_gives_the_same_text():
    outside = render_html(make_document())
    with Flask("unrelated").app_context():
        assert render_html(make_document()) == outside


@pytest.mark.parametrize("change", [
    {"items": (replace(COMPUTER, quantity=3), PAPER)},
    {"items": (COMPUTER, replace(PAPER, unit_price_fen=21401))},
    {"items": (COMPUTER,)},
    {"payee": PayeeAccount("中国工商银行杭州文三路支行", "杭州云图科技有限公司", "1202020809900099999")},
    {"supplier": replace(SUPPLIER, credit_code="91330106MA2B3C4D6F")},
    {"delivery_days": 8},
], ids=["quantity", "unit-price", "item-removed", "payee-account", "supplier-credit-code", "delivery"])
def test_any_change_to_the_terms_changes_the_fingerprint(change):
    assert fingerprint(render_html(make_document(**change))) != fingerprint(render_html(make_document()))


@pytest.mark.parametrize(("change", "message"), [
    ({"supplier_is_sme": True}, "SME supplier needs a size"),
    ({"sme_size": "small"}, "only given for an SME"),
    ({"items": ()}, "at least one item"),
    ({"created_at": datetime(2026, 3, 5, 10, 30)}, "aware"),
])
def test_an_inconsistent_document_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        make_document(**change)


@pytest.mark.parametrize(("quantity", "price"), [(0, 100), (-1, 100), (1, -5), (1, 12.5)])
def test_an_item_needs_a_positive_quantity_and_a_whole_fen_price(quantity, price):
    with pytest.raises(ValueError):
        replace(PAPER, quantity=quantity, unit_price_fen=price)


def test_the_pdf_is_an_a4_document(contract_pdf):
    assert contract_pdf.startswith(b"%PDF-")
    assert re.search(rb"/MediaBox \[0 0 595\.\d+ 841\.\d+\]", pdf_objects(contract_pdf))


def test_the_pdf_embeds_only_noto_cjk_fonts(contract_pdf):
    objects = pdf_objects(contract_pdf)
    fonts = set(re.findall(rb"/BaseFont */([^\s/<>\[\]]+)", objects))

    assert fonts, "no font in the PDF"
    assert all(re.search(rb"Noto-?(Sans|Serif)-?CJK", font) for font in fonts), (
        f"fonts {sorted(fonts)}: install Debian's fonts-noto-cjk (scripts/test does)")
    assert re.search(rb"/FontFile[23]? ", objects), "the font is named but not embedded"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_pdf_text_reads_back_in_chinese(contract_pdf):
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=contract_pdf,
                            capture_output=True, check=True, timeout=60)
    text = re.sub(r"\s+", "", result.stdout.decode("utf-8"))

    for shown in ("政府采购合同", "某市教育局", "91330106MA2B3C4D5E", "¥12,345.60",
                  "人民币壹万贰仟叁佰肆拾伍元陆角", "乙方为小型企业（中小企业声明函已提交）"):
        assert shown in text
