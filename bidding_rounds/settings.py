"""The mall's bidding settings (docs/domain.md: Purchase modes and thresholds), with defaults
that apply until the operator saves its own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.models import RoundSettings
from mall.core.audit import record_event
from mall.core.auth import Actor, Role
from mall.core.errors import ValidationFailed
from mall.i18n_messages import N_

DEFAULT_WINDOW_HOURS = 24  # the quote deadline: 24 hours after publication by default
MIN_WINDOW_HOURS = 1  # never under one hour
MIN_QUOTES = 3  # fewer valid quotes and the round fails (政府采购法 36)
CONFIRM_HOURS = 72  # the winner confirms within 72 hours or the award passes on
MAX_WINDOW_DAYS = 30  # a deadline further out is a typo


@dataclass(frozen=True)
class Settings:
    default_window_hours: int = DEFAULT_WINDOW_HOURS
    min_window_hours: int = MIN_WINDOW_HOURS
    min_quotes: int = MIN_QUOTES
    confirm_hours: int = CONFIRM_HOURS


def current(session: Session) -> Settings:
    row = session.scalar(select(RoundSettings).order_by(RoundSettings.id).limit(1))
    if row is None:
        return Settings()
    return Settings(row.default_window_hours, row.min_window_hours, row.min_quotes,
                    row.confirm_hours)


def save(session: Session, actor: Actor, *, default_window_hours: int, min_window_hours: int,
         min_quotes: int, confirm_hours: int) -> Settings:
    """The operator sets the bidding window, the minimum of valid quotes and the
    confirmation window; rounds already published keep the values they started with."""
    actor.require_role(Role.OPERATOR)
    errors: dict[str, list[str]] = {}
    if not 1 <= min_window_hours <= 24 * MAX_WINDOW_DAYS:
        errors["min_window_hours"] = [N_("Enter 1 to 720 hours.")]
    if not min_window_hours <= default_window_hours <= 24 * MAX_WINDOW_DAYS:
        errors["default_window_hours"] = [N_("Enter hours from the minimum window up to 720.")]
    if not 1 <= min_quotes <= 20:
        errors["min_quotes"] = [N_("Enter 1 to 20 quotes.")]
    if not 1 <= confirm_hours <= 720:
        errors["confirm_hours"] = [N_("Enter 1 to 720 hours.")]
    if errors:
        raise ValidationFailed(errors=errors)
    row = session.scalar(select(RoundSettings).order_by(RoundSettings.id).limit(1))
    if row is None:
        row = RoundSettings()
        session.add(row)
    row.default_window_hours, row.min_window_hours = default_window_hours, min_window_hours
    row.min_quotes, row.confirm_hours = min_quotes, confirm_hours
    session.flush()
    record_event(session, action="round_settings.saved", object_type="round_settings",
                 object_id=row.id, actor=actor,
                 data={"default_window_hours": default_window_hours,
                       "min_window_hours": min_window_hours, "min_quotes": min_quotes,
                       "confirm_hours": confirm_hours})
    return current(session)
