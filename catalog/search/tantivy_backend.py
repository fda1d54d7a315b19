"""The embedded search engine: a Tantivy index on disk under ``var/search/tantivy-<generation>``.

Text is analysed in Python (catalog.search.text) and handed to Tantivy as whitespace-separated
terms. Filters and facets run on fast fields; the category path is a multi-valued fast field,
so one terms aggregation gives exact counts for every level of the tree. A full rebuild
writes a new generation directory and then points ``CURRENT`` at it with an atomic rename;
every process notices the switch on its next search.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tantivy

from catalog.search.synonyms import DEFAULT_SYNONYMS
from catalog.search.tantivy_query import TEXT_FIELDS, _Plan, settle_prefix
from catalog.search.text import (
    SynonymTable,
    analyse_query,
    index_text,
    normalise,
)
from catalog.search.types import (
    FacetCount,
    Hit,
    ProductGroup,
    SearchDocument,
    SearchEngineError,
    SearchQuery,
    SearchResult,
    Sort,
)

WHITESPACE = "mall_whitespace"
# Category and region facets aggregate one combined value per offer (its category path, its
# set of regions) and are split in Python: a single-valued column counts far faster than a
# multi-valued one, and as each offer has one such value the split counts stay exact.
FACET_FIELDS = {"category": "category_key", "brand": "brand_key", "supplier": "supplier_id",
                "sme": "sme", "region": "region_key", "energy_saving": "energy_saving",
                "green": "green"}
_SPLIT_FACETS = {"category": "/", "region": "|"}
_FLAGS = ("sme", "energy_saving", "green")
PRODUCT_KEY = "_products"
PRODUCT_BUCKETS = {PRODUCT_KEY: {"terms": {"field": "product_id", "size": 65_000}}}
_FACET_SIZE = 100_000  # above any real number of values, so terms aggregations are exact
_WRITER_HEAP = 128_000_000
_BUILD_HEAP = 1_000_000_000
_LOCK_WAIT_SECONDS = 10.0
EXACT_PRODUCT_COUNT = 5_000  # products counted one by one up to this estimate
_GROUP_CHUNK = 200  # offers read per pass when gathering a page of products


def build_schema() -> tantivy.Schema:
    """The index layout: analysed text fields, fast fields for filters, sorts and facets."""
    builder = tantivy.SchemaBuilder()
    # Signed: the binding's delete_documents_by_term builds an i64 term from a Python int.
    builder.add_integer_field("offer_id", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("product_id", indexed=True, fast=True)
    builder.add_unsigned_field("supplier_id", indexed=True, fast=True)
    builder.add_integer_field("price_fen", indexed=True, fast=True)
    builder.add_integer_field("stock", fast=True)
    builder.add_integer_field("listed_at", fast=True)
    for flag in _FLAGS:
        builder.add_unsigned_field(flag, indexed=True, fast=True)
    for name in ("category_path", "category_key", "category_name_key", "brand_key", "regions",
                 "region_key"):
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=WHITESPACE, index_option="freq")
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


def to_tantivy(doc: SearchDocument) -> tantivy.Document:
    """The Tantivy document of one offer; the payload carries what a hit displays."""
    out = tantivy.Document()
    out.add_integer("offer_id", doc.offer_id)
    out.add_unsigned("product_id", doc.product_id)
    out.add_unsigned("supplier_id", doc.supplier_id)
    out.add_integer("price_fen", doc.price_fen)
    out.add_integer("stock", doc.stock)
    out.add_integer("listed_at", doc.listed_at)
    for flag in _FLAGS:
        out.add_unsigned(flag, int(bool(getattr(doc, flag))))
    path = tuple(doc.category_path) or (doc.category_code,)
    for code in path:
        out.add_text("category_path", code)
    out.add_text("category_key", "/".join(path))
    for name in doc.category_names:
        out.add_text("category_name_key", normalise(name))
    out.add_text("brand_key", doc.brand)
    regions = sorted(set(doc.regions))
    for region in regions:
        out.add_text("regions", region)
    out.add_text("region_key", "|".join(regions))
    out.add_text("title", _title_text(doc.title))
    out.add_text("brand", _short_text(doc.brand))
    out.add_text("model", _short_text(doc.model))
    out.add_text("details", " ".join(_short_text(str(value)) for value in
                                     (*doc.attributes.values(), *doc.category_names)))
    out.add_bytes("payload", json.dumps(
        [doc.offer_id, doc.product_id, doc.title, doc.category_code, doc.brand,
         doc.supplier_id, doc.supplier_name, doc.price_fen, doc.stock],
        ensure_ascii=False).encode())
    return out


@functools.lru_cache(maxsize=100_000)
def _short_text(value: str) -> str:
    """index_text of the short, much repeated values (brands, categories, attributes)."""
    return index_text(value)


@functools.lru_cache(maxsize=4096)
def _title_text(title: str) -> str:
    """index_text of a title; the offers of one product, indexed together, share it."""
    return index_text(title)


def _batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class TantivyBackend:
    """Search adapter over an on-disk Tantivy index; one writer at a time, readers reloaded."""

    def __init__(self, var_dir: str | os.PathLike, *, synonyms: list[list[str]] | None = None):
        self.root = Path(var_dir) / "search"
        self.schema = build_schema()
        self._lock = threading.RLock()
        self._index: tantivy.Index | None = None
        self._generation: str | None = None
        self._current_stamp: int | None = None
        self._synonyms = SynonymTable(DEFAULT_SYNONYMS if synonyms is None else synonyms)
        self._synonyms_stamp: int | None = None
        self._explicit_synonyms = synonyms is not None
        self._executor: ThreadPoolExecutor | None = None
        self._executor_pid: int | None = None

    @property
    def _current_file(self) -> Path:
        return self.root / "CURRENT"

    def _open(self, generation: str) -> tantivy.Index:
        (self.root / generation).mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(self.schema, path=str(self.root / generation), reuse=True)
        index.register_tokenizer(
            WHITESPACE, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        return index

    def _switch_to(self, generation: str) -> None:
        temporary = self.root / "CURRENT.tmp"
        temporary.write_text(generation, encoding="utf-8")
        os.replace(temporary, self._current_file)

    def _active(self) -> tantivy.Index:
        """The index CURRENT points at, reopened when another process switched it."""
        try:
            stamp = self._current_file.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if self._index is None or stamp != self._current_stamp:
                if stamp is None:
                    self.ensure_index()
                    assert self._index is not None  # ensure_index opened one
                    return self._index
                generation = self._current_file.read_text(encoding="utf-8").strip()
                if generation != self._generation or self._index is None:
                    self._index, self._generation = self._open(generation), generation
                self._current_stamp = stamp
            return self._index

    def _new_generation(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name.rsplit("-", 1)[1]) for p in self.root.glob("tantivy-*")
                   if p.name.rsplit("-", 1)[1].isdigit()]
        return f"tantivy-{max(numbers, default=0) + 1}"

    def ensure_index(self) -> None:
        """Create an empty index generation and point CURRENT at it, unless one exists."""
        with self._lock:
            if self._current_file.exists():
                self._index = None
                self._active()
                return
            generation = self._new_generation()
            self._index, self._generation = self._open(generation), generation
            self._switch_to(generation)
            self._current_stamp = self._current_file.stat().st_mtime_ns

    def build_fresh(self, docs: Iterable[SearchDocument]) -> int:
        """Write every document into a new generation, then switch to it atomically."""
        generation = self._new_generation()
        index = self._open(generation)
        writer = index.writer(_BUILD_HEAP, 0)
        count = 0
        try:
            for doc in docs:
                writer.add_document(to_tantivy(doc))
                count += 1
            writer.commit()
        except BaseException:
            writer.rollback()
            writer.wait_merging_threads()
            shutil.rmtree(self.root / generation, ignore_errors=True)
            raise
        writer.wait_merging_threads()
        with self._lock:
            previous = self._generation
            index.reload()
            self._index, self._generation = index, generation
            self._switch_to(generation)
            self._current_stamp = self._current_file.stat().st_mtime_ns
        self._remove_old_generations(keep={generation, previous})
        return count

    def _remove_old_generations(self, keep: set[str | None]) -> None:
        # The generation just replaced stays one round, for processes still reading it.
        for path in self.root.glob("tantivy-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        index = self._active()
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                writer = index.writer(_WRITER_HEAP, 1)
                break
            except ValueError as error:  # another process holds the writer lock
                if time.monotonic() > deadline:
                    raise SearchEngineError(str(error), code="index_writer_busy") from error
                time.sleep(0.05)
        try:
            yield writer
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        index.reload()

    def index_documents(self, docs: Iterable[SearchDocument], *, batch: int = 5000) -> int:
        """Add or replace documents by offer id, committing every ``batch`` documents."""
        count = 0
        with self._writer() as writer:
            for chunk in _batched(docs, batch):
                for doc in chunk:
                    writer.delete_documents_by_term("offer_id", doc.offer_id)
                    writer.add_document(to_tantivy(doc))
                writer.commit()
                count += len(chunk)
        return count

    def delete_documents(self, offer_ids: Iterable[int]) -> None:
        """Remove offers by id; ids not in the index are ignored."""
        with self._writer() as writer:
            for offer_id in offer_ids:
                writer.delete_documents_by_term("offer_id", int(offer_id))
            writer.commit()

    def clear(self) -> None:
        """Remove every document from the active generation."""
        with self._writer() as writer:
            writer.delete_all_documents()
            writer.commit()

    def count(self) -> int:
        """How many documents the active generation holds."""
        return self._active().searcher().num_docs

    @property
    def _synonyms_file(self) -> Path:
        return self.root / "synonyms.json"

    def set_synonyms(self, groups: list[list[str]]) -> None:
        """Replace the synonym groups; saved beside the index so every process uses them."""
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / "synonyms.json.tmp"
        temporary.write_text(json.dumps(groups, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self._synonyms_file)
        with self._lock:
            self._synonyms = SynonymTable(groups)
            self._synonyms_stamp = self._synonyms_file.stat().st_mtime_ns

    def synonyms(self) -> SynonymTable:
        """The synonym table in force, re-read when another process saved a new one."""
        try:
            stamp = self._synonyms_file.stat().st_mtime_ns
        except FileNotFoundError:
            return self._synonyms
        if stamp != self._synonyms_stamp and not self._explicit_synonyms:
            groups = json.loads(self._synonyms_file.read_text(encoding="utf-8"))
            with self._lock:
                self._synonyms, self._synonyms_stamp = SynonymTable(groups), stamp
        return self._synonyms

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of hits or product groups, with exact total and facet counts.

        A grouped search makes one scoring pass (its first chunk of offers also decides
        whether words must be left out) and one aggregation pass (facets and the product
        count together), plus a small pass over the page's products for their prices.
        """
        started = time.perf_counter()
        index = self._active()
        searcher = index.searcher()
        terms = settle_prefix(searcher, analyse_query(query.text, self.synonyms()))
        plan = _Plan(self.schema, query, terms)
        wanted = query.offset + query.page_size
        # The counting pass runs beside the ranking pass (Tantivy releases the GIL).
        counting = self._pool().submit(self._aggregate, searcher, plan.full(terms), query)
        if query.group_by_product:
            chunk = max(wanted * 4, _GROUP_CHUNK)
            full, found, relaxed = plan.first_page(searcher, limit=chunk, offset=0)
        else:
            full, found, relaxed = plan.first_page(searcher, limit=query.page_size,
                                                   offset=query.offset)
        facets, product_count, estimated = counting.result()
        if relaxed:  # words were left out: count what the relaxed query matched
            facets, product_count, estimated = self._aggregate(searcher, full, query)
        hits: list[Hit] = []
        groups: list[ProductGroup] = []
        if query.group_by_product:
            groups = self._groups(searcher, plan, full, query, found, chunk)
            total = product_count if found.count else 0
        else:
            total = found.count
            relevance = plan.sort is Sort.RELEVANCE
            hits = [_hit(searcher.doc(address), key if relevance else 0.0)
                    for key, address in found.hits]
        return SearchResult(hits=hits, groups=groups, total=total, total_estimated=estimated,
                            offer_total=found.count, facets=facets,
                            took_ms=(time.perf_counter() - started) * 1000, relaxed=relaxed)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._executor_pid != os.getpid():  # forked worker
                self._executor = ThreadPoolExecutor(max_workers=4,
                                                    thread_name_prefix="search-count")
                self._executor_pid = os.getpid()
            return self._executor

    def _aggregate(self, searcher, full,
                   query: SearchQuery) -> tuple[dict[str, list[FacetCount]], int, bool]:
        """Facet counts and, for a grouped search, the number of products.

        Products are first estimated (Tantivy's HyperLogLog, in the facets' pass); up to
        EXACT_PRODUCT_COUNT they are then counted exactly, one bucket each. Above that a
        bucket per product costs more than the whole search, and the estimate is returned,
        flagged as such (facet counts, which count offers, are always exact).
        """
        wanted = [n for n in dict.fromkeys(query.facets) if n in FACET_FIELDS]
        aggregations = {n: {"terms": {"field": FACET_FIELDS[n], "size": _FACET_SIZE}}
                        for n in wanted}
        if query.group_by_product:
            aggregations[PRODUCT_KEY] = {"cardinality": {"field": "product_id"}}
        if not aggregations:
            return {}, 0, False
        result = searcher.aggregate(full, aggregations)
        products, estimated = 0, False
        if query.group_by_product:
            products = int(round(result[PRODUCT_KEY]["value"] or 0))
            estimated = products > EXACT_PRODUCT_COUNT
            if not estimated and products:
                exact = searcher.aggregate(full, PRODUCT_BUCKETS)
                products = len(exact[PRODUCT_KEY]["buckets"])
        return self._facets(result, wanted), products, estimated

    def _facets(self, result: dict, wanted: list[str]) -> dict[str, list[FacetCount]]:
        facets = {}
        for name in wanted:
            counts: dict[str, int] = {}
            for bucket in result[name]["buckets"]:
                key = bucket["key"]
                values = key.split(_SPLIT_FACETS[name]) if name in _SPLIT_FACETS else [key]
                for value in values:
                    if value != "":
                        value = _facet_value(name, value)
                        counts[value] = counts.get(value, 0) + bucket["doc_count"]
            facets[name] = sorted((FacetCount(v, c) for v, c in counts.items()),
                                  key=lambda f: (-f.count, f.value))
        return facets

    def _groups(self, searcher, plan: _Plan, full, query: SearchQuery, first,
                chunk: int) -> list[ProductGroup]:
        """Products in the order of their best-ranked offer, then their page's price figures."""
        wanted = query.offset + query.page_size
        best: dict[int, tantivy.DocAddress] = {}
        found, offset = first, 0
        while True:
            addresses = [address for _, address in found.hits]
            for product_id, address in zip(
                    searcher.fast_field_values("product_id", addresses), addresses, strict=True):
                best.setdefault(product_id, address)
            offset += chunk
            if len(best) >= wanted or len(addresses) < chunk:
                break
            found = plan.run(searcher, full, limit=chunk, offset=offset, count=False)
        page = list(best.items())[query.offset:wanted]
        if not page:
            return []
        figures = plan.offer_figures(searcher, [product_id for product_id, _ in page])
        groups = []
        for product_id, address in page:
            hit = _hit(searcher.doc(address), 0.0)
            lowest, suppliers, offers = figures[product_id]
            groups.append(ProductGroup(product_id=product_id, title=hit.title, brand=hit.brand,
                                       category_code=hit.category_code, lowest_price_fen=lowest,
                                       supplier_count=suppliers, offer_count=offers,
                                       best_offer_id=hit.offer_id))
        return groups

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of the last word typed, among offers matching the words before it."""
        terms = analyse_query(prefix.rstrip())
        if not terms or limit <= 0:
            return []
        searcher = self._active().searcher()
        last = terms[-1]
        plan = _Plan(self.schema, SearchQuery(), terms[:-1])
        stem = last.alternatives[0][-1]
        typed = normalise(prefix.rstrip())
        head = typed[:typed.rfind(stem)] if stem in typed else typed
        words = [t for t, _count in searcher.terms_with_prefix(
            "title", stem, filter_query=plan.text_query(), limit=limit * 4)]
        # Model numbers are also indexed without separators; offer them as written.
        joined = {re.sub(r"[\-/_+×*#]", "", t) for t in words if re.search(r"[\-/_+×*#]", t)}
        return [head + t for t in words if t != stem and len(t) > 1 and not t.isdigit()
                and t not in joined][:limit]


def _hit(document: tantivy.Document, score: float) -> Hit:
    payload = document.get_first("payload")
    assert payload is not None  # every offer document stores its payload (documents.py)
    (offer_id, product_id, title, category_code, brand, supplier_id, supplier_name,
     price_fen, stock) = json.loads(payload)
    return Hit(offer_id=offer_id, product_id=product_id, title=title,
               category_code=category_code, brand=brand, supplier_id=supplier_id,
               supplier_name=supplier_name, price_fen=price_fen, stock=stock, score=score)


def _facet_value(name: str, key) -> str:
    if name in _FLAGS:
        return "true" if int(key) else "false"
    if isinstance(key, float):
        return str(int(key))
    return str(key)
