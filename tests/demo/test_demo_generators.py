"""Demo data generators: real catalogue leaves, believable products and valid organisations."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import uscc

from mall.demo.organisations import demo_suppliers, demo_units, gb11714_check_char
from mall.demo.products import enabled_category_codes, generate_products

REPO_ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_CATALOGUE = REPO_ROOT / "catalog" / "data" / "official-2022.layout.txt"  # see SOURCE.md there


def _catalogue_rows() -> tuple[dict[str, str], set[str]]:
    """Codes printed as table rows with a name, and every code that starts a line."""
    named: dict[str, str] = {}
    every: set[str] = set()
    for line in OFFICIAL_CATALOGUE.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"(A\d{8})", line):
            every.add(match.group(1))
        if match := re.match(r"(A\d{8})[ \t]+(\S+)", line):
            named.setdefault(match.group(1), match.group(2))
    return named, every


def _significant_prefix(code: str) -> str:
    """A03020100 -> A030201: the part its children would share."""
    digits = code[1:]
    for length in (8, 6, 4, 2):
        if digits[length - 2 : length] != "00":
            return "A" + digits[:length]
    return "A"


def _org_code_is_valid(org_code: str) -> bool:
    """GB 11714 check, written out independently of the generator."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    remainder = 11 - sum(int(c, 36) * w for c, w in zip(org_code[:8], weights, strict=True)) % 11
    expected = "X" if remainder == 10 else "0" if remainder == 11 else str(remainder)
    return org_code[8] == expected


@pytest.fixture(scope="module")
def products():
    return list(generate_products(20_000, seed=0))


def _by_code(products, code):
    return [p for p in products if p.category_code == code]


def test_enabled_codes_are_distinct_leaf_rows_of_the_official_2022_catalogue():
    named, every = _catalogue_rows()
    codes = enabled_category_codes()
    assert 220 <= len(codes) <= 240
    assert len(set(codes)) == len(codes)
    not_rows = [code for code in codes if code not in named]
    assert not_rows == []
    parents = [
        code for code in codes
        if any(other != code and other.startswith(_significant_prefix(code)) for other in every)
    ]
    assert parents == []


def test_enabled_codes_cover_what_government_offices_buy():
    codes = set(enabled_category_codes())
    must_have = {
        "A02010104", "A02010105", "A02010108", "A02010508",  # servers, desktops, laptops, USB
        "A02021001", "A02021002", "A02021003", "A02021004", "A02021005",  # printers by function
        "A02021104", "A02061804", "A02061801", "A02091001",  # monitors, AC, fridges, TVs
        "A05010201", "A05010301", "A05010502",  # desks, office chairs, file cabinets
        "A05040101", "A05040201", "A05040402", "A05040501",  # copy paper, toner, pens, tissue
        "A08060303",  # application software
    }
    assert must_have <= codes
    groups = Counter(code[:5] for code in codes)
    assert groups["A0201"] >= 30 and groups["A0202"] >= 30  # IT and office equipment
    assert groups["A0501"] >= 20 and groups["A0504"] >= 20  # furniture and office supplies


def test_same_seed_gives_the_same_products_and_another_seed_does_not():
    first = list(generate_products(3_000, seed=42))
    assert first == list(generate_products(3_000, seed=42))
    assert first != list(generate_products(3_000, seed=43))


def test_generate_products_yields_exactly_the_requested_count():
    assert len(list(generate_products(1_234, seed=5))) == 1_234
    assert list(generate_products(0)) == []
    with pytest.raises(ValueError):
        list(generate_products(-1))


def test_every_enabled_category_appears_in_the_first_20000_products(products):
    assert {p.category_code for p in products} == set(enabled_category_codes())


def test_product_fields_are_plain_integers_strings_and_booleans(products):
    for product in products:
        assert type(product.reference_price_fen) is int and product.reference_price_fen > 0
        assert type(product.energy_saving) is bool and type(product.green) is bool
        assert product.unit and product.brand and product.model
        assert all(type(k) is str and type(v) is str and v for k, v in product.attributes.items())


def test_titles_name_the_brand_and_the_model(products):
    for product in products:
        short = product.brand.split("（")[0]
        assert short in product.title, product.title
        assert product.model in product.title, product.title
        assert "  " not in product.title and product.title == product.title.strip()


