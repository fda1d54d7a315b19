"""The search backends under contract, and a small hand-written catalogue to search.

Every available backend runs the same tests: Tantivy always; Meilisearch when MEILI_URL
points at a server (MEILI_KEY is its key). Without MEILI_URL the Meilisearch run is
reported by one skipped test; tests/contract/test_meili_requests.py still checks every request
the adapter sends against Meilisearch's OpenAPI document.
"""

from __future__ import annotations

import os
import uuid
from functools import cache

import pytest

from catalog.search.types import NATIONWIDE, SearchDocument
from catalog.services import read_catalogue_file

MEILI_URL = os.environ.get("MEILI_URL", "")
MEILI_MISSING = ("no Meilisearch server (MEILI_URL is not set): the Meilisearch run of the search "
                 "contract is NOT done here; it runs on Tantivy only, and the Meilisearch "
                 "adapter's requests are checked against its OpenAPI document in test_meili_requests")
BACKENDS = ["tantivy", *(["meilisearch"] if MEILI_URL else [])]

SUPPLIERS = {1: ("长沙办公用品有限公司", True), 2: ("京东政企业务部", False), 3: ("齐心集团", True)}
LAPTOP, DESKTOP, PAPER, TONER = "A02010108", "A02010105", "A05040101", "A05040201"
AIRCON, PEN, CABINET = "A02061804", "A05040402", "A05010502"


@cache
def catalogue_paths() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Every code's path from the top level down, and every code's name (DB-free)."""
    rows = read_catalogue_file()
    parent = {r["code"]: r["parent_code"] for r in rows}
    names = {r["code"]: r["name"] for r in rows}
    paths = {}
    for code in parent:
        chain = [code]
        while parent[chain[-1]]:
            chain.append(parent[chain[-1]])
        paths[code] = tuple(reversed(chain))
    return paths, names


def document(offer_id: int, product_id: int, title: str, brand: str, model: str, code: str,
             supplier_id: int, price_fen: int, **extra) -> SearchDocument:
    """A search document with its category path and names taken from the real catalogue."""
    paths, names = catalogue_paths()
    name, sme = SUPPLIERS[supplier_id]
    values = {"stock": 50, "regions": ("430000",), "listed_at": 1_700_000_000 + offer_id * 60,
              "sme": sme, **extra}
    return SearchDocument(offer_id=offer_id, product_id=product_id, title=title, brand=brand,
                          model=model, category_code=code, category_path=paths[code],
                          supplier_id=supplier_id, supplier_name=name, price_fen=price_fen,
                          category_names=tuple(names[c] for c in paths[code]), **values)


def corpus() -> list[SearchDocument]:
    """Fourteen offers of eleven products from three suppliers."""
    laptop = "联想（Lenovo） ThinkPad E14 轻薄商务办公笔记本电脑 i5-1235U 16G 512G 14英寸"
    paper = "得力（deli） 7401 A4复印纸 70g 500张/包 5包/箱"
    return [
        document(1, 101, laptop, "联想（Lenovo）", "ThinkPad E14", LAPTOP, 1, 459900,
                 energy_saving=True, attributes={"CPU": "i5-1235U", "内存": "16GB"}),
        document(2, 101, laptop, "联想（Lenovo）", "ThinkPad E14", LAPTOP, 2, 449900,
                 energy_saving=True, regions=(NATIONWIDE,)),
        document(3, 101, laptop, "联想（Lenovo）", "ThinkPad E14", LAPTOP, 3, 469900,
                 energy_saving=True, regions=("110000",)),
        document(4, 102, "惠普（HP） 战66 六代 14英寸轻薄笔记本电脑 i7-1260P 16G 1T", "惠普（HP）",
                 "战66 六代", LAPTOP, 1, 599900, attributes={"CPU": "i7-1260P"}),
        document(5, 103, "联想（Lenovo） 扬天 M4000q 商用办公台式机电脑 i7-12700 16G 1T", "联想（Lenovo）",
                 "扬天 M4000q", DESKTOP, 2, 529900, attributes={"CPU": "i7-12700"}),
        document(6, 104, paper, "得力（deli）", "7401", PAPER, 1, 12900, green=True,
                 attributes={"克重": "70g", "规格": "A4"}),
        document(7, 104, paper, "得力（deli）", "7401", PAPER, 2, 11900, green=True,
                 attributes={"克重": "70g", "规格": "A4"}),
        document(8, 105, "得力（deli） 7402 A4复印纸 80g 500张/包", "得力（deli）", "7402", PAPER, 3,
                 15900, attributes={"克重": "80g", "规格": "A4"}),
        document(9, 106, "惠普（HP） CF226A 黑色硒鼓 约3100页 适用M402d/M426fdw", "惠普（HP）",
                 "CF226A", TONER, 2, 58900),
        document(10, 107, "格之格（G&G） NT-PH228A 鼓粉盒 适用惠普M403d", "格之格（G&G）",
                 "NT-PH228A", TONER, 3, 15900),
        document(11, 108, "格力（GREE） 1.5匹 新一级能效 变频冷暖 壁挂式空调 KFR-35GW/NhGc1B",
                 "格力（GREE）", "KFR-35GW/NhGc1B", AIRCON, 1, 329900, energy_saving=True),
        document(12, 109, "格力（GREE） 2匹 立柜式空调柜机 KFR-50LW/NhAa1BAy", "格力（GREE）",
                 "KFR-50LW/NhAa1BAy", AIRCON, 2, 699900),
        document(13, 110, "得力（deli） S01 中性笔 0.5mm 黑色 12支/盒", "得力（deli）", "S01", PEN, 3,
                 1590),
        document(14, 111, "震旦（AURORA） 钢制文件柜 铁皮柜 对开门 0.8mm", "震旦（AURORA）",
                 "AR-WJG2907W", CABINET, 1, 89900),
    ]


def _meilisearch_backend(request):
    from catalog.search.meili_backend import MeiliBackend

    backend = MeiliBackend(MEILI_URL, os.environ.get("MEILI_KEY") or None,
                           index_uid=f"contract_{uuid.uuid4().hex[:12]}")

    def drop():
        for uid in (backend.uid, f"{backend.uid}_fresh"):
            backend._drop(uid)

    request.addfinalizer(drop)
    return backend


@pytest.fixture(params=BACKENDS)
def empty_backend(request, tmp_path):
    """A backend with an empty index and the default synonyms."""
    if request.param == "tantivy":
        from catalog.search.tantivy_backend import TantivyBackend

        backend = TantivyBackend(tmp_path / "var")
    else:
        backend = _meilisearch_backend(request)
    backend.ensure_index()
    return backend


@pytest.fixture
def backend(empty_backend):
    """A backend holding the contract corpus."""
    empty_backend.index_documents(corpus(), batch=5)
    return empty_backend
