"""The behaviour every search backend must show, run against each available one."""

from __future__ import annotations

import os
import threading
from dataclasses import replace

import pytest

from catalog.search.types import FACETS, SearchQuery, Sort
from tests.contract.conftest import (
    AIRCON,
    LAPTOP,
    MEILI_MISSING,
    MEILI_URL,
    PAPER,
    TONER,
    corpus,
    document,
)


def ids(result) -> set[int]:
    return {hit.offer_id for hit in result.hits}


def find(backend, text: str = "", **options):
    return backend.search(SearchQuery(text=text, page_size=50, **options))


def expected_counts(docs, attribute) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in docs:
        for value in attribute(doc):
            counts[value] = counts.get(value, 0) + 1
    return counts


def test_the_contract_also_runs_on_meilisearch_when_meili_url_is_set():
    if not MEILI_URL:
        pytest.skip(MEILI_MISSING)
    from catalog.search.meili_backend import MeiliBackend

    assert MeiliBackend(MEILI_URL, os.environ.get("MEILI_KEY") or None).client.is_healthy()


def test_the_factory_builds_the_adapter_that_search_backend_names(tmp_path):
    from catalog.search import make_backend
    from catalog.search.meili_backend import MeiliBackend
    from catalog.search.tantivy_backend import TantivyBackend

    assert isinstance(make_backend("tantivy", var_dir=tmp_path), TantivyBackend)
    meili = make_backend("meilisearch", meili_url="http://127.0.0.1:7700", meili_key="key")
    assert isinstance(meili, MeiliBackend)
    for wrong in ({"kind": "solr", "var_dir": tmp_path}, {"kind": "meilisearch"},
                  {"kind": "tantivy"}):
        with pytest.raises(ValueError):
            make_backend(**wrong)


# -- finding ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("复印纸", {6, 7, 8}),
    ("笔记本电脑", {1, 2, 3, 4}),
    ("格力空调", {11, 12}),
    ("文件柜", {14}),
    ("得力中性笔", {13}),
])
def test_chinese_text_finds_the_offers_whose_titles_say_it(backend, text, expected):
    assert ids(find(backend, text + " ")) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("CF226A ", {9}), ("cf226a ", {9}), ("ＣＦ２２６Ａ ", {9}), ("226A ", {9}), ("226 ", {9}),
    ("KFR-35GW/NhGc1B ", {11}), ("35GW ", {11}), ("i7-12700 ", {5}), ("12700 ", {5}),
])
def test_model_numbers_are_found_whole_and_by_their_parts(backend, text, expected):
    assert ids(find(backend, text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("复印纸 70g ", {6, 7}), ("复印纸 80g ", {8}), ("1.5匹空调 ", {11}), ("2匹 ", {12}),
    ("0.5mm中性笔 ", {13}),
])
def test_specs_narrow_to_the_offers_that_have_them(backend, text, expected):
    assert ids(find(backend, text)) == expected


def test_a_word_nobody_listed_finds_nothing(backend):
    result = find(backend, "挖掘机 ")
    assert (result.total, result.hits) == (0, [])


def test_when_not_every_word_matches_the_trailing_words_are_dropped(backend):
    result = find(backend, "复印纸 挖掘机 ")
    assert result.relaxed
    assert ids(result) >= {6, 7, 8}


# -- synonyms and typing --------------------------------------------------------------------

def test_default_synonyms_find_laptops_by_their_catalogue_name_and_toner_by_either_word(backend):
    assert ids(find(backend, "便携式计算机 ")) == {1, 2, 3, 4}
    assert ids(find(backend, "硒鼓 ")) == {9, 10}
    assert ids(find(backend, "打印纸 ")) == {6, 7, 8}


def test_synonyms_set_by_the_operator_replace_the_defaults(backend):
    backend.set_synonyms([["签字笔", "中性笔"]])
    assert ids(find(backend, "签字笔 ")) == {13}
    assert ids(find(backend, "打印纸 ")) == set()


def test_the_last_word_is_matched_as_a_prefix_while_typing(backend):
    assert ids(find(backend, "笔记")) >= {1, 2, 3, 4}
    assert ids(find(backend, "CF22")) == {9}
    assert ids(find(backend, "CF22 ")) == set()  # a finished word is matched whole


def test_suggestions_complete_the_last_word(backend):
    suggestions = backend.suggest("笔记", limit=5)
    assert suggestions and all(s.startswith("笔记") for s in suggestions)
    assert any("笔记本" in s for s in suggestions)
    assert backend.suggest("", limit=5) == []


