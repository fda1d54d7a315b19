"""The Meilisearch adapter speaks Meilisearch's documented HTTP API.

No Meilisearch server runs here, so a stub on 127.0.0.1 records every request the
official client sends for the adapter and answers with canned responses. Each request
body and query parameter is validated against the operation in Meilisearch's own OpenAPI
document (tests/data/meilisearch-openapi, v1.15.2), and so is each canned response.

Three errata of that document are corrected before use, where the generator missed how
the server reads its Rust structs: SearchQuery and FacetSearchQuery list their fields in
snake_case and all as required, while the server reads camelCase fields, each optional,
and rejects unknown ones; AttributePatterns is a transparent list of strings (as in
Meilisearch's settings reference: ``"attributePatterns": ["*_ja"]``), not an object; and
the facet-search answer is documented as a search result although the server returns
``facetHits``. Task answers use the success status each operation documents (200 for
some, 202 for others; the server sends 202 for all, and the client accepts either).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

from catalog.search.meili_backend import MeiliBackend
from catalog.search.types import FACETS, SearchEngineError, SearchQuery, Sort
from tests.contract.conftest import LAPTOP, corpus

OPENAPI = Path(__file__).resolve().parents[1] / "data/meilisearch-openapi/open-api.json"
FACET_SEARCH_ANSWER = {"type": "object", "required": ["facetHits", "facetQuery", "processingTimeMs"],
                       "properties": {"facetHits": {"type": "array", "items": {
                           "type": "object", "required": ["value", "count"],
                           "properties": {"value": {"type": "string"},
                                          "count": {"type": "integer"}}}},
                           "facetQuery": {"type": ["string", "null"]},
                           "processingTimeMs": {"type": "integer"}}}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class OpenApi:
    """Operations of the OpenAPI document, and JSON Schema validation against them."""

    def __init__(self, path: Path):
        self.document = json.loads(path.read_text(encoding="utf-8"))
        schemas = self.document["components"]["schemas"]
        for name in ("SearchQuery", "FacetSearchQuery"):  # erratum 1, see the module docstring
            schema = schemas[name]
            schema["properties"] = {_camel(k): v for k, v in schema["properties"].items()}
            schema["required"] = ["facetName"] if name == "FacetSearchQuery" else []
            schema["additionalProperties"] = False
        schemas["AttributePatterns"] = {"type": "array", "items": {"type": "string"}}
        self.routes = sorted(
            ((re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"),
              template.count("{"), template, method, operation)
             for template, methods in self.document["paths"].items()
             for method, operation in methods.items()), key=lambda r: r[1])

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        for pattern, _params, template, verb, operation in self.routes:
            if verb == method.lower() and pattern.match(path):
                return template, operation
        raise AssertionError(f"{method} {path} is not an operation of Meilisearch's API")

    def check(self, schema: dict, value, what: str) -> list[str]:
        wrapped = {**schema, "components": self.document["components"]}
        validator = jsonschema.Draft202012Validator(wrapped)
        return [f"{what}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(value)]

    def check_exchange(self, method, path, query, body, status, answer) -> list[str]:
        template, operation = self.operation(method, path)
        what = f"{method} {template}"
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        errors = [f"{what}: undeclared query parameter {q}" for q in query if q not in declared]
        content = (operation.get("requestBody") or {}).get("content", {})
        if body is not None:
            schema = content.get("application/json", {}).get("schema")
            assert schema is not None, f"{what} takes no JSON body"
            errors += self.check(schema, body, f"{what} request")
        if template.endswith("/facet-search") and status == 200:  # erratum 2
            return errors + self.check(FACET_SEARCH_ANSWER, answer, f"{what} response")
        documented = operation["responses"].get(str(status))
        assert documented is not None, f"{what} documents no {status} response"
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        return errors + (self.check(schema, answer, f"{what} response") if schema else [])


class MeiliStub(ThreadingHTTPServer):
    """Answers like Meilisearch: tasks succeed unless told to fail, searches are canned."""

    def __init__(self, api: OpenApi):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.indexes: set[str] = set()
        self.requests: list[tuple[str, str, dict, object]] = []
        self.authorizations: list[str | None] = []
        self.errors: list[str] = []
        self.tasks: dict[int, dict] = {}
        self.failing_kinds: set[str] = set()
        self.synonyms: dict[str, dict] = {}
        self.search_answers: list[tuple[int, dict]] = []
        self.facet_answer = {"facetHits": [], "facetQuery": "", "processingTimeMs": 0}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def sent(self, method: str, suffix: str) -> list:
        return [body for verb, path, _q, body in self.requests
                if verb == method and path.endswith(suffix)]

    def task(self, kind: str, index_uid: str | None, error: dict | None = None) -> tuple[int, dict]:
        uid = len(self.tasks)
        if kind in self.failing_kinds:
            error = _error("invalid_document_id", "Document identifier `x` is invalid.")
        self.tasks[uid] = {"uid": uid, "indexUid": index_uid, "type": kind,
                           "status": "failed" if error else "succeeded",
                           "enqueuedAt": "2026-11-23T08:00:00.125000Z", "details": None,
                           "error": error}
        return 0, {"taskUid": uid, "indexUid": index_uid, "status": "enqueued", "type": kind,
                   "enqueuedAt": "2026-11-23T08:00:00.125000Z"}

    def answer(self, method: str, path: str, body) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        uid = parts[1] if len(parts) > 1 and parts[0] == "indexes" else None
        tail = "/".join(parts[2:])
        if parts[0] == "tasks":
            return 200, self.tasks[int(parts[1])]
        if path == "/swap-indexes":
            return self.task("indexSwap", None)
        if path == "/indexes" and method == "POST":
            self.indexes.add(body["uid"])
            return self.task("indexCreation", body["uid"])
        if uid not in self.indexes:
            missing = _error("index_not_found", f"Index `{uid}` not found.")
            if method == "DELETE" and not tail:  # deleting is a task, which then fails
                return self.task("indexDeletion", uid, missing)
            return 404, missing
        if not tail:
            if method == "GET":
                moment = "2026-11-23T08:00:00.125000Z"
                return 200, {"uid": uid, "primaryKey": "offer_id", "createdAt": moment,
                             "updatedAt": moment}
            self.indexes.discard(uid)
            return self.task("indexDeletion", uid)
        if tail.startswith("settings"):
            if method == "GET":
                return 200, self.synonyms.get(uid, {})
            if body and (tail.endswith("synonyms") or "synonyms" in body):
                self.synonyms[uid] = body if tail.endswith("synonyms") else body["synonyms"]
            return self.task("settingsUpdate", uid)
        if tail in ("documents", "documents/delete"):
            kind = "documentAdditionOrUpdate" if method == "POST" and tail == "documents" \
                else "documentDeletion"
            return self.task(kind, uid)
        if tail == "stats":
            return 200, {"numberOfDocuments": 14, "rawDocumentDbSize": 4096, "avgDocumentSize": 292,
                         "isIndexing": False, "fieldDistribution": {"offer_id": 14}}
        if tail == "search":
            return self.search_answers.pop(0) if self.search_answers else (200, search_answer([]))
        if tail == "facet-search":
            return 200, self.facet_answer
        raise AssertionError(f"the stub does not answer {method} {path}")


class _Handler(BaseHTTPRequestHandler):
    def _serve(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        query = parse_qs(url.query)
        server: MeiliStub = self.server
        server.requests.append((self.command, url.path, query, body))
        server.authorizations.append(self.headers.get("Authorization"))
        status, answer = server.answer(self.command, url.path, body)
        try:
            _template, operation = server.api.operation(self.command, url.path)
            status = status or min(int(c) for c in operation["responses"] if c.startswith("2"))
            server.errors += server.api.check_exchange(self.command, url.path, query, body,
                                                       status, answer)
        except AssertionError as error:
            server.errors.append(str(error))
            status = status or 202
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, *args):
        pass


def _error(code: str, message: str) -> dict:
    return {"message": message, "code": code, "type": "invalid_request",
            "link": f"https://docs.meilisearch.com/errors#{code}"}


def search_answer(hits: list[dict], *, total: int | None = None, facets: dict | None = None,
                  page: int = 1, per_page: int = 20) -> dict:
    """A search response shaped like Meilisearch's (exhaustive page/hitsPerPage form)."""
    total = len(hits) if total is None else total
    return {"hits": hits, "query": "", "processingTimeMs": 1, "hitsPerPage": per_page,
            "page": page, "totalPages": -(-total // per_page) if per_page else 0,
            "totalHits": total, "facetDistribution": facets or {}}


def hit_rows(offer_ids) -> list[dict]:
    docs = {d.offer_id: d for d in corpus()}
    return [{"offer_id": i, "product_id": docs[i].product_id, "title": docs[i].title,
             "category_code": docs[i].category_code, "brand": docs[i].brand,
             "supplier_id": docs[i].supplier_id, "supplier_name": docs[i].supplier_name,
             "price_fen": docs[i].price_fen, "stock": docs[i].stock, "_rankingScore": 0.9}
            for i in offer_ids]


@pytest.fixture(scope="module")
def openapi():
    return OpenApi(OPENAPI)


@pytest.fixture
def stub(openapi):
    server = MeiliStub(openapi)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
    assert server.errors == [], "requests or answers outside Meilisearch's API:\n" + \
        "\n".join(server.errors)


@pytest.fixture
def meili(stub):
    backend = MeiliBackend(stub.url, "test-master-key", index_uid="offers")
    backend.ensure_index()
    return backend


def test_ensure_index_creates_the_index_with_settings_for_chinese_offers(stub, meili):
    assert stub.sent("POST", "/indexes") == [{"uid": "offers", "primaryKey": "offer_id"}]
    settings = stub.sent("PATCH", "/indexes/offers/settings")[0]
    assert settings["searchableAttributes"][0] == "title"
    assert {"category_path", "brand", "supplier_id", "price_fen", "sme", "regions",
            "energy_saving", "green", "product_id", "offer_id"} <= set(settings["filterableAttributes"])
    assert settings["sortableAttributes"] == ["price_fen", "listed_at"]
    assert settings["rankingRules"][0] == "sort"
    assert settings["typoTolerance"]["disableOnAttributes"] == ["model", "keywords"]
    assert settings["synonyms"]["便携式计算机"] == ["笔记本电脑", "笔记本", "手提电脑"]
    assert settings["faceting"]["maxValuesPerFacet"] >= 1000
    assert len(stub.sent("GET", "/tasks/1")) >= 1  # the settings task was awaited
    meili.ensure_index()  # a second time re-applies the settings, less the operator's synonyms
    assert len(stub.sent("POST", "/indexes")) == 1
    assert "synonyms" not in stub.sent("PATCH", "/indexes/offers/settings")[1]


def test_documents_go_in_batches_with_model_number_parts_and_every_task_is_awaited(stub, meili):
    assert meili.index_documents(corpus(), batch=5) == 14
    batches = stub.sent("POST", "/indexes/offers/documents")
    assert [len(b) for b in batches] == [5, 5, 4]
    toner = next(d for b in batches for d in b if d["offer_id"] == 9)
    assert {"cf226a", "226a", "226"} <= set(toner["keywords"])
    assert toner["category_path"] == ["A05000000", "A05040000", "A05040200", "A05040201"]
    assert toner["sme"] is False and toner["regions"] == ["430000"]
    assert "硒鼓" in toner["suggest"]
    primary_keys = [q for verb, path, q, _b in stub.requests if path.endswith("/documents")]
    assert primary_keys == [{"primaryKey": ["offer_id"]}] * 3
    awaited = {int(path.rsplit("/", 1)[1]) for verb, path, _q, _b in stub.requests
               if path.startswith("/tasks/")}
    assert awaited == set(stub.tasks)


def test_a_failed_task_raises_with_meilisearchs_error_code(stub, meili):
    stub.failing_kinds.add("documentAdditionOrUpdate")
    with pytest.raises(SearchEngineError) as raised:
        meili.index_documents(corpus()[:2])
    assert raised.value.code == "invalid_document_id"
    assert "invalid" in raised.value.detail


def test_a_refused_search_raises_with_meilisearchs_error_code(stub, meili):
    stub.indexes.discard("offers")
    with pytest.raises(SearchEngineError) as raised:
        meili.search(SearchQuery(text="复印纸"))
    assert raised.value.code == "index_not_found"


def test_a_search_sends_text_filters_facets_sort_and_page(stub, meili):
    distribution = {"category_path": {"A02000000": 3, LAPTOP: 3}, "brand": {"联想（Lenovo）": 3},
                    "supplier_id": {"1": 1, "2": 1, "3": 1}, "sme": {"true": 2, "false": 1},
                    "regions": {"430000": 2, "000000": 1}, "energy_saving": {"true": 3},
                    "green": {"false": 3}}
    stub.search_answers.append((200, search_answer(hit_rows([2, 1, 3]), total=23,
                                                   facets=distribution, page=2, per_page=3)))
    result = meili.search(SearchQuery(
        text="ＴｈｉｎｋＰａｄ 笔记本", category_code=LAPTOP, brands=("联想（Lenovo）",),
        supplier_ids=(1, 2, 3), price_min_fen=100000, price_max_fen=500000, sme_only=True,
        region="430102", energy_saving=True, green=True, facets=FACETS, sort=Sort.PRICE_ASC,
        page=2, page_size=3))
    body = stub.sent("POST", "/indexes/offers/search")[0]
    assert body["q"] == "thinkpad 笔记本"
    assert body["filter"] == [
        'category_path = "A02010108"', 'brand IN ["联想（Lenovo）"]', "supplier_id IN [1, 2, 3]",
        "price_fen >= 100000", "price_fen <= 500000",
        'regions IN ["000000", "430000", "430100", "430102"]',
        "sme = true", "energy_saving = true", "green = true"]
    assert body["facets"] == ["category_path", "brand", "supplier_id", "sme", "regions",
                              "energy_saving", "green"]
    assert (body["sort"], body["page"], body["hitsPerPage"]) == (["price_fen:asc"], 2, 3)
    assert body["matchingStrategy"] == "all" and "offset" not in body and "distinct" not in body
    assert [h.offer_id for h in result.hits] == [2, 1, 3] and result.total == 23
    assert result.hits[0].supplier_name == "京东政企业务部" and result.hits[0].score == 0.9
    assert [(f.value, f.count) for f in result.facets["supplier"]] == [("1", 1), ("2", 1), ("3", 1)]
    assert result.facets["category"][0].value == "A02000000"


def test_without_text_the_newest_offers_come_first(stub, meili):
    meili.search(SearchQuery())
    body = stub.sent("POST", "/indexes/offers/search")[0]
    assert (body["q"], body["sort"], body["filter"]) == ("", ["listed_at:desc"], [])


def test_when_no_offer_matches_every_word_the_search_is_repeated_with_the_last_words_optional(
        stub, meili):
    stub.search_answers += [(200, search_answer([])), (200, search_answer(hit_rows([6]), total=1))]
    result = meili.search(SearchQuery(text="复印纸 挖掘机"))
    first, second = stub.sent("POST", "/indexes/offers/search")
    assert (first["matchingStrategy"], second["matchingStrategy"]) == ("all", "last")
    assert result.relaxed and [h.offer_id for h in result.hits] == [6]


def test_grouping_asks_for_distinct_products_then_their_matching_offers(stub, meili):
    stub.search_answers += [
        (200, search_answer(hit_rows([2, 4]), total=2)),
        (200, search_answer([{"product_id": p, "price_fen": f, "supplier_id": s}
                             for p, f, s in ((101, 449900, 2), (101, 459900, 1),
                                             (101, 469900, 3), (102, 599900, 1))],
                            per_page=1000))]
    result = meili.search(SearchQuery(text="笔记本电脑 ", group_by_product=True,
                                      sort=Sort.PRICE_ASC, facets=("brand",)))
    grouped, offers = stub.sent("POST", "/indexes/offers/search")
    assert grouped["distinct"] == "product_id" and grouped["facets"] == ["brand"]
    assert offers["filter"] == ["product_id IN [101, 102]"]
    assert offers["attributesToRetrieve"] == ["product_id", "price_fen", "supplier_id"]
    assert "distinct" not in offers and "facets" not in offers and offers["q"] == grouped["q"]
    assert result.total == 2 and result.hits == []
    assert [(g.product_id, g.lowest_price_fen, g.supplier_count, g.best_offer_id)
            for g in result.groups] == [(101, 449900, 3, 2), (102, 599900, 1, 4)]


def test_deleting_clearing_counting_and_synonyms(stub, meili):
    meili.delete_documents([9, 12])
    assert stub.sent("POST", "/indexes/offers/documents/delete") == [{"filter": "offer_id IN [9, 12]"}]
    meili.clear()
    assert stub.sent("DELETE", "/indexes/offers/documents") == [None]
    assert meili.count() == 14
    meili.set_synonyms([["签字笔", "中性笔"]])
    assert stub.sent("PUT", "/indexes/offers/settings/synonyms") == [
        {"签字笔": ["中性笔"], "中性笔": ["签字笔"]}]


def test_a_rebuild_fills_a_fresh_index_and_swaps_it_in(stub, meili):
    meili.set_synonyms([["签字笔", "中性笔"]])
    assert meili.build_fresh(corpus()) == 14
    fresh_settings = stub.sent("PATCH", "/indexes/offers_fresh/settings")[0]
    assert fresh_settings["synonyms"] == {"签字笔": ["中性笔"], "中性笔": ["签字笔"]}
    calls = [(verb, path) for verb, path, _q, _b in stub.requests if not path.startswith("/tasks")]
    fresh_created = calls.index(("POST", "/indexes"), 2)
    filled = calls.index(("POST", "/indexes/offers_fresh/documents"))
    swapped = calls.index(("POST", "/swap-indexes"))
    assert fresh_created < filled < swapped < calls.index(("DELETE", "/indexes/offers_fresh"), swapped)
    assert stub.sent("POST", "/swap-indexes") == [[{"indexes": ["offers", "offers_fresh"]}]]
    assert stub.indexes == {"offers"}


def test_suggestions_come_from_a_facet_search_among_offers_matching_the_words_before(stub, meili):
    stub.facet_answer = {"facetHits": [{"value": "笔记本电脑", "count": 4},
                                       {"value": "笔记本", "count": 5}, {"value": "记事本", "count": 9}],
                         "facetQuery": "笔记", "processingTimeMs": 0}
    assert meili.suggest("联想 笔记") == ["联想 笔记本", "联想 笔记本电脑"]
    body = stub.sent("POST", "/indexes/offers/facet-search")[0]
    assert body == {"facetName": "suggest", "facetQuery": "笔记", "q": "联想",
                    "matchingStrategy": "all"}


def test_every_request_carries_the_api_key(stub, meili):
    meili.search(SearchQuery(text="复印纸"))
    assert stub.authorizations and set(stub.authorizations) == {"Bearer test-master-key"}
