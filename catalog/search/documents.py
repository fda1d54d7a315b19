"""Index documents built from the database, the source of truth, streamed in bulk.

Only offers a buyer may see become documents: listed, not suspended, in an enabled
category, from an active supplier. Supplier sizes are read by table name, as the supplier
profiles belong to ``suppliers``, which sits above catalog.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Select, column, func, select, table
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, Product
from catalog.search.types import SearchBackend, SearchDocument
from mall.accounts.models import Organisation

_profiles = table("supplier_profiles", column("organisation_id"), column("size"))
_SME_SIZES = ("medium", "small", "micro")  # 中小企业 under 工信部联企业〔2011〕300号


def category_paths(session: Session) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """For every category id: the codes and the names from the top level down to it."""
    rows = {row.id: row for row in session.execute(
        select(Category.id, Category.code, Category.name, Category.parent_id))}
    paths: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def path(category_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if category_id not in paths:
            row = rows[category_id]
            codes, names = path(row.parent_id) if row.parent_id in rows else ((), ())
            paths[category_id] = ((*codes, row.code), (*names, row.name))
        return paths[category_id]

    for category_id in rows:
        path(category_id)
    return paths


def _visible_offers() -> Select:
    return (
        select(Offer.id, Offer.product_id, Offer.supplier_id, Offer.price_fen, Offer.stock,
               Offer.delivery_regions, Offer.created_at, Product.title, Product.brand,
               Product.model, Product.attributes, Product.energy_saving, Product.green,
               Product.category_id, Organisation.name.label("supplier_name"),
               _profiles.c.size)
        .join(Product, Product.id == Offer.product_id)
        .join(Category, Category.id == Product.category_id)
        .join(Organisation, Organisation.id == Offer.supplier_id)
        .outerjoin(_profiles, _profiles.c.organisation_id == Offer.supplier_id)
        .where(Offer.status == OfferStatus.LISTED, Offer.suspended.is_(False),
               Category.enabled.is_(True), Organisation.active.is_(True))
    )


def count_documents(session: Session) -> int:
    """How many offers a full reindex will write (for a progress bar)."""
    return session.scalars(select(func.count()).select_from(_visible_offers().subquery())).one()


def _epoch(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def iter_documents(session: Session, *, offer_ids: Iterable[int] | None = None,
                   batch: int = 5000) -> Iterator[SearchDocument]:
    """The documents of every visible offer (or of those among ``offer_ids``), in id order,
    fetched ``batch`` rows at a time so a million offers never sit in memory."""
    paths = category_paths(session)
    if offer_ids is None:
        chunks: Iterable[list[int] | None] = [None]
    else:
        ids = iter(sorted(set(offer_ids)))
        chunks = iter(lambda: list(itertools.islice(ids, 1000)), [])
    for chunk in chunks:
        statement = _visible_offers().order_by(Offer.id)
        if chunk is not None:
            statement = statement.where(Offer.id.in_(chunk))
        for row in session.execute(statement.execution_options(yield_per=batch)):
            codes, names = paths[row.category_id]
            yield SearchDocument(
                offer_id=row.id, product_id=row.product_id, title=row.title, brand=row.brand,
                model=row.model, category_code=codes[-1], category_path=codes,
                supplier_id=row.supplier_id, supplier_name=row.supplier_name,
                price_fen=row.price_fen, stock=row.stock,
                sme=str(row.size or "").lower() in _SME_SIZES,
                regions=tuple(row.delivery_regions or ()),
                energy_saving=row.energy_saving, green=row.green,
                attributes={str(k): str(v) for k, v in (row.attributes or {}).items()},
                listed_at=_epoch(row.created_at), category_names=names)


def refresh_offers(session: Session, backend: SearchBackend, *,
                   offer_ids: Iterable[int]) -> tuple[int, int]:
    """Bring these offers up to date in the index: write the visible ones, delete the rest.

    Returns (written, deleted); safe to repeat, so an outbox drain may retry a batch.
    """
    wanted = set(offer_ids)
    docs = list(iter_documents(session, offer_ids=wanted))
    gone = wanted - {doc.offer_id for doc in docs}
    if docs:
        backend.index_documents(docs)
    if gone:
        backend.delete_documents(sorted(gone))
    return len(docs), len(gone)