@pytest.mark.parametrize(
    ("code", "low_yuan", "high_yuan"),
    [
        ("A05040101", 20, 300),  # copy paper per ream or box
        ("A02010105", 3_000, 9_000),  # desktop PCs
        ("A02061804", 2_000, 8_000),  # air conditioners
        ("A05040402", 1, 30),  # pens
    ],
)
def test_prices_fall_in_realistic_bands(products, code, low_yuan, high_yuan):
    prices = [p.reference_price_fen for p in _by_code(products, code)]
    assert prices, code
    assert low_yuan * 100 <= min(prices) and max(prices) <= high_yuan * 100
    assert len(set(prices)) > 10  # not one price for the whole category


def test_copy_paper_is_sold_by_the_ream_or_the_box(products):
    paper = _by_code(products, "A05040101")
    assert {p.unit for p in paper} == {"包", "箱"}
    for sheet in paper:
        assert "500张/包" in sheet.title
        assert ("包/箱" in sheet.title) == (sheet.unit == "箱"), sheet.title
    boxes = [p.reference_price_fen for p in paper if p.unit == "箱"]
    reams = [p.reference_price_fen for p in paper if p.unit == "包"]
    assert statistics.median(boxes) > 3 * statistics.median(reams)


def test_air_conditioner_energy_label_matches_the_grade_in_the_title(products):
    units = _by_code(products, "A02061804")
    assert any(p.energy_saving for p in units) and not all(p.energy_saving for p in units)
    for unit in units:
        assert unit.energy_saving == ("新一级能效" in unit.title), unit.title
        assert re.search(r"KFRd?-\d+[GL]W/", unit.model), unit.model


def test_common_office_goods_are_generated_more_often(products):
    counts = Counter(p.category_code for p in products)
    median = statistics.median(counts.values())
    for code in ("A05040101", "A05040402", "A02010105", "A02010108"):
        assert counts[code] > 4 * median, code


def test_several_real_brands_sell_the_central_categories(products):
    for code in ("A02010105", "A02010108", "A02021003", "A05040101", "A05040201", "A02061804",
                 "A02021104", "A05010301", "A05010502", "A02010508", "A05040402"):
        assert len({p.brand for p in _by_code(products, code)}) >= 4, code


def test_brand_and_model_rarely_repeat_across_300k_products():
    seen: set[tuple[str, str]] = set()
    repeats = 0
    for product in generate_products(300_000, seed=1):
        key = (product.brand, product.model)
        repeats += key in seen
        seen.add(key)
    assert repeats / 300_000 < 0.01


def test_ten_suppliers_with_the_expected_size_mix():
    suppliers = demo_suppliers()
    assert len(suppliers) == 10
    assert Counter(s.size for s in suppliers) == {"large": 3, "medium": 3, "small": 3, "micro": 1}
    assert len({s.name for s in suppliers}) == 10
    assert [s.login for s in suppliers] == [f"supplier{n}" for n in range(1, 11)]
    for supplier in suppliers:
        assert supplier.name.endswith("有限公司") and not re.search("京东|苏宁|天猫", supplier.name)
        assert re.fullmatch(r"138\d{8}", supplier.contact_phone)
        assert supplier.email.endswith(".example.cn") and "@" in supplier.email
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", supplier.legal_representative)
        assert supplier.credit_code.startswith("91")


def test_fifty_units_in_several_cities():
    units = demo_units()
    assert len(units) == 50
    assert len({u.name for u in units}) == 50
    assert len({u.login_prefix for u in units}) == 50 and units[0].login_prefix == "unit01"
    assert len({u.region_code[:4] for u in units}) >= 3
    for unit in units:
        assert re.fullmatch(r"43\d{4}", unit.region_code)
        assert unit.region_name.startswith("湖南省")
        expected_kind = "11" if unit.name.endswith("局") else "12"
        assert unit.credit_code[:2] == expected_kind, unit.name


def test_credit_codes_are_valid_unique_and_carry_the_seat_region():
    organisations = [*demo_suppliers(), *demo_units()]
    codes = [o.credit_code for o in organisations]
    assert len(set(codes)) == len(codes) == 60
    for organisation in organisations:
        code = organisation.credit_code
        assert uscc.is_valid(code), code
        assert code[2:8] == organisation.region_code
        assert _org_code_is_valid(code[8:17]), code


def test_organisation_code_check_character_matches_a_published_example():
    # 91110000600037341L is the python-stdnum documentation's example of a valid USCC.
    assert gb11714_check_char("60003734") == "1"
