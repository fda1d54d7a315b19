"""Grouped totals over large sets are estimates, flagged as such; small ones stay exact."""

from __future__ import annotations

from catalog.search import tantivy_backend
from catalog.search.types import FACETS, SearchQuery
from tests.contract.conftest import corpus


def _backend(tmp_path):
    backend = tantivy_backend.TantivyBackend(tmp_path)
    backend.build_fresh(corpus())
    return backend


def test_grouped_totals_are_exact_up_to_the_limit(tmp_path):
    result = _backend(tmp_path).search(SearchQuery(group_by_product=True, facets=FACETS))
    assert (result.total, result.total_estimated, result.offer_total) == (11, False, 14)


def test_a_grouped_total_above_the_limit_is_flagged_as_an_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr(tantivy_backend, "EXACT_PRODUCT_COUNT", 5)
    result = _backend(tmp_path).search(SearchQuery(group_by_product=True, facets=FACETS))
    assert result.total_estimated
    assert abs(result.total - 11) <= 1  # HyperLogLog is close on a set this small
    assert result.offer_total == 14
    assert sum(f.count for f in result.facets["sme"]) == 14  # facet counts stay exact
