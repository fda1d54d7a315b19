"""The production search engine: Meilisearch, through its official client.

Meilisearch segments Chinese itself (charabia with jieba); the documents also carry
``keywords``, the model numbers and specs split into parts by catalog.search.text, so
"226" finds "CF226A" here as in the embedded engine. Every write is a Meilisearch task:
the adapter waits for it and turns a failed task into SearchEngineError with
Meilisearch's own error code. A rebuild fills a fresh index and swaps it in.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from catalog.search.synonyms import DEFAULT_SYNONYMS
from catalog.search.text import SynonymTable, analyse_query, code_tokens, normalise, whole_words
from catalog.search.types import (
    NATIONWIDE,
    FacetCount,
    Hit,
    ProductGroup,
    SearchDocument,
    SearchEngineError,
    SearchQuery,
    SearchResult,
    Sort,
)

FACET_ATTRIBUTES = {"category": "category_path", "brand": "brand", "supplier": "supplier_id",
                    "sme": "sme", "region": "regions", "energy_saving": "energy_saving",
                    "green": "green"}
HIT_ATTRIBUTES = ["offer_id", "product_id", "title", "category_code", "brand", "supplier_id",
                  "supplier_name", "price_fen", "stock"]
_SORTS = {Sort.PRICE_ASC: ["price_fen:asc"], Sort.PRICE_DESC: ["price_fen:desc"],
          Sort.NEWEST: ["listed_at:desc"]}
_MAX_TOTAL_HITS = 2_000_000  # totals are exact up to this many matches
_FIGURES_PAGE = 1000


def index_settings(synonyms: SynonymTable) -> dict[str, Any]:
    """The index settings: what is searched, filtered, sorted, and how results are ranked."""
    return {
        "searchableAttributes": ["title", "brand", "model", "keywords", "category_names",
                                 "attribute_values"],
        "filterableAttributes": ["offer_id", "product_id", "category_path", "brand",
                                 "supplier_id", "price_fen", "sme", "regions", "energy_saving",
                                 "green", "suggest"],
        "sortableAttributes": ["price_fen", "listed_at"],
        # A chosen sort order is strict, as buyers expect from "price: low to high".
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
        "synonyms": synonyms.as_mapping(),
        "typoTolerance": {"disableOnAttributes": ["model", "keywords"], "disableOnNumbers": True},
        "faceting": {"maxValuesPerFacet": 10_000, "sortFacetValuesBy": {"*": "count"}},
        "pagination": {"maxTotalHits": _MAX_TOTAL_HITS},
        "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["cmn"]}],
    }


def to_meili(doc: SearchDocument) -> dict[str, Any]:
    """The Meilisearch document of one offer (primary key ``offer_id``)."""
    values = [str(v) for v in doc.attributes.values()]
    return {
        "offer_id": doc.offer_id, "product_id": doc.product_id, "title": doc.title,
        "brand": doc.brand, "model": doc.model,
        "keywords": code_tokens(" ".join((doc.model, doc.title, *values))),
        "category_code": doc.category_code,
        "category_path": list(doc.category_path) or [doc.category_code],
        "category_names": list(doc.category_names), "attribute_values": values,
        "supplier_id": doc.supplier_id, "supplier_name": doc.supplier_name,
        "price_fen": doc.price_fen, "stock": doc.stock, "sme": bool(doc.sme),
        "regions": sorted(set(doc.regions)), "energy_saving": bool(doc.energy_saving),
        "green": bool(doc.green), "listed_at": doc.listed_at,
        "suggest": whole_words(f"{doc.brand} {doc.title}"),
    }


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def filter_expressions(query: SearchQuery) -> list[str]:
    """The query's filters as Meilisearch filter expressions, all of which must hold."""
    filters = []
    if query.category_code:
        filters.append(f"category_path = {_quote(query.category_code)}")
    if query.brands:
        filters.append(f"brand IN [{', '.join(_quote(b) for b in query.brands)}]")
    if query.supplier_ids:
        filters.append(f"supplier_id IN [{', '.join(str(int(i)) for i in query.supplier_ids)}]")
    if query.price_min_fen is not None:
        filters.append(f"price_fen >= {int(query.price_min_fen)}")
    if query.price_max_fen is not None:
        filters.append(f"price_fen <= {int(query.price_max_fen)}")
    if query.region:
        r = query.region
        covering = sorted({r, r[:4] + "00", r[:2] + "0000", NATIONWIDE})
        filters.append(f"regions IN [{', '.join(_quote(c) for c in covering)}]")
    for attribute, wanted in (("sme", query.sme_only), ("energy_saving", query.energy_saving),
                              ("green", query.green)):
        if wanted:
            filters.append(f"{attribute} = true")
    return filters


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class MeiliBackend:
    """Search adapter over one Meilisearch index (``offers`` unless told otherwise)."""

    def __init__(self, url: str, api_key: str | None = None, *, index_uid: str = "offers",
                 synonyms: list[list[str]] | None = None, task_timeout_ms: int = 600_000,
                 timeout: int = 30):
        self.client = meilisearch.Client(url, api_key or None, timeout=timeout)
        self.uid = index_uid
        self.task_timeout_ms = task_timeout_ms
        self._synonyms = SynonymTable(DEFAULT_SYNONYMS if synonyms is None else synonyms)
        self._explicit_synonyms = synonyms is not None

    def _call(self, function, *args, **kwargs):
        """Run a client call; Meilisearch's errors become SearchEngineError with their code."""
        try:
            return function(*args, **kwargs)
        except MeilisearchApiError as error:
            raise SearchEngineError(error.message, code=error.code or "search_engine_error") \
                from error
        except MeilisearchError as error:
            raise SearchEngineError(str(error), code="search_engine_unreachable") from error

    def _await(self, task_info) -> None:
        """Wait for a task; a failed or cancelled task raises with Meilisearch's error code."""
        task = self._call(self.client.wait_for_task, task_info.task_uid,
                          timeout_in_ms=self.task_timeout_ms, interval_in_ms=50)
        if task.status != "succeeded":
            error = task.error or {}
            raise SearchEngineError(error.get("message") or f"task {task.uid} {task.status}",
                                    code=error.get("code") or f"task_{task.status}")

    def _create(self, uid: str, synonyms: dict[str, list[str]] | None = None) -> None:
        created = False
        try:
            self.client.get_index(uid)
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise SearchEngineError(error.message, code=error.code) from error
            self._await(self._call(self.client.create_index, uid, {"primaryKey": "offer_id"}))
            created = True
        except MeilisearchError as error:
            raise SearchEngineError(str(error), code="search_engine_unreachable") from error
        settings = index_settings(self._synonyms)
        if synonyms is not None:
            settings["synonyms"] = synonyms
        elif not created and not self._explicit_synonyms:
            del settings["synonyms"]  # the operator's list stays; defaults are for new indexes
        self._await(self._call(self.client.index(uid).update_settings, settings))

    def ensure_index(self) -> None:
        """Create the index if missing and (re)apply its settings."""
        self._create(self.uid)

    def _add(self, uid: str, docs: Iterable[SearchDocument], batch: int) -> int:
        index, count, pending = self.client.index(uid), 0, []
        for chunk in _batched(docs, batch):
            pending.append(self._call(index.add_documents, [to_meili(d) for d in chunk],
                                      primary_key="offer_id"))
            count += len(chunk)
            if len(pending) >= 4:  # keep a few batches in flight, not the whole catalogue
                self._await(pending.pop(0))
        for task in pending:
            self._await(task)
        return count

    def index_documents(self, docs: Iterable[SearchDocument], *, batch: int = 5000) -> int:
        """Add or replace documents by offer id, in batches, waiting for every task."""
        return self._add(self.uid, docs, batch)

    def delete_documents(self, offer_ids: Iterable[int]) -> None:
        """Remove offers by id (a filter on offer_id; deleting by id list is deprecated)."""
        index = self.client.index(self.uid)
        for chunk in _batched((int(i) for i in offer_ids), 1000):
            self._await(self._call(index.delete_documents,
                                   filter=f"offer_id IN [{', '.join(map(str, chunk))}]"))

    def clear(self) -> None:
        """Remove every document."""
        self._await(self._call(self.client.index(self.uid).delete_all_documents))

    def count(self) -> int:
        """How many documents the index holds."""
        return self._call(self.client.index(self.uid).get_stats).number_of_documents

    def set_synonyms(self, groups: list[list[str]]) -> None:
        """Replace the synonym groups in the index settings."""
        self._synonyms = SynonymTable(groups)
        self._await(self._call(self.client.index(self.uid).update_synonyms,
                               self._synonyms.as_mapping()))

    def build_fresh(self, docs: Iterable[SearchDocument]) -> int:
        """Fill a fresh index, swap it with the live one, then drop the old documents."""
        fresh = f"{self.uid}_fresh"
        self._drop(fresh)
        self.ensure_index()
        self._create(fresh, synonyms=self._call(self.client.index(self.uid).get_synonyms))
        try:
            count = self._add(fresh, docs, 5000)
        except BaseException:
            self._drop(fresh)
            raise
        self._await(self._call(self.client.swap_indexes, [{"indexes": [self.uid, fresh]}]))
        self._drop(fresh)
        return count

    def _drop(self, uid: str) -> None:
        try:
            self._await(self._call(self.client.delete_index, uid))
        except SearchEngineError as error:
            if error.code != "index_not_found":
                raise

    def search_params(self, query: SearchQuery, *, strategy: str = "all") -> dict[str, Any]:
        """The body of the search request, less ``q``."""
        params: dict[str, Any] = {
            "page": max(query.page, 1), "hitsPerPage": query.page_size,
            "filter": filter_expressions(query), "matchingStrategy": strategy,
            "attributesToRetrieve": HIT_ATTRIBUTES, "showRankingScore": True,
            "locales": ["cmn"],
        }
        sort = query.sort
        if sort is Sort.RELEVANCE and not query.text.strip():
            sort = Sort.NEWEST  # nothing to rank by: newest first, as in the embedded engine
        if sort in _SORTS:
            params["sort"] = _SORTS[sort]
        facets = [FACET_ATTRIBUTES[f] for f in dict.fromkeys(query.facets) if f in FACET_ATTRIBUTES]
        if facets:
            params["facets"] = facets
        if query.group_by_product:
            params["distinct"] = "product_id"
        return params

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of hits or product groups, with exact total and facet counts."""
        started = time.perf_counter()
        index = self.client.index(self.uid)
        text = normalise(query.text)
        answer = self._call(index.search, text, self.search_params(query))
        relaxed = False
        if not answer.get("totalHits") and len(analyse_query(text)) > 1:
            answer = self._call(index.search, text, self.search_params(query, strategy="last"))
            relaxed = bool(answer.get("totalHits"))
        facets = {}
        distribution = answer.get("facetDistribution") or {}
        for name in dict.fromkeys(query.facets):
            counts = distribution.get(FACET_ATTRIBUTES.get(name, ""), {})
            facets[name] = sorted((FacetCount(str(v), int(c)) for v, c in counts.items()),
                                  key=lambda f: (-f.count, f.value))
        hits = [_hit(h) for h in answer["hits"]]
        groups = []
        if query.group_by_product and hits:
            strategy = "last" if relaxed else "all"
            figures = self._offer_figures(index, text, query, [h.product_id for h in hits],
                                          strategy)
            groups = [ProductGroup(product_id=h.product_id, title=h.title, brand=h.brand,
                                   category_code=h.category_code,
                                   lowest_price_fen=figures[h.product_id][0],
                                   supplier_count=figures[h.product_id][1],
                                   offer_count=figures[h.product_id][2],
                                   best_offer_id=h.offer_id)
                      for h in hits if h.product_id in figures]
            hits = []
        total = int(answer.get("totalHits") or 0)
        # Grouped (distinct product) answers count products; offers are not counted then.
        return SearchResult(hits=hits, groups=groups, total=total,
                            offer_total=None if query.group_by_product else total, facets=facets,
                            took_ms=(time.perf_counter() - started) * 1000,
                            relaxed=relaxed)

    def _offer_figures(self, index, text: str, query: SearchQuery, product_ids: list[int],
                       strategy: str) -> dict[int, tuple[int, int, int]]:
        """Lowest price, supplier count and offer count per product among matching offers."""
        ids = ", ".join(str(p) for p in product_ids)
        base = replace(query, facets=(), group_by_product=False, page_size=_FIGURES_PAGE)
        rows: list[dict] = []
        page = 1
        while True:
            params = self.search_params(base, strategy=strategy)
            params.update(page=page, filter=[*params["filter"], f"product_id IN [{ids}]"],
                          attributesToRetrieve=["product_id", "price_fen", "supplier_id"],
                          showRankingScore=False)
            params.pop("sort", None)
            answer = self._call(index.search, text, params)
            rows.extend(answer["hits"])
            if page >= int(answer.get("totalPages") or 1):
                break
            page += 1
        figures: dict[int, tuple[int, set[int], int]] = {}
        for row in rows:
            lowest, suppliers, offers = figures.get(row["product_id"], (row["price_fen"], set(), 0))
            suppliers.add(row["supplier_id"])
            figures[row["product_id"]] = (min(lowest, row["price_fen"]), suppliers, offers + 1)
        return {p: (low, len(s), n) for p, (low, s, n) in figures.items()}

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of the last word typed, among offers matching the words before it."""
        terms = analyse_query(prefix.rstrip())
        if not terms or limit <= 0:
            return []
        typed = normalise(prefix.rstrip())
        stem = terms[-1].alternatives[0][-1]
        head = typed[:typed.rfind(stem)] if stem in typed else typed
        answer = self._call(self.client.index(self.uid).facet_search, "suggest", stem,
                            {"q": head.strip(), "matchingStrategy": "all"})
        out = []
        for hit in sorted(answer.get("facetHits", []), key=lambda h: (-h["count"], h["value"])):
            if hit["value"] != stem and hit["value"].startswith(stem):
                out.append(head + hit["value"])
        return out[:limit]


def _hit(row: dict[str, Any]) -> Hit:
    return Hit(offer_id=row["offer_id"], product_id=row["product_id"], title=row["title"],
               category_code=row["category_code"], brand=row["brand"],
               supplier_id=row["supplier_id"], supplier_name=row["supplier_name"],
               price_fen=row["price_fen"], stock=row["stock"],
               score=float(row.get("_rankingScore") or 0.0))
