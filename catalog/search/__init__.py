"""Product search behind one port: an embedded Tantivy index or Meilisearch, chosen by settings."""

from __future__ import annotations

import os

from catalog.search.types import (
    FACETS,
    FacetCount,
    Hit,
    ProductGroup,
    SearchBackend,
    SearchDocument,
    SearchEngineError,
    SearchQuery,
    SearchResult,
    Sort,
)

__all__ = ["FACETS", "FacetCount", "Hit", "ProductGroup", "SearchBackend", "SearchDocument",
           "SearchEngineError", "SearchQuery", "SearchResult", "Sort", "make_backend"]

BACKENDS = ("tantivy", "meilisearch")


def make_backend(kind: str = "tantivy", *, var_dir: str | os.PathLike | None = None,
                 meili_url: str = "", meili_key: str = "",
                 synonyms: list[list[str]] | None = None) -> SearchBackend:
    """The adapter SEARCH_BACKEND names: "tantivy" (index under var_dir) or "meilisearch"."""
    kind = (kind or "tantivy").lower()
    if kind == "tantivy":
        if var_dir is None:
            raise ValueError("the tantivy backend needs var_dir")
        from catalog.search.tantivy_backend import TantivyBackend

        return TantivyBackend(var_dir, synonyms=synonyms)
    if kind == "meilisearch":
        if not meili_url:
            raise ValueError("SEARCH_BACKEND=meilisearch needs MEILI_URL")
        from catalog.search.meili_backend import MeiliBackend

        return MeiliBackend(meili_url, meili_key or None, synonyms=synonyms)
    raise ValueError(f"unknown search backend {kind!r}; choose one of {', '.join(BACKENDS)}")
