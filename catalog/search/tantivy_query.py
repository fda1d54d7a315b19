"""The query planner of the Tantivy backend, kept apart from index management to keep files short."""

from __future__ import annotations

import tantivy

from catalog.search.text import QueryTerm
from catalog.search.types import NATIONWIDE, SearchQuery, Sort

TEXT_FIELDS = {"title": 3.0, "brand": 2.0, "model": 2.0, "details": 1.2}  # details: specs, category
_ORDERS = {Sort.PRICE_ASC: ("price_fen", tantivy.Order.Asc),
           Sort.PRICE_DESC: ("price_fen", tantivy.Order.Desc),
           Sort.NEWEST: ("listed_at", tantivy.Order.Desc)}
_REGEX_SPECIAL = frozenset("\\.+*?()|[]{}^$#&~-")
_PREFIX_BOOST = 0.5
_CATEGORY_INTENT = 20.0
_SYNONYM_BOOST = 0.8
_WHOLE_WORD_DOCS = 50  # a last word found whole in this many titles is taken as finished


def settle_prefix(searcher, terms: list[QueryTerm]) -> list[QueryTerm]:
    """Match the last word as a prefix only while it may be unfinished.

    A last word that many titles contain whole ("得力", "复印纸") is a finished word: its
    longer completions add noise and cost a scan of the term dictionary per field. A rare
    or unknown one ("CF22", "笔记") is still being typed and keeps prefix matching.
    """
    if not terms or not terms[-1].prefix:
        return terms
    last = terms[-1]
    if searcher.doc_freq("title", last.alternatives[0][-1]) < _WHOLE_WORD_DOCS:
        return terms
    return [*terms[:-1], QueryTerm(last.text, last.alternatives, prefix=False)]


