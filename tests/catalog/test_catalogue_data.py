"""Checks catalog/data/catalogue_2022.csv against the official 2022 procurement catalogue."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CSV_PATH = REPO_ROOT / "catalog" / "data" / "catalogue_2022.csv"
OFFICIAL_TEXT = REPO_ROOT / "catalog" / "data" / "official-2022.layout.txt"  # see SOURCE.md there

CODE_RE = re.compile(r"^[ABC]\d{8}$")

# Names read off the official PDF (财库〔2022〕31 号 annex).  They cover plain
# rows, names wrapped over two or three text lines (also across a page break),
# names whose line also carries description text, and names with Latin letters
# where pdftotext shows spacing that is not in the document.
OFFICIAL_NAMES = {
    "A01000000": "房屋和构筑物",
    "A01010210": "应急救援业务用房",
    "A01010211": "教育用房",
    "A01019900": "其他房屋",
    "A02010100": "计算机",
    "A02010104": "服务器",
    "A02010105": "台式计算机",
    "A02010508": "移动存储设备",
    "A02020400": "多功能一体机",
    "A02020800": "触控一体机",
    "A02021001": "A3黑白打印机",
    "A02021005": "3D打印机",
    "A02021007": "条码打印机",
    "A02021107": "KVM设备",
    "A02030618": "通信指挥车",
    "A02080705": "会议电话调度设备及市话中继设备",
    "A02081300": "IP与多媒体通信设备",
    "A02090502": "机动电视转播及电视播出采访设备",
    "A02091204": "电唱机",
    "A02151200": "合成纤维及合纤聚合物生产装置",
    "A02180500": "石棉、耐火制品及其他非金属矿物制品设备",
    "A02321200": "医用X线诊断设备",
    "A02470600": "卡拉OK设备",
    "A05040101": "复印纸",
    "A07022001": "专用于人或兽药凝胶制品",
    "A07022102": "注射用重组人粒细胞巨噬细胞集落刺激因子",
    "A07022103": "注射用重组人白介素-2（冻干粉针剂）",
    "A07050200": "煤气、水煤气、发生炉煤气和类似的可燃气",
    "A07100100": "纸浆",
    "A07100200": "纸及纸板",
    "B02130300": "长距离通信和电力线路（电缆）铺设",
    "B09000000": "工程设备租赁（带操作员）",
    "B99000000": "其他建筑工程",
    "C01010600": "语言学和语言的研究和试验开发服务",
    "C03020000": "就业指导服务",
    "C10020600": "木材和软木制品及草编织品和编制材料制造业服务",
    "C16000000": "信息技术服务",
    "C23120400": "农业和林业机械设备维修和保养服务",
    "C23140600": "汽车、摩托车、燃料和零配件专门零售服务",
    "C24000000": "政府和社会资本合作服务",
    "C99000000": "其他服务",
}


def _level(code):
    digits = code[1:]
    if digits[2:] == "000000":
        return 1
    if digits[4:] == "0000":
        return 2
    if digits[6:] == "00":
        return 3
    return 4


def _ancestors(code):
    """Codes above `code`, nearest first (zeroing one two-digit group at a time)."""
    out = []
    for keep in range(2 * (_level(code) - 1), 0, -2):
        out.append(code[0] + code[1 : 1 + keep] + "0" * (8 - keep))
    return out


@pytest.fixture(scope="module")
def rows():
    with CSV_PATH.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["code", "name", "level", "parent_code", "section"]
        return list(reader)


@pytest.fixture(scope="module")
def by_code(rows):
    return {row["code"]: row for row in rows}


def test_exactly_4301_unique_well_formed_codes(rows):
    codes = [row["code"] for row in rows]
    assert len(codes) == 4301
    assert len(set(codes)) == 4301
    assert [c for c in codes if not CODE_RE.match(c)] == []


def test_counts_per_section_and_level(rows):
    counts = {}
    for row in rows:
        key = (row["section"], int(row["level"]))
        counts[key] = counts.get(key, 0) + 1
    assert counts == {
        ("A", 1): 8,
        ("A", 2): 81,
        ("A", 3): 968,
        ("A", 4): 2424,
        ("B", 1): 10,
        ("B", 2): 61,
        ("B", 3): 108,
        ("B", 4): 21,
        ("C", 1): 25,
        ("C", 2): 174,
        ("C", 3): 375,
        ("C", 4): 46,
    }


def test_level_and_section_follow_the_code(rows):
    for row in rows:
        assert int(row["level"]) == _level(row["code"]), row
        assert row["section"] == row["code"][0], row


def test_level_one_codes_have_no_parent(rows):
    for row in rows:
        if row["level"] == "1":
            assert row["parent_code"] == "", row
        else:
            assert row["parent_code"] != "", row


def test_parent_is_nearest_existing_ancestor(rows, by_code):
    for row in rows:
        if row["level"] == "1":
            continue
        parent = row["parent_code"]
        assert parent in by_code, row
        existing = [a for a in _ancestors(row["code"]) if a in by_code]
        assert parent == existing[0], row
        assert int(by_code[parent]["level"]) < int(row["level"]), row


def test_every_parent_is_exactly_one_level_up(rows, by_code):
    # The 2022 catalogue has no skipped levels: every natural parent exists.
    for row in rows:
        if row["parent_code"]:
            assert int(by_code[row["parent_code"]]["level"]) == int(row["level"]) - 1, row


def test_parent_precedes_child_in_document_order(rows):
    seen = set()
    for row in rows:
        if row["parent_code"]:
            assert row["parent_code"] in seen, row
        seen.add(row["code"])


@pytest.mark.parametrize("code,name", sorted(OFFICIAL_NAMES.items()))
def test_official_names(by_code, code, name):
    assert by_code[code]["name"] == name


def test_names_carry_no_description_text(rows):
    for row in rows:
        name = row["name"]
        assert name, row
        assert name == name.strip() and not re.search(r"\s", name), row
        for marker in ("包括", "不含", "——", "。", "；"):
            assert marker not in name, row


def test_every_code_in_the_official_text_is_in_the_csv(rows):
    text = OFFICIAL_TEXT.read_text(encoding="utf-8")
    # Table rows start with the code at column 0.  Codes in the preface are
    # quoted inside sentences and table-of-contents lines also start with a
    # code (level 1 only), so every code found this way must be in the CSV.
    found = set(re.findall(r"^([ABC]\d{8})(?=\s|$)", text, flags=re.MULTILINE))
    csv_codes = {row["code"] for row in rows}
    assert len(found) == 4301
    assert sorted(found - csv_codes) == []
    assert sorted(csv_codes - found) == []


def test_build_script_reproduces_the_csv(tmp_path):
    # No --source: the script's default is the copy kept in this repository.
    out = tmp_path / "catalogue_2022.csv"
    script = REPO_ROOT / "catalog" / "tools" / "build_catalogue.py"
    subprocess.run(
        [sys.executable, str(script), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == CSV_PATH.read_bytes()
