"""The judged query set: what buyers type, and which offers a person would call a right answer.

The corpus is built deterministically: demo products from mall.demo.products (fixed seed,
one to three suppliers each), real JD listing titles from tests/data/real-listings, and a
few hand-written offers that are the best answers to some queries. A judgment is a rule a
person would apply (the right kind of product, the brand asked for, the spec asked for), so
every matching demo product counts, not only the hand-written ones.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from catalog.search.text import normalise
from catalog.search.types import SearchDocument
from mall.demo.products import generate_products
from tests.contract.conftest import catalogue_paths

SEED = 20261123
DEMO_PRODUCTS = 6000
REAL_LISTINGS = Path(__file__).resolve().parents[1] / "data/real-listings/jd-listings-sample.csv"
# Catalogue leaf of each JD category in the sample (laptops are all 游戏本).
_REAL_CATEGORIES = {"笔记本": "A02010108", "空调": "A02061804", "U盘/移动硬盘": "A02010508",
                    "硒鼓/墨盒": "A05040201", "复印纸/打印纸": "A05040199"}
_REAL_BY_WORD = (("墨盒", "A05040203"), ("信封", "A05040103"), ("笔", "A05040402"),
                 ("文件柜", "A05010502"), ("椅", "A05010301"), ("桌", "A05010201"))
_SUPPLIERS = ((1, "长沙办公用品有限公司", True), (2, "京东政企业务部", False), (3, "齐心集团", True),
              (4, "苏宁易购政企", False))

HAND_WRITTEN = [  # (offer id, title, brand, model, category, price in yuan, attributes)
    (900001, "联想（Lenovo） ThinkPad E14 轻薄商务办公笔记本电脑 i5-1235U 16G 512G 14英寸", "联想（Lenovo）",
     "ThinkPad E14", "A02010108", 4599, {"CPU": "i5-1235U"}),
    (900002, "惠普（HP） CF226A 黑色硒鼓 约3100页 适用M402d/M426fdw", "惠普（HP）", "CF226A",
     "A05040201", 589, {"页数": "约3100页"}),
    (900003, "格力（GREE） 1.5匹 新一级能效 变频冷暖 壁挂式空调挂机 KFR-35GW/NhGc1B", "格力（GREE）",
     "KFR-35GW/NhGc1B", "A02061804", 3299, {"匹数": "1.5匹", "能效": "新一级能效"}),
    (900004, "得力（deli） S01 中性笔 0.5mm 黑色 12支/盒", "得力（deli）", "S01", "A05040402", 15,
     {"笔尖": "0.5mm"}),
    (900005, "得力（deli） 7401 A4复印纸 70g 500张/包 5包/箱", "得力（deli）", "7401", "A05040101", 129,
     {"克重": "70g", "规格": "A4"}),
    (900006, "联想（Lenovo） 扬天 M4000q 商用办公台式机电脑 i7-12700 16G 1T SSD", "联想（Lenovo）",
     "扬天 M4000q", "A02010105", 5299, {"CPU": "i7-12700"}),
    (900007, "美的（Midea） 1.5匹 新一级能效 壁挂式空调 KFR-35GW/N8XHC1", "美的（Midea）",
     "KFR-35GW/N8XHC1", "A02061804", 2799, {"匹数": "1.5匹"}),
    (900008, "震旦（AURORA） 钢制文件柜 铁皮柜 对开门 0.8mm", "震旦（AURORA）", "AR-WJG2907W",
     "A05010502", 899, {"钢板": "0.8mm"}),
    (900009, "晨光（M&G） BP0048 按动圆珠笔 0.7mm 蓝色 24支/盒", "晨光（M&G）", "BP0048", "A05040402",
     15, {"颜色": "蓝色"}),
    (900010, "闪迪（SanDisk） CZ71 U盘 64GB USB3.0 金属", "闪迪（SanDisk）", "CZ71", "A02010508", 49,
     {"容量": "64GB"}),
]


@dataclass(frozen=True)
class Judged:
    """A query and the rule for its relevant offers: in one of ``categories`` (any level),
    of ``brand`` (when given), with every one of ``words`` in its title, model or specs."""

    text: str
    categories: tuple[str, ...] = ()
    brand: str = ""
    words: tuple[str, ...] = ()

    def relevant(self, doc: SearchDocument) -> bool:
        """Whether a person would count this offer as a right answer."""
        if self.categories and not set(self.categories) & set(doc.category_path):
            return False
        if self.brand and self.brand not in doc.brand.lower():
            return False
        text = normalise(" ".join((doc.title, doc.model, *doc.attributes.values())))
        return all(word in text for word in self.words)


LAPTOPS = ("A02010108", "A02010106")
AIRCON, PAPER, TONER, PEN = "A02061804", "A05040101", "A05040201", "A05040402"

JUDGED = [
    Judged("笔记本", LAPTOPS), Judged("笔记本电脑", LAPTOPS), Judged("便携式计算机", LAPTOPS),
    Judged("手提电脑", LAPTOPS), Judged("联想笔记本", LAPTOPS, "联想"),
    Judged("惠普笔记本电脑", LAPTOPS, "惠普"), Judged("游戏本", LAPTOPS, words=("游戏",)),
    Judged("拯救者", LAPTOPS, "联想", ("拯救者",)), Judged("戴尔 游匣G15", LAPTOPS, "戴尔", ("g15",)),
    Judged("RTX3060 笔记本", LAPTOPS, words=("rtx3060",)), Judged("i7-12700H", words=("i7-12700h",)),
    Judged("ThinkPad E14", LAPTOPS, "联想", ("thinkpad", "e14")),
    Judged("台式机", ("A02010105",)), Judged("台式电脑", ("A02010105",)),
    Judged("联想台式机 i7", ("A02010105",), "联想", ("i7",)), Judged("服务器", ("A02010104",)),
    Judged("平板电脑", ("A02010109",)),
    Judged("A4复印纸", (PAPER,), words=("a4",)), Judged("A4复印纸 70g", (PAPER,), words=("a4", "70g")),
    Judged("复印纸 80g", (PAPER,), words=("80g",)), Judged("A3复印纸", (PAPER,), words=("a3",)),
    Judged("打印纸", (PAPER,)), Judged("得力复印纸", (PAPER,), "得力"),
    Judged("惠普硒鼓 CF226A", (TONER,), "惠普", ("cf226a",)), Judged("CF226A", words=("cf226a",)),
    Judged("硒鼓", (TONER,)), Judged("鼓粉盒", (TONER,)), Judged("墨粉盒", ("A05040202",)),
    Judged("喷墨盒", ("A05040203",)), Judged("色带", ("A05040205",)),
    Judged("格力1.5匹空调", (AIRCON,), "格力", ("1.5匹",)), Judged("空调 1.5匹", (AIRCON,), words=("1.5匹",)),
    Judged("美的空调", (AIRCON,), "美的"), Judged("柜式空调 3匹", (AIRCON,), words=("3匹",)),
    Judged("空调挂机", (AIRCON,), words=("挂机",)), Judged("奥克斯空调", (AIRCON,), "奥克斯"),
    Judged("冰箱", ("A02061801",)), Judged("洗衣机", ("A02061810",), words=("洗衣机",)),
    Judged("得力中性笔 0.5", (PEN,), "得力", ("中性笔", "0.5")), Judged("中性笔", (PEN,), words=("中性笔",)),
    Judged("签字笔", (PEN,), words=("中性笔",)), Judged("圆珠笔", (PEN,), words=("圆珠笔",)),
    Judged("晨光圆珠笔", (PEN,), "晨光", ("圆珠笔",)),
    Judged("文件柜", ("A05010502",)), Judged("铁皮柜", ("A05010502",)), Judged("办公椅", ("A05010301",)),
    Judged("办公桌", ("A05010200",)), Judged("碎纸机", ("A02021301",)), Judged("投影仪", ("A02020200",)),
    Judged("投影幕布", ("A02020300",)), Judged("显示器 27英寸", ("A02021104",), words=("27英寸",)),
    Judged("打印机", ("A02021000",)),
    Judged("A4激光打印机", ("A02021003", "A02021004"), words=("a4", "激光")),
    Judged("多功能一体机", ("A02020400",)), Judged("扫描仪", ("A02021118",)),
    Judged("U盘 64G", ("A02010508",), words=("64g",)), Judged("闪迪U盘", ("A02010508",), "闪迪"),
    Judged("移动硬盘 1TB", ("A02010508",), words=("移动硬盘", "1tb")), Judged("路由器", ("A02010201",)),
    Judged("交换机 24口", ("A02010202",), words=("24口",)), Judged("监控摄像头", ("A02091107",)),
    Judged("对讲机", ("A02080101",)), Judged("电话机", ("A02080701",)), Judged("计算器", ("A02021401",)),
    Judged("档案盒", ("A05040401",), words=("档案盒",)),
    Judged("牛皮纸信封", ("A05040103",), words=("牛皮纸",)),
    Judged("长尾夹", ("A05040401",), words=("长尾夹",)), Judged("UPS电源", ("A02061504",)),
    Judged("插线板", ("A02061727",)), Judged("灭火器", ("A02370100",)),
    Judged("电视 65英寸", ("A02091001",), words=("65英寸",)), Judged("纸杯", ("A07100300",)),
    Judged("无线鼠标", ("A02021110",), words=("无线",)), Judged("键盘", ("A02021109",)),
    Judged("六类网线", ("A02062100",), words=("六类",)),
    # Harder: models typed loosely, colloquial units, long or natural-language queries.
    Judged("ThinkPad E14 i5", LAPTOPS, "联想", ("e14", "i5")), Judged("R9000P", words=("r9000p",)),
    Judged("暗影精灵8Pro", LAPTOPS, "惠普", ("暗影精灵",)),
    Judged("游戏本 RTX3070", LAPTOPS, words=("rtx3070",)),
    Judged("华硕天选", LAPTOPS, "华硕", ("天选",)), Judged("外星人", LAPTOPS, "外星人"),
    Judged("惠普 M402 硒鼓", (TONER,), words=("m402",)),
    Judged("适用惠普M403的硒鼓", (TONER,), words=("m403",)),
    Judged("CRG-912", words=("crg-912",)), Judged("CLI-851XL", words=("cli-851xl",)),
    Judged("格力 KFR-35GW", (AIRCON,), "格力", ("kfr-35gw",)),
    Judged("1.5P 空调", (AIRCON,), words=("1.5匹",)),
    Judged("美的1.5p挂机", (AIRCON,), "美的", ("1.5匹",)), Judged("70克复印纸", (PAPER,), words=("70g",)),
    Judged("A4纸", (PAPER,), words=("a4",)), Judged("0.5mm黑色中性笔", (PEN,), words=("0.5", "黑")),
    Judged("办公室用的碎纸机", ("A02021301",)), Judged("碎纸机 5级保密", ("A02021301",), words=("5级",)),
    Judged("投影仪 5000流明", ("A02020200",), words=("5000流明",)),
    Judged("65英寸 会议平板", ("A02020800",), words=("65英寸",)),
    Judged("冰箱 对开门 一级能效", ("A02061801",), words=("对开门", "一级能效")),
    Judged("TP-LINK 路由器", ("A02010201",), "tp-link"),
    Judged("海康 摄像头", ("A02091107",), "海康", ("摄像头",)),
    Judged("彩色激光打印机 A3", ("A02021002",), words=("a3", "彩色", "激光")),
    Judged("齐心 档案盒", ("A05040401",), "齐心", ("档案盒",)),
]

# Queries whose hand-written offer must be on the first page of results.
BEST_ANSWERS = {
    "ThinkPad E14": 900001, "ThinkPad E14 i5": 900001, "惠普硒鼓 CF226A": 900002,
    "格力1.5匹空调": 900003, "格力 KFR-35GW": 900003, "得力中性笔 0.5": 900004,
    "A4复印纸 70g": 900005, "联想台式机 i7": 900006, "美的空调": 900007,
    "闪迪U盘": 900010, "U盘 64G": 900010,
}


def _document(offer_id, product_id, title, brand, model, code, supplier, price_fen, listed_at,
              attributes, energy=False, green=False) -> SearchDocument:
    paths, names = catalogue_paths()
    supplier_id, supplier_name, sme = supplier
    return SearchDocument(
        offer_id=offer_id, product_id=product_id, title=title, brand=brand, model=model,
        category_code=code, category_path=paths[code], supplier_id=supplier_id,
        supplier_name=supplier_name, price_fen=price_fen, stock=100, sme=sme,
        regions=("430000",), energy_saving=energy, green=green, attributes=attributes,
        listed_at=listed_at, category_names=tuple(names[c] for c in paths[code]))


def _real_category(row: dict) -> str:
    if row["category"] in _REAL_CATEGORIES and "墨盒" not in row["title"]:
        return _REAL_CATEGORIES[row["category"]]
    for word, code in _REAL_BY_WORD:
        if word in row["title"]:
            return code
    return "A05040401"  # other stationery


def build_corpus() -> list[SearchDocument]:
    """Demo offers, real listings and the hand-written best answers, the same on every run."""
    rng = random.Random(SEED)
    docs: list[SearchDocument] = []
    for product_id, product in enumerate(generate_products(DEMO_PRODUCTS, seed=SEED), start=1):
        for supplier in rng.sample(_SUPPLIERS, rng.choice((1, 2, 2, 3))):
            offer_id = len(docs) + 1
            price = product.reference_price_fen * rng.randint(85, 100) // 100
            docs.append(_document(offer_id, product_id, product.title, product.brand, product.model,
                                  product.category_code, supplier, price, 1_700_000_000 + offer_id,
                                  product.attributes, product.energy_saving, product.green))
    with REAL_LISTINGS.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            docs.append(_document(800_000 + number, 800_000 + number, row["title"], row["brand"],
                                  row["sku_id"], _real_category(row), _SUPPLIERS[number % 4],
                                  round(float(row["price"]) * 100), 1_690_000_000 + number, {}))
    for offer_id, title, brand, model, code, yuan, attributes in HAND_WRITTEN:
        docs.append(_document(offer_id, offer_id, title, brand, model, code, _SUPPLIERS[1],
                              yuan * 100, 1_710_000_000 + offer_id, attributes))
    return docs