class _Plan:
    """The Tantivy queries of one search: text terms, filters and order."""

    def __init__(self, schema: tantivy.Schema, query: SearchQuery, terms: list[QueryTerm]):
        self.schema, self.query, self.terms = schema, query, terms
        # Without text there is nothing to rank by: relevance means newest first.
        self.sort = Sort.NEWEST if not terms and query.sort is Sort.RELEVANCE else query.sort
        self.filters = self._filters()

    def _term(self, field: str, value) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value)

    def _filters(self) -> list[tantivy.Query]:
        q, schema, Query = self.query, self.schema, tantivy.Query
        filters = []
        if q.category_code:
            filters.append(self._term("category_path", q.category_code))
        if q.brands:
            filters.append(Query.term_set_query(schema, "brand_key", list(q.brands)))
        if q.supplier_ids:
            filters.append(Query.term_set_query(schema, "supplier_id",
                                                [int(i) for i in q.supplier_ids]))
        if q.price_min_fen is not None or q.price_max_fen is not None:
            filters.append(Query.range_query(schema, "price_fen", tantivy.FieldType.Integer,
                                             q.price_min_fen, q.price_max_fen))
        if q.region:
            covering = {q.region, q.region[:4] + "00", q.region[:2] + "0000", NATIONWIDE}
            filters.append(Query.term_set_query(schema, "regions", sorted(covering)))
        for flag, wanted in (("sme", q.sme_only), ("energy_saving", q.energy_saving),
                             ("green", q.green)):
            if wanted:
                filters.append(self._term(flag, 1))
        return [Query.const_score_query(f, 0.0) for f in filters]

    def _token(self, token: str) -> tantivy.Query:
        Query = tantivy.Query
        return Query.disjunction_max_query(
            [Query.boost_query(Query.term_query(self.schema, field, token, "freq"), boost)
             for field, boost in TEXT_FIELDS.items()], 0.2)

    def _prefix(self, stem: str) -> tantivy.Query:
        Query = tantivy.Query
        pattern = "".join("\\" + c if c in _REGEX_SPECIAL else c for c in stem) + ".*"
        return Query.disjunction_max_query(
            [Query.boost_query(Query.regex_query(self.schema, field, pattern),
                               _PREFIX_BOOST * TEXT_FIELDS[field])
             for field in ("title", "brand", "model")], 0.2)

    def _all_of(self, queries: list[tantivy.Query]) -> tantivy.Query:
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])

    def _term_query(self, term: QueryTerm) -> tantivy.Query:
        # The best alternative counts, not their sum: a title saying both "硒鼓" and its
        # synonym "鼓粉盒" is no better a match. An alternative of several words is scaled
        # down to weigh like one word.
        alternatives = []
        for position, alternative in enumerate(term.alternatives):
            boost = (1.0 if position == 0 else _SYNONYM_BOOST) / len(alternative)
            query = self._all_of([self._token(t) for t in alternative])
            alternatives.append(query if boost == 1.0 else tantivy.Query.boost_query(query, boost))
        if term.prefix:
            *before, stem = term.alternatives[0]
            alternatives.append(self._all_of([*(self._token(t) for t in before),
                                              self._prefix(stem)]))
        if len(alternatives) == 1:
            return alternatives[0]
        return tantivy.Query.disjunction_max_query(alternatives, 0.1)

    def _intent(self, terms: list[QueryTerm]) -> tantivy.Query:
        # Words that name a catalogue category (or have a synonym that does: 台式机 is
        # 台式计算机; or together do: 多功能 一体机) say what kind of product is wanted,
        # more than a title that mentions them in passing.
        names = {n for t in terms for n in (t.text, *("".join(a) for a in t.alternatives))}
        names.update("".join(t.text for t in terms[i:i + size]) for size in (2, 3)
                     for i in range(len(terms) - size + 1))
        return tantivy.Query.const_score_query(tantivy.Query.term_set_query(
            self.schema, "category_name_key", sorted(names)), _CATEGORY_INTENT)

    def text_query(self, terms: list[QueryTerm] | None = None) -> tantivy.Query | None:
        """What the words ask for (every term must match), or None without words."""
        terms = self.terms if terms is None else terms
        if not terms:
            return None
        return self._all_of([self._term_query(t) for t in terms])

    def full(self, terms: list[QueryTerm]) -> tantivy.Query:
        """Words, filters and category intent together."""
        text = self.text_query(terms)
        clauses = ([text] if text is not None else []) + self.filters
        if not clauses:
            return tantivy.Query.all_query()
        if not terms:
            return self._all_of(clauses)
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses]
                                           + [(tantivy.Occur.Should, self._intent(terms))])

    def first_page(self, searcher, *, limit: int, offset: int):
        """The full query, its page of results, and whether words were left out because
        no offer matched them all."""
        terms = self.terms
        full = self.full(terms)
        found = self.run(searcher, full, limit=limit, offset=offset)
        relaxed = False
        if found.count or len(terms) < 2 or (
                self.filters and searcher.search(self.text_query(), limit=1).count):
            return full, found, relaxed  # nothing, or only the filters exclude what matches
        while not found.count and len(terms) > 1:
            # Leave out the word whose absence lets the most offers match: a word found
            # nowhere, or the one that contradicts the rest ("办公室用的碎纸机").
            options = [terms[:i] + terms[i + 1:] for i in range(len(terms))]
            counts = [searcher.search(self.full(o), limit=1).count for o in options]
            best = max(range(len(options)), key=lambda i: (counts[i], i))
            if not counts[best]:
                break
            terms, relaxed = options[best], True
            full = self.full(terms)
            found = self.run(searcher, full, limit=limit, offset=offset)
        return full, found, relaxed

    def run(self, searcher, full: tantivy.Query, *, limit: int, offset: int,
            count: bool = True):
        """Tantivy's search in the chosen order."""
        if self.sort in _ORDERS:
            field, order = _ORDERS[self.sort]
            return searcher.search(full, limit=limit, offset=offset, count=count,
                                   order_by_field=field, order=order)
        return searcher.search(full, limit=limit, offset=offset, count=count)

    def offer_figures(self, searcher, product_ids: list[int]) -> dict[int, tuple[int, int, int]]:
        """Lowest price, supplier count and offer count of each product among matching offers.

        Every text field is the product's (title, brand, model, attributes, category), so
        the words match all offers of a product or none: the page's products and the
        filters select exactly its matching offers, without scoring the words again.
        """
        Query = tantivy.Query
        restricted = self._all_of([Query.term_set_query(self.schema, "product_id", product_ids),
                                   *self.filters])
        addresses = [a for _, a in searcher.search(restricted, limit=100_000, count=False).hits]
        rows = zip(searcher.fast_field_values("product_id", addresses),
                   searcher.fast_field_values("price_fen", addresses),
                   searcher.fast_field_values("supplier_id", addresses), strict=True)
        lowest: dict[int, int] = {}
        suppliers: dict[int, set[int]] = {}
        offers: dict[int, int] = {}
        for product_id, price, supplier_id in rows:
            lowest[product_id] = min(price, lowest.get(product_id, price))
            suppliers.setdefault(product_id, set()).add(supplier_id)
            offers[product_id] = offers.get(product_id, 0) + 1
        return {p: (lowest[p], len(suppliers[p]), offers[p]) for p in lowest}