# -- filters ------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("A02000000", {1, 2, 3, 4, 5, 11, 12}), ("A02010100", {1, 2, 3, 4, 5}),
    (LAPTOP, {1, 2, 3, 4}), (TONER, {9, 10}), ("A05040000", {6, 7, 8, 9, 10, 13}),
])
def test_a_category_filter_matches_offers_at_any_level_below_it(backend, code, expected):
    assert ids(find(backend, category_code=code)) == expected


def test_brand_supplier_price_and_flag_filters_combine(backend):
    assert ids(find(backend, brands=("格力（GREE）", "惠普（HP）"))) == {4, 9, 11, 12}
    assert ids(find(backend, supplier_ids=(3,))) == {3, 8, 10, 13}
    assert ids(find(backend, price_min_fen=15900, price_max_fen=58900)) == {8, 9, 10}
    assert ids(find(backend, sme_only=True, category_code=PAPER)) == {6, 8}
    assert ids(find(backend, energy_saving=True)) == {1, 2, 3, 11}
    assert ids(find(backend, green=True)) == {6, 7}
    assert ids(find(backend, "笔记本电脑 ", supplier_ids=(1, 2), price_max_fen=500000)) == {1, 2}


def test_a_region_filter_matches_offers_delivering_to_the_province_or_nationwide(backend):
    changsha_district = ids(find(backend, region="430102"))
    assert changsha_district == {d.offer_id for d in corpus()} - {3}
    assert ids(find(backend, region="110105")) == {2, 3}


# -- facets -------------------------------------------------------------------------------

def test_facet_counts_are_exact_and_categories_roll_up_the_tree(backend):
    result = find(backend, facets=FACETS)
    docs = corpus()
    facets = {name: {f.value: f.count for f in values} for name, values in result.facets.items()}
    assert facets["category"] == expected_counts(docs, lambda d: d.category_path)
    assert facets["category"]["A02000000"] == 7
    assert facets["brand"] == expected_counts(docs, lambda d: [d.brand])
    assert facets["supplier"] == {"1": 5, "2": 5, "3": 4}
    assert facets["sme"] == {"true": 9, "false": 5}
    assert facets["region"] == {"430000": 12, "000000": 1, "110000": 1}
    assert facets["energy_saving"] == {"true": 4, "false": 10}
    assert facets["green"] == {"true": 2, "false": 12}


def test_facet_counts_follow_text_and_filters_and_are_sorted_by_count(backend):
    result = find(backend, "得力 ", sme_only=True, facets=("category", "supplier"))
    assert result.total == 3  # offers 6, 8, 13
    assert [(f.value, f.count) for f in result.facets["supplier"]] == [("3", 2), ("1", 1)]
    categories = {f.value: f.count for f in result.facets["category"]}
    assert categories["A05000000"] == 3 and categories[PAPER] == 2
    counts = [f.count for f in result.facets["category"]]
    assert counts == sorted(counts, reverse=True)


# -- sorting and pages --------------------------------------------------------------------

def test_sorts_by_price_both_ways_and_by_newest(backend):
    up = find(backend, category_code="A02000000", sort=Sort.PRICE_ASC)
    assert [h.price_fen for h in up.hits] == sorted(h.price_fen for h in up.hits)
    down = find(backend, category_code="A02000000", sort=Sort.PRICE_DESC)
    assert [h.offer_id for h in down.hits] == [h.offer_id for h in up.hits][::-1]
    newest = find(backend, sort=Sort.NEWEST)
    assert [h.offer_id for h in newest.hits] == list(range(14, 0, -1))
    assert [h.offer_id for h in find(backend).hits] == list(range(14, 0, -1))


def test_relevance_puts_the_title_match_before_a_mention_in_passing(backend):
    hits = find(backend, "惠普硒鼓 ").hits
    assert hits[0].offer_id == 9  # 格之格 is a 鼓粉盒 only "适用惠普"
    assert hits[0].score >= hits[-1].score


