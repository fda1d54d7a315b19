"""The operator's synonym list for search; changes reach the index through the outbox."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import SynonymGroup
from catalog.search.synonyms import DEFAULT_SYNONYMS
from mall.core.audit import record_event
from mall.core.auth import Actor, Role
from mall.core.clock import now
from mall.core.errors import NotFound, ValidationFailed
from mall.core.outbox import emit

TOPIC = "search.synonyms"


def _clean(term: str) -> str:
    return unicodedata.normalize("NFKC", term).strip().lower()


def synonym_groups(session: Session) -> list[list[str]]:
    """The groups in force, oldest first."""
    return [g.terms for g in session.scalars(select(SynonymGroup).order_by(SynonymGroup.id))]


def ensure_default_synonyms(session: Session) -> int:
    """Give an empty list the mall's default groups (the operator edits from there)."""
    if session.scalar(select(func.count()).select_from(SynonymGroup)):
        return 0
    for terms in DEFAULT_SYNONYMS:
        session.add(SynonymGroup(terms=list(terms), created_at=now()))
    emit(session, TOPIC, {})
    session.flush()
    return len(DEFAULT_SYNONYMS)


def add_synonym_group(session: Session, actor: Actor, *, terms: list[str]) -> SynonymGroup:
    """Add a group of at least two different words, each at most 20 characters."""
    actor.require_role(Role.OPERATOR)
    cleaned = list(dict.fromkeys(t for t in (_clean(t) for t in terms) if t))
    if len(cleaned) < 2:
        raise ValidationFailed(errors={"terms": ["Give at least two different words."]})
    if any(len(t) > 20 for t in cleaned):
        raise ValidationFailed(errors={"terms": ["Each word may have at most 20 characters."]})
    group = SynonymGroup(terms=cleaned, created_at=now(), created_by_id=actor.user_id)
    session.add(group)
    session.flush()
    emit(session, TOPIC, {})
    record_event(session, action="search.synonyms_added", object_type="synonym_group",
                 object_id=group.id, actor=actor, data={"terms": cleaned})
    return group


def delete_synonym_group(session: Session, actor: Actor, *, group_id: int) -> None:
    """Remove a group; searches stop expanding its words within seconds."""
    actor.require_role(Role.OPERATOR)
    group = session.get(SynonymGroup, group_id)
    if group is None:
        raise NotFound()
    record_event(session, action="search.synonyms_removed", object_type="synonym_group",
                 object_id=group.id, actor=actor, data={"terms": group.terms})
    session.delete(group)
    session.flush()
    emit(session, TOPIC, {})
