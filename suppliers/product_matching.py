"""Suppliers' offers matched to catalogue products by (category, brand, model key), in bulk:
one product however many suppliers sell it, created the first time one is offered."""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import cache

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from catalog.models import Product
from mall.core import bulk

ProductKey = tuple[int, str, str]  # category id, brand, normalised model
_KEY_CHUNK = 1_000  # keys per VALUES list: 3 parameters each, under every driver's limit
_KEY_SIZES = (1, 10, 100, _KEY_CHUNK)


def match_products(session: Session, keys: Collection[ProductKey],
                   new_product: Callable[[ProductKey], dict]) -> dict[ProductKey, int]:
    """Product id per key; the products not yet known are inserted, ``new_product(key)``
    giving each one's row."""
    wanted = list(keys)
    if bulk.on_postgresql(session):  # one statement of three arrays for all keys
        found = session.execute(_PG_PRODUCT_LOOKUP, {"c": [k[0] for k in wanted],
                                                     "b": [k[1] for k in wanted],
                                                     "m": [k[2] for k in wanted]}).all()
    else:
        found = []
        for start in range(0, len(wanted), _KEY_CHUNK):
            chunk = wanted[start:start + _KEY_CHUNK]
            size = next(s for s in _KEY_SIZES if s >= len(chunk))
            chunk += chunk[-1:] * (size - len(chunk))  # pad: one statement shape per size
            params: dict[str, object] = {}
            for i, (category_id, brand, model_key) in enumerate(chunk):
                params[f"c{i}"], params[f"b{i}"], params[f"m{i}"] = category_id, brand, model_key
            found.extend(session.execute(_product_lookup(size), params))
    known = {(cid, brand, key): pid for pid, cid, brand, key in found}
    missing = [k for k in wanted if k not in known]
    if missing:
        known.update(((cid, brand, key), pid) for pid, cid, brand, key in bulk.insert(
            session, Product, [new_product(k) for k in missing],
            "id", "category_id", "brand", "model_key"))
    return known


@cache
def _product_lookup(size: int) -> TextClause:
    """Products by (category, brand, model key), for ``size`` keys at once.

    The keys are a VALUES list joined to products, so each key is one probe of the unique
    (category_id, brand, model_key) index; an IN list on model_key alone scans every
    product of the categories, and a row-value IN is not planned as index probes by
    SQLite. Plain SQL text because SQLAlchemy would compile a values() construct with
    thousands of parameters afresh for every batch; this text is compiled once per size.
    """
    rows = ", ".join(f"(:c{i}, :b{i}, :m{i})" for i in range(size))
    return text(
        f"WITH wanted (category_id, brand, model_key) AS (VALUES {rows}) "
        "SELECT products.id, products.category_id, products.brand, products.model_key "
        "FROM wanted JOIN products ON products.category_id = wanted.category_id "
        "AND products.brand = wanted.brand AND products.model_key = wanted.model_key")


_PG_PRODUCT_LOOKUP = text(
    "SELECT products.id, products.category_id, products.brand, products.model_key "
    "FROM unnest(CAST(:c AS INTEGER[]), CAST(:b AS TEXT[]), CAST(:m AS TEXT[])) "
    "AS wanted (category_id, brand, model_key) JOIN products "
    "ON products.category_id = wanted.category_id AND products.brand = wanted.brand "
    "AND products.model_key = wanted.model_key")
