"""Search relevance on the embedded engine, measured on the judged query set.

Precision at 10 counts the right answers among the first ten results (out of ten, or out of
all right answers when fewer exist); the reciprocal rank is 1/position of the first right
answer. Both are averaged over the judged queries and may not fall below what was reached
when the set was written.
"""

from __future__ import annotations

import pytest

from catalog.search.tantivy_backend import TantivyBackend
from catalog.search.types import SearchQuery
from tests.catalog.judged_queries import BEST_ANSWERS, JUDGED, build_corpus

# Reached on 2026-11-23: P@10 0.99875 and MRR 1.0 over 100 judged queries and 12,152 offers
# (tantivy 0.27, rjieba 0.2.2); the one miss is "美的1.5p挂机", whose hand-written 壁挂式
# answer does not say 挂机. The set was also used while tuning the analysis and scoring, so
# these are levels to hold, not an unbiased estimate of quality.
MIN_PRECISION_AT_10 = 0.998
MIN_MEAN_RECIPROCAL_RANK = 1.0


@pytest.fixture(scope="module")
def judged_results(tmp_path_factory):
    """Every judged query's first ten offer ids and its set of right answers."""
    docs = build_corpus()
    backend = TantivyBackend(tmp_path_factory.mktemp("relevance"))
    backend.ensure_index()
    backend.index_documents(docs)
    results = []
    for judged in JUDGED:
        relevant = {doc.offer_id for doc in docs if judged.relevant(doc)}
        found = backend.search(SearchQuery(text=judged.text, page_size=10))
        results.append((judged.text, [hit.offer_id for hit in found.hits], relevant))
    return results


def _scores(top: list[int], relevant: set[int]) -> tuple[float, float]:
    hits = [offer_id in relevant for offer_id in top]
    precision = sum(hits) / min(10, len(relevant))
    first = next((rank for rank, hit in enumerate(hits, start=1) if hit), None)
    return precision, 1 / first if first else 0.0


def _report(results) -> str:
    lines = []
    for text, top, relevant in results:
        precision, reciprocal = _scores(top, relevant)
        if precision < 1 or reciprocal < 1:
            lines.append(f"{text}: P@10 {precision:.2f}, RR {reciprocal:.2f}")
    return "\n".join(lines)


def test_the_judged_set_has_enough_realistic_queries_each_with_a_right_answer(judged_results):
    assert len(judged_results) >= 60
    assert len({text for text, _top, _relevant in judged_results}) == len(judged_results)
    assert [text for text, _top, relevant in judged_results if not relevant] == []


def test_precision_at_10_and_mean_reciprocal_rank_hold_their_recorded_levels(judged_results):
    scores = [_scores(top, relevant) for _text, top, relevant in judged_results]
    precision = sum(p for p, _ in scores) / len(scores)
    mrr = sum(r for _, r in scores) / len(scores)
    assert precision >= MIN_PRECISION_AT_10, _report(judged_results)
    assert mrr >= MIN_MEAN_RECIPROCAL_RANK, _report(judged_results)


def test_the_hand_written_best_answers_are_on_the_first_page(judged_results):
    tops = {text: top for text, top, _relevant in judged_results}
    missing = {text: offer for text, offer in BEST_ANSWERS.items() if offer not in tops[text]}
    assert missing == {}