def test_pages_split_the_results_without_overlap_and_keep_the_total(backend):
    pages = [backend.search(SearchQuery(sort=Sort.PRICE_ASC, page=n, page_size=5))
             for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [14] * 4
    assert [len(p.hits) for p in pages] == [5, 5, 4, 0]
    seen = [h.offer_id for p in pages for h in p.hits]
    assert len(seen) == len(set(seen)) == 14


def test_hits_carry_what_a_result_card_shows(backend):
    hit = find(backend, "CF226A ").hits[0]
    assert (hit.offer_id, hit.product_id, hit.category_code, hit.brand) == (9, 106, TONER, "惠普（HP）")
    assert (hit.supplier_id, hit.supplier_name, hit.price_fen, hit.stock) == (2, "京东政企业务部", 58900, 50)
    assert hit.title.startswith("惠普（HP） CF226A")


# -- grouping by product ------------------------------------------------------------------

def test_grouping_shows_each_product_once_with_its_lowest_price_and_supplier_count(backend):
    result = find(backend, "笔记本电脑 ", group_by_product=True, sort=Sort.PRICE_ASC)
    assert result.total == 2 and result.hits == []
    first, second = result.groups
    assert (first.product_id, first.lowest_price_fen, first.supplier_count) == (101, 449900, 3)
    assert (first.best_offer_id, first.offer_count) == (2, 3)
    assert (second.product_id, second.lowest_price_fen, second.supplier_count) == (102, 599900, 1)


def test_grouped_figures_respect_the_filters(backend):
    result = find(backend, category_code=LAPTOP, supplier_ids=(1, 3), group_by_product=True,
                  sort=Sort.PRICE_ASC)
    figures = {g.product_id: (g.lowest_price_fen, g.supplier_count) for g in result.groups}
    assert figures == {101: (459900, 2), 102: (599900, 1)}


def test_grouped_pages_count_products(backend):
    pages = [backend.search(SearchQuery(group_by_product=True, sort=Sort.PRICE_ASC, page=n,
                                        page_size=4)) for n in (1, 2, 3)]
    assert [p.total for p in pages] == [11, 11, 11]
    products = [g.product_id for p in pages for g in p.groups]
    assert len(products) == len(set(products)) == 11


# -- writes -------------------------------------------------------------------------------

def test_a_deleted_offer_disappears_and_an_updated_one_shows_its_new_price(backend):
    backend.delete_documents([9, 999])
    assert ids(find(backend, "硒鼓 ")) == {10}
    paper = next(d for d in corpus() if d.offer_id == 6)
    backend.index_documents([replace(paper, price_fen=9900)])
    assert backend.count() == 13
    cheapest = find(backend, "复印纸 ", sort=Sort.PRICE_ASC).hits[0]
    assert (cheapest.offer_id, cheapest.price_fen) == (6, 9900)


def test_clear_empties_the_index(backend):
    assert backend.count() == 14
    backend.clear()
    assert backend.count() == 0 and find(backend, "复印纸 ").total == 0


def test_a_rebuild_switches_over_only_when_complete_and_searches_answer_meanwhile(backend):
    started, release = threading.Event(), threading.Event()
    fresh = [document(21, 201, "齐心（COMIX） C4781 A4复印纸 70g 500张/包", "齐心（COMIX）", "C4781",
                      PAPER, 3, 9900)]

    def slow_documents():
        yield fresh[0]
        started.set()
        assert release.wait(30)
        yield document(22, 202, "美的（Midea） 1.5匹 壁挂式空调", "美的（Midea）", "KFR-35GW/N8",
                       AIRCON, 2, 259900)

    errors = []
    builder = threading.Thread(target=lambda: _run(backend.build_fresh, slow_documents(), errors))
    builder.start()
    assert started.wait(30)
    during = find(backend, "复印纸 ")
    release.set()
    builder.join(60)
    assert not errors and not builder.is_alive()
    assert ids(during) == {6, 7, 8}
    assert ids(find(backend, "复印纸 ")) == {21}
    assert backend.count() == 2


def _run(function, argument, errors):
    try:
        function(argument)
    except Exception as error:  # reported by the test thread
        errors.append(error)


# -- from the database --------------------------------------------------------------------

def test_only_visible_offers_are_indexed_from_the_database(empty_backend, session):
    from catalog.models import Offer, OfferStatus
    from catalog.search.documents import count_documents, iter_documents, refresh_offers
    from tests.factories.suppliers import DESKTOP, admitted_supplier, listed_offer

    _user, actor = admitted_supplier(session, codes=(PAPER, DESKTOP))
    kept = listed_offer(session, actor, model="KEEP-70")
    frozen = listed_offer(session, actor, model="FROZEN-70")
    session.get(Offer, frozen.offer_id).status = OfferStatus.FROZEN
    session.flush()
    docs = list(iter_documents(session, offer_ids=[kept.offer_id, frozen.offer_id], batch=1))
    assert [d.offer_id for d in docs] == [kept.offer_id]
    doc = docs[0]
    assert doc.category_path == ("A05000000", "A05040000", "A05040100", PAPER)
    assert doc.category_names[-1] == "复印纸" and doc.regions == ("430000",)
    assert doc.attributes == {"规格": "A4", "克重": "70g"} and doc.listed_at > 0
    assert count_documents(session) == len(list(iter_documents(session)))
    empty_backend.index_documents(docs)
    assert ids(find(empty_backend, "KEEP-70 ")) == {kept.offer_id}
    session.get(Offer, kept.offer_id).suspended = True
    session.flush()
    assert refresh_offers(session, empty_backend, offer_ids=[kept.offer_id]) == (0, 1)
    assert find(empty_backend, "复印纸 ").total == 0
