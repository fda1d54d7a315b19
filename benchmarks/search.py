"""Search with facets: index build, then the same queries in process, through the API and
through SQLite FTS5 and PostgreSQL ILIKE baselines.

    .venv/bin/python benchmarks/search.py [--offers 1000000] [--postgres URL] [--sqlite FILE]

Seeds a fresh SQLite database with the demo mall (or reuses --sqlite FILE if it exists),
builds the Tantivy index from it (iter_documents -> build_fresh), runs ~200 realistic
queries with every facet, and prints p50/p95 per engine with ratios baseline / tantivy.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TEXTS = ["笔记本", "笔记本电脑", "联想笔记本", "惠普笔记本电脑", "台式机", "台式电脑", "显示器",
         "打印机", "激光打印机", "复印纸", "A4复印纸 70g", "A4 80g 复印纸", "打印纸",
         "惠普硒鼓 CF226A", "硒鼓", "墨盒", "空调", "格力1.5匹空调", "美的空调 挂机", "U盘",
         "移动硬盘", "办公椅", "办公桌", "文件柜", "碎纸机", "投影仪", "扫描仪", "路由器",
         "交换机", "签字笔", "中性笔 0.5mm", "订书机", "档案盒", "得力", "晨光 签字笔",
         "戴尔 显示器 27英寸", "华为 路由器", "i7 台式机", "16G 内存", "固态硬盘 1TB"]
PAGE_SIZE = 20


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def build_queries(backend) -> list:
    """~200 queries: each text alone, then narrowed by its top category, brand, a price band
    around its median price and SME suppliers, as a buyer clicks through the sidebar."""
    from catalog.search import FACETS, SearchQuery, Sort

    queries = []
    for text in TEXTS:
        base = SearchQuery(text=text, facets=FACETS, group_by_product=True, page_size=PAGE_SIZE)
        queries.append(base)
        first = backend.search(replace(base, group_by_product=False))
        facets = first.facets
        leaves = [f.value for f in facets.get("category", []) if len(f.value) == 9
                  and not f.value.endswith("00")]
        if leaves:
            queries.append(replace(base, category_code=leaves[0]))
        if facets.get("brand"):
            queries.append(replace(base, brands=(facets["brand"][0].value,)))
        prices = sorted(h.price_fen for h in first.hits) or [10000]
        middle = prices[len(prices) // 2]
        queries.append(replace(base, price_min_fen=middle // 2, price_max_fen=middle * 2))
        queries.append(replace(base, sme_only=True, sort=Sort.PRICE_ASC))
    return queries


def timed(run, queries) -> list[float]:
    for query in queries[:20]:  # warm caches and connections
        run(query)
    times = []
    for query in queries:
        started = time.perf_counter()
        run(query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def api_params(query) -> list[tuple[str, str]]:
    params = [("q", query.text), ("page_size", str(query.page_size)),
              ("group", "true" if query.group_by_product else "false"), ("sort", query.sort.value)]
    if query.category_code:
        params.append(("category", query.category_code))
    params += [("brand", b) for b in query.brands]
    if query.price_min_fen is not None:
        params += [("price_min_fen", str(query.price_min_fen)),
                   ("price_max_fen", str(query.price_max_fen))]
    if query.sme_only:
        params.append(("sme", "true"))
    return params


def fts5_baseline(db_file: str, docs_sql: str):
    """An FTS5 table over the same segmented text; queries MATCH plus category counts."""
    from catalog.search.text import index_text, index_tokens

    conn = sqlite3.connect(db_file)
    conn.execute("DROP TABLE IF EXISTS bench_fts")
    conn.execute("DROP TABLE IF EXISTS bench_docs")
    conn.execute("CREATE VIRTUAL TABLE bench_fts USING fts5(body, tokenize='unicode61')")
    conn.execute("CREATE TABLE bench_docs (id INTEGER PRIMARY KEY, category TEXT, brand TEXT, "
                 "price INTEGER, sme INTEGER)")
    started = time.perf_counter()
    rows = conn.execute(docs_sql).fetchall()
    conn.executemany("INSERT INTO bench_fts(rowid, body) VALUES (?, ?)",
                     ((r[0], index_text(r[1], r[2], r[3])) for r in rows))
    conn.executemany("INSERT INTO bench_docs VALUES (?, ?, ?, ?, ?)",
                     ((r[0], r[4], r[2], r[5], r[6]) for r in rows))
    conn.commit()
    build = time.perf_counter() - started

    def run(query):
        terms = " AND ".join('"' + t.replace('"', "") + '"' for t in
                             dict.fromkeys(index_tokens(query.text)))
        where, args = ["bench_fts MATCH ?"], [terms]
        if query.category_code:
            where.append("d.category LIKE ?")
            args.append(query.category_code.rstrip("0") + "%")
        if query.brands:
            where.append("d.brand = ?")
            args.append(query.brands[0])
        if query.price_min_fen is not None:
            where.append("d.price BETWEEN ? AND ?")
            args += [query.price_min_fen, query.price_max_fen]
        if query.sme_only:
            where.append("d.sme = 1")
        clause = " AND ".join(where)
        source = "bench_fts JOIN bench_docs d ON d.id = bench_fts.rowid"
        conn.execute(f"SELECT d.id, d.price FROM {source} WHERE {clause} ORDER BY rank "
                     f"LIMIT {PAGE_SIZE}", args).fetchall()
        conn.execute(f"SELECT d.category, count(*) FROM {source} WHERE {clause} "
                     "GROUP BY d.category", args).fetchall()
        conn.execute(f"SELECT d.brand, count(*) FROM {source} WHERE {clause} "
                     "GROUP BY d.brand", args).fetchall()

    return run, build, conn


def postgres_baseline(url: str, rows: list):
    """The same rows in PostgreSQL; ILIKE on every word plus category and brand counts."""
    import psycopg

    conn = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)
    conn.execute("DROP TABLE IF EXISTS bench_docs")
    conn.execute("CREATE TABLE bench_docs (id bigint PRIMARY KEY, body text, category text, "
                 "brand text, price bigint, sme boolean)")
    with conn.cursor().copy("COPY bench_docs FROM STDIN") as copy:
        for r in rows:
            copy.write_row((r[0], f"{r[1]} {r[2]} {r[3]}", r[4], r[2], r[5], bool(r[6])))
    conn.execute("ANALYZE bench_docs")

    def run(query):
        where, args = [], []
        for word in query.text.split():
            where.append("body ILIKE %s")
            args.append(f"%{word}%")
        if query.category_code:
            where.append("category LIKE %s")
            args.append(query.category_code.rstrip("0") + "%")
        if query.brands:
            where.append("brand = %s")
            args.append(query.brands[0])
        if query.price_min_fen is not None:
            where.append("price BETWEEN %s AND %s")
            args += [query.price_min_fen, query.price_max_fen]
        if query.sme_only:
            where.append("sme")
        clause = " AND ".join(where) or "true"
        conn.execute(f"SELECT id, price FROM bench_docs WHERE {clause} ORDER BY price "
                     f"LIMIT {PAGE_SIZE}", args).fetchall()
        conn.execute(f"SELECT category, count(*) FROM bench_docs WHERE {clause} "
                     "GROUP BY category", args).fetchall()
        conn.execute(f"SELECT brand, count(*) FROM bench_docs WHERE {clause} GROUP BY brand",
                     args).fetchall()

    return run, conn


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL for the ILIKE baseline")
    parser.add_argument("--sqlite", default="", help="reuse (or create) this SQLite file")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="search-bench-")
    os.environ["MALL_VAR_DIR"] = tmp
    db_file = args.sqlite or f"{tmp}/bench.db"
    fresh = not Path(db_file).exists()

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from catalog.search.documents import iter_documents
    from mall import create_app
    from mall.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}",
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        if fresh:
            from mall.demo.seed import seed_demo

            upgrade()
            started = time.perf_counter()
            seed_demo(db.session, offers=args.offers, seed=2026, password="Bench-Password-1",
                      echo=lambda _m: None)
            print(f"seeded {args.offers:,} offers in {time.perf_counter() - started:.1f} s",
                  flush=True)
        backend = app.extensions["search"]()
        started = time.perf_counter()
        indexed = backend.build_fresh(iter_documents(db.session))
        build_s = time.perf_counter() - started
        print(f"tantivy index build: {indexed:,} documents in {build_s:.1f} s", flush=True)
        token = _token(db.session)
        db.session.commit()
        db.session.remove()

    queries = build_queries(backend)
    results = {"tantivy in process": timed(backend.search, queries)}

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port)

    def over_http(query):
        connection.request("GET", "/api/v1/search?" + urlencode(api_params(query)),
                           headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {body[:300]!r}")

    results["tantivy via GET /api/v1/search"] = timed(over_http, queries)
    server.shutdown()

    docs_sql = ("SELECT o.id, p.title, p.brand, p.model, c.code, o.price_fen, "
                "CASE WHEN s.size IN ('medium','small','micro') THEN 1 ELSE 0 END "
                "FROM offers o JOIN products p ON p.id = o.product_id "
                "JOIN categories c ON c.id = p.category_id "
                "LEFT JOIN supplier_profiles s ON s.organisation_id = o.supplier_id "
                "WHERE o.status = 'listed' AND o.suspended = 0")
    fts_run, fts_build, fts_conn = fts5_baseline(db_file, docs_sql)
    print(f"FTS5 table build: {fts_build:.1f} s", flush=True)
    results["SQLite FTS5 (same segmentation)"] = timed(fts_run, queries)
    if args.postgres:
        from mall.config import normalise_database_url

        rows = fts_conn.execute(docs_sql).fetchall()
        pg_run, pg_conn = postgres_baseline(normalise_database_url(args.postgres), rows)
        results["PostgreSQL ILIKE"] = timed(pg_run, queries)
        pg_conn.close()
    fts_conn.close()

    reference = percentile(results["tantivy in process"], 95)
    print(f"\n{len(queries)} queries with facets over {indexed:,} offers "
          f"(index build {build_s:.1f} s)\n")
    print(f"| {'engine':<34} | p50 ms | p95 ms | p95 ratio to tantivy |")
    print(f"|{'-' * 36}|--------|--------|----------------------|")
    for name, times in results.items():
        p50, p95 = statistics.median(times), percentile(times, 95)
        print(f"| {name:<34} | {p50:6.1f} | {p95:6.1f} | {p95 / reference:20.1f} |")
    print(f"\nsqlite file: {db_file}  (pass --sqlite to reuse it)" if not args.sqlite else "")


def _token(session) -> str:
    """A catalog:read token of a demo purchasing unit's approver."""
    from sqlalchemy import select

    from mall.accounts.models import User
    from mall.accounts.services import actor_for, issue_token

    for user in session.scalars(select(User).where(User.login.like("unit%-approver"))):
        _record, secret = issue_token(session, actor_for(user), name="bench",
                                      scopes=["catalog:read"])
        return secret
    raise SystemExit("no demo approver to issue a token for")


if __name__ == "__main__":
    main()
