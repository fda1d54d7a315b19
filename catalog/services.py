"""Catalogue services: load the official 2022 catalogue, enable leaves for the mall, mark the
centrally procured items, browse it."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from catalog.models import CATALOGUE_VERSION, Category
from catalog.sync import scope_changed
from mall.core.audit import record_event
from mall.core.auth import Actor, Role
from mall.core.db import rowcount
from mall.core.errors import NotFound, ValidationFailed

CATALOGUE_FILE = Path(__file__).parent / "data" / "catalogue_2022.csv"


@dataclass(frozen=True)
class LoadReport:
    """How many codes a catalogue load added and renamed."""

    total: int
    added: int
    renamed: int


def read_catalogue_file(path: Path = CATALOGUE_FILE) -> list[dict[str, str]]:
    """The rows of the shipped catalogue file, in document order."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_catalogue(session: Session, *, path: Path = CATALOGUE_FILE,
                   version: str = CATALOGUE_VERSION) -> LoadReport:
    """Load or refresh the official catalogue; re-running changes nothing and keeps enabled flags."""
    rows = read_catalogue_file(path)
    existing = {c.code: c for c in session.scalars(
        select(Category).where(Category.version == version))}
    added = renamed = 0
    for row in rows:
        category = existing.get(row["code"])
        if category is None:
            category = Category(version=version, code=row["code"], name=row["name"],
                                level=int(row["level"]), section=row["section"])
            session.add(category)
            existing[row["code"]] = category
            added += 1
        elif category.name != row["name"]:
            category.name = row["name"]
            renamed += 1
    session.flush()
    parents = {row["parent_code"] for row in rows if row["parent_code"]}
    for row in rows:
        category = existing[row["code"]]
        parent_code = row["parent_code"] or None
        category.parent_id = existing[parent_code].id if parent_code else None
        category.is_leaf = row["code"] not in parents
    session.flush()
    return LoadReport(total=len(rows), added=added, renamed=renamed)


def get_category(session: Session, code: str, *, version: str = CATALOGUE_VERSION) -> Category:
    """A category by code, or NotFound."""
    category = session.scalar(select(Category).where(Category.version == version,
                                                     Category.code == code))
    if category is None:
        raise NotFound(f"No category {code}.")
    return category


def _leaf_codes(session: Session, codes: Iterable[str], *, version: str) -> list[str]:
    """The given codes, sorted and checked: each must exist and be an end-level category."""
    codes = sorted(set(codes))
    if not codes:
        raise ValidationFailed(errors={"codes": ["Choose at least one category."]})
    leaves = dict(session.execute(
        select(Category.code, Category.is_leaf).where(Category.version == version,
                                                      Category.code.in_(codes))).all())
    errors = [f"{c}: unknown code" for c in codes if c not in leaves]
    errors += [f"{c}: not a leaf; choose its end-level categories" for c in codes
               if leaves.get(c) is False]
    if errors:
        raise ValidationFailed(errors={"codes": errors})
    return codes


def set_categories_enabled(session: Session, actor: Actor, *, codes: Iterable[str],
                           enabled: bool, version: str = CATALOGUE_VERSION) -> int:
    """The operator enables or disables leaf categories for sale in the mall."""
    codes, changed = _set_leaf_flag(session, actor, Category.enabled, enabled, codes, version,
                                    "category.enabled" if enabled else "category.disabled")
    for category_id in session.scalars(select(Category.id).where(Category.version == version,
                                                                   Category.code.in_(codes))):
        scope_changed(session, category_id=category_id)
    return changed


def set_centrally_procured(session: Session, actor: Actor, *, codes: Iterable[str],
                           centrally_procured: bool, version: str = CATALOGUE_VERSION) -> int:
    """The operator marks leaf categories as centrally procured items (集中采购目录品目), or
    clears the mark: orders of a marked item always need a signed contract."""
    _codes, changed = _set_leaf_flag(
        session, actor, Category.centrally_procured, centrally_procured, codes, version,
        "category.centrally_procured" if centrally_procured else "category.not_centrally_procured")
    return changed


def _set_leaf_flag(session: Session, actor: Actor, column, value: bool, codes: Iterable[str],
                   version: str, action: str) -> tuple[list[str], int]:
    """Set a yes/no column of leaf categories (operator only, audited); the codes and how many
    rows changed."""
    actor.require_role(Role.OPERATOR)
    codes = _leaf_codes(session, codes, version=version)
    changed = rowcount(session.execute(
        update(Category).where(Category.version == version, Category.code.in_(codes),
                               column.is_not(value))
        .values({column: value})))
    record_event(session, action=action, object_type="category", object_id=",".join(codes)[:64],
                 actor=actor, data={"codes": codes, "changed": changed})
    return codes, changed


def list_children(session: Session, *, parent_code: str | None,
                  version: str = CATALOGUE_VERSION) -> list[Category]:
    """The direct children of a code (or the level-1 codes), in code order."""
    query = select(Category).where(Category.version == version)
    if parent_code is None:
        query = query.where(Category.parent_id.is_(None))
    else:
        query = query.where(Category.parent_id == get_category(session, parent_code,
                                                               version=version).id)
    return list(session.scalars(query.order_by(Category.code)))


def enabled_counts_by_parent(session: Session, *,
                             version: str = CATALOGUE_VERSION) -> dict[int | None, int]:
    """How many enabled leaves sit directly under each parent id (None: the top level)."""
    return {parent_id: count for parent_id, count in session.execute(
        select(Category.parent_id, func.count()).where(Category.version == version,
                                                       Category.enabled.is_(True))
        .group_by(Category.parent_id))}


def search_categories(session: Session, *, text: str, enabled_only: bool = False,
                      limit: int = 50, version: str = CATALOGUE_VERSION) -> list[Category]:
    """Categories whose code starts with, or whose name contains, the text."""
    text = text.strip()
    query = select(Category).where(Category.version == version)
    if text:
        query = query.where((Category.code.startswith(text.upper()))
                            | (Category.name.contains(text)))
    if enabled_only:
        query = query.where(Category.enabled.is_(True))
    return list(session.scalars(query.order_by(Category.code).limit(limit)))
