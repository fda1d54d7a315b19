"""What the search port speaks: index documents, queries, results, and the backend protocol."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from mall.core.errors import MallError

NATIONWIDE = "000000"  # a delivery region covering the whole country
FACETS = ("category", "brand", "supplier", "sme", "region", "energy_saving", "green")


@dataclass(frozen=True)
class SearchDocument:
    """One listed, visible offer as the index sees it (prices in fen, times in epoch seconds).

    ``category_path`` holds every ancestor code, leaf last, so category filters and facet
    counts roll up the catalogue tree; ``regions`` are 6-digit codes the offer delivers to
    (a province code covers its cities, ``NATIONWIDE`` the whole country);
    ``category_names`` are the names along the path, searched with low weight.
    """

    offer_id: int
    product_id: int
    title: str
    brand: str
    model: str
    category_code: str
    category_path: tuple[str, ...]
    supplier_id: int
    supplier_name: str
    price_fen: int
    stock: int
    sme: bool = False
    regions: tuple[str, ...] = ()
    energy_saving: bool = False
    green: bool = False
    attributes: dict[str, str] = field(default_factory=dict)
    listed_at: int = 0
    category_names: tuple[str, ...] = ()


class Sort(enum.StrEnum):
    """Result orders a buyer can choose; relevance without text means newest first."""

    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"


@dataclass(frozen=True)
class SearchQuery:
    """Text, filters, wanted facets, order and page of one search.

    ``category_code`` matches offers under that code at any level; ``region`` (a buyer's
    6-digit code) matches offers delivering there, to its city or province, or nationwide.
    With ``group_by_product`` the page holds products (each placed where its best-ranked
    offer would be, e.g. its cheapest under price_asc) and ``total`` counts products; facet
    counts still count offers.
    """

    text: str = ""
    category_code: str | None = None
    brands: tuple[str, ...] = ()
    supplier_ids: tuple[int, ...] = ()
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    sme_only: bool = False
    region: str | None = None
    energy_saving: bool = False
    green: bool = False
    facets: tuple[str, ...] = ()
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    page_size: int = 20
    group_by_product: bool = False

    @property
    def offset(self) -> int:
        """How many results come before this page."""
        return (max(self.page, 1) - 1) * self.page_size


@dataclass(frozen=True)
class Hit:
    """One offer on a result page."""

    offer_id: int
    product_id: int
    title: str
    category_code: str
    brand: str
    supplier_id: int
    supplier_name: str
    price_fen: int
    stock: int
    score: float = 0.0


@dataclass(frozen=True)
class ProductGroup:
    """One product on a grouped result page: its lowest price and how many suppliers offer it."""

    product_id: int
    title: str
    brand: str
    category_code: str
    lowest_price_fen: int
    supplier_count: int
    offer_count: int
    best_offer_id: int


@dataclass(frozen=True)
class FacetCount:
    """How many matching offers carry one facet value."""

    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    """A page of hits (or product groups), the total and exact facet counts (of offers).

    ``relaxed`` is set when no offer matched every word and the trailing words were dropped.
    ``total`` counts offers, or products when grouped; a product count over a large set may
    be an estimate (``total_estimated``), as search engines give (Meilisearch's
    estimatedTotalHits); ``offer_total`` is the exact number of matching offers (None
    where the engine does not count them: Meilisearch's grouped answers).
    """

    hits: list[Hit] = field(default_factory=list)
    groups: list[ProductGroup] = field(default_factory=list)
    total: int = 0
    total_estimated: bool = False
    offer_total: int | None = 0
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    took_ms: float = 0.0
    relaxed: bool = False


class SearchEngineError(MallError):
    """The search engine refused or failed a request; ``code`` is the engine's own error code."""

    code = "search_engine_error"
    status = 503
    title = "Search is unavailable"


class SearchBackend(Protocol):
    """A search engine adapter; every implementation passes tests/contract."""

    def ensure_index(self) -> None:
        """Create the index with its settings if it does not exist yet."""

    def index_documents(self, docs: Iterable[SearchDocument], *, batch: int = 5000) -> int:
        """Add or replace documents (by offer id) in batches; returns how many were sent."""

    def delete_documents(self, offer_ids: Iterable[int]) -> None:
        """Remove offers from the index; unknown ids are ignored."""

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of results with exact total and facet counts."""

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of what a buyer has typed so far."""

    def clear(self) -> None:
        """Remove every document."""

    def count(self) -> int:
        """How many documents the index holds."""

    def set_synonyms(self, groups: list[list[str]]) -> None:
        """Replace the synonym groups (each a list of words that mean the same)."""

    def build_fresh(self, docs: Iterable[SearchDocument]) -> int:
        """Build a new index from ``docs`` and switch to it when complete; searches keep
        answering from the old one meanwhile. Returns how many documents were indexed."""
