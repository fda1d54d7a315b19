"""What the bidding pages share: the names of statuses, modes and outcomes, category and
organisation names for codes and ids, times typed in Beijing time, field errors in the user's
language, and the home page's counts (opportunities and awards waiting for a supplier)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bidding_rounds import awards, quotes
from bidding_rounds.pages import blueprint
from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.auth import SUPPLIER_STAFF, OrganisationKind
from mall.core.clock import SHANGHAI, to_local
from mall.core.errors import MallError, translate_field_message
from mall.extensions import db
from mall.web import optional_actor

log = logging.getLogger(__name__)
PAGE_SIZE = 20
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what an <input type="datetime-local"> sends and shows

ROUND_STATUS = {
    "open": _l("Open for quotes"), "closed": _l("Closing"), "failed": _l("Failed"),
    "awarded": _l("Awarded, waiting for the supplier"), "confirmed": _l("Confirmed: order made"),
    "cancelled": _l("Cancelled"),
}
MODES = {"quick": _l("Quick bidding (商城竞价)"), "framework": _l("Admitted-supplier bidding (入围竞价)")}
OUTCOMES = {
    "pending": _l("Waiting for confirmation"), "confirmed": _l("Confirmed"),
    "declined": _l("Declined by the supplier"), "lapsed": _l("Not confirmed in time"),
    "unresponsive": _l("Declared unresponsive by the unit"),
    "struck": _l("Struck after a challenge"),
}
FAILURES = {
    "too_few_quotes": _l("Too few valid quotes"),
    "no_winner": _l("No ranked supplier confirmed the award"),
    "cancelled": _l("Cancelled by the unit"),
}


def _label(table: Mapping, value) -> str:
    value = getattr(value, "value", value)
    return str(table.get(value, value)) if value is not None else ""


def round_status(value) -> str:
    return _label(ROUND_STATUS, value)


def round_mode(value) -> str:
    return _label(MODES, value)


def award_outcome(value) -> str:
    return _label(OUTCOMES, value)


def failure_reason(value) -> str:
    return _label(FAILURES, value)


def category_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Catalogue code -> its name (the codes of a round's items, a budget line)."""
    wanted = set(codes)
    if not wanted:
        return {}
    return dict(session.execute(select(Category.code, Category.name)
                                .where(Category.code.in_(wanted))).all())


def leaf_choices(session: Session, limit: int = 1000) -> list[tuple[str, str]]:
    """(code, name) of the leaves sold in the mall, for the round form's category list."""
    return [(code, name) for code, name in session.execute(
        select(Category.code, Category.name)
        .where(Category.is_leaf.is_(True), Category.enabled.is_(True))
        .order_by(Category.code).limit(limit))]


def organisation_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(session.execute(select(Organisation.id, Organisation.name)
                                .where(Organisation.id.in_(wanted))).all())


def local_input(moment: datetime | None) -> str:
    """A stored UTC time as a datetime-local field's value in Beijing time."""
    return to_local(moment).strftime(LOCAL_INPUT) if moment else ""


def parse_local(text: str | None) -> datetime | None:
    """A datetime-local value typed in Beijing time, as an aware time; None if unreadable."""
    text = (text or "").strip()
    if not text or len(text) > 32:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    if not 1900 <= moment.year <= 2999:
        return None
    return moment


def translated_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """A service's field errors in the user's language (parameters filled in)."""
    return {key: [translate_field_message(m, _) for m in messages]
            for key, messages in errors.items()}


def refusal_text(exc: MallError) -> str:
    return exc.translated(_)


# -- the home page's counts --------------------------------------------------------------------

def _supplier_counts() -> dict[str, int]:
    actor = optional_actor()
    if actor is None or actor.organisation_kind is not OrganisationKind.SUPPLIER \
            or not actor.has_role(*SUPPLIER_STAFF):
        return {}
    try:
        return {"opportunities": len(quotes.opportunities(db.session(), actor)),
                "awards": len(awards.awards_to_confirm(db.session(), actor))}
    except SQLAlchemyError:  # a home tile must never break the page it sits on
        log.warning("round counts unavailable", exc_info=True)
        return {}


@blueprint.app_context_processor
def inject_round_helpers():
    return {"round_counts": _supplier_counts, "round_status": round_status,
            "round_mode": round_mode, "award_outcome": award_outcome,
            "failure_reason": failure_reason, "local_input": local_input}
