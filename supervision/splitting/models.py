"""Tables of anti-splitting (化整为零): running totals per unit, fiscal year, budget project and
category of every non-tender purchase, the alerts they raise, each alert's history, the
warning share and the job's watermark in the outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mall.core.db import BIG_ID, Base, text_enum

DEFAULT_WARN_PCT = 80  # an "approaching" alert at 80 % of the open-tender threshold


class SplittingTotal(Base):
    """What a unit bought this fiscal year under one budget project in one category, by any
    non-tender mode (direct purchase, quick bidding, framework bidding), cancelled and returned
    goods left out; recomputed from the orders whenever one of them changes."""

    __tablename__ = "splitting_totals"
    __table_args__ = (
        UniqueConstraint("organisation_id", "fiscal_year", "project_code", "category_code",
                         name="uq_splitting_totals_key"),
        CheckConstraint("total_fen >= 0 AND direct_fen >= 0 AND bidding_fen >= 0",
                        name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    fiscal_year: Mapped[int]
    project_code: Mapped[str] = mapped_column(String(40))
    category_code: Mapped[str] = mapped_column(String(9))
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    direct_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    bidding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    order_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class AlertLevel(enum.StrEnum):
    APPROACHING = "approaching"  # the sum reached the warning share of the threshold
    PASSED = "passed"  # the sum is above the open-tender threshold


class AlertStatus(enum.StrEnum):
    OPEN = "open"  # waits for a supervisor
    ACKNOWLEDGED = "acknowledged"  # a supervisor looked and noted why it stands
    ESCALATED = "escalated"  # handed on for inspection, with a note
    SUPERSEDED = "superseded"  # an open approaching alert once the key passed the threshold


class SplittingAlert(Base):
    """An alert of one key (unit, year, project, category) at one level; raised once."""

    __tablename__ = "splitting_alerts"
    __table_args__ = (
        UniqueConstraint("organisation_id", "fiscal_year", "project_code", "category_code",
                         "level", name="uq_splitting_alerts_key_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    fiscal_year: Mapped[int]
    project_code: Mapped[str] = mapped_column(String(40))
    category_code: Mapped[str] = mapped_column(String(9))
    level: Mapped[AlertLevel] = mapped_column(text_enum(AlertLevel, name="splitting_alert_level",
                                                        length=12))
    status: Mapped[AlertStatus] = mapped_column(
        text_enum(AlertStatus, name="splitting_alert_status", length=12), index=True)
    sum_fen: Mapped[int] = mapped_column(BigInteger)  # the key's sum when raised
    threshold_fen: Mapped[int] = mapped_column(BigInteger)  # the open-tender threshold then
    warn_pct: Mapped[int]  # the warning share then
    raised_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]

    notes: Mapped[list[AlertNote]] = relationship(order_by="AlertNote.id",
                                                  cascade="all, delete-orphan")


class AlertNote(Base):
    """One line of an alert's history: raised, superseded, acknowledged or escalated, by whom
    (None: the job) and with what note."""

    __tablename__ = "splitting_alert_notes"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("splitting_alerts.id", ondelete="CASCADE"),
                                          index=True)
    action: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(1000))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]


class SplittingSettings(Base):
    """The warning share (a percentage of the open-tender threshold), set by an operator or a
    supervisor; one row, the default until one is saved."""

    __tablename__ = "splitting_settings"
    __table_args__ = (CheckConstraint("warn_pct BETWEEN 1 AND 100", name="warn_pct_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warn_pct: Mapped[int] = mapped_column(default=DEFAULT_WARN_PCT)
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SplittingCursor(Base):
    """How far the job has read the outbox's ``order.changed`` events (its own watermark: the
    financing sequencer consumes the same events and marks them processed)."""

    __tablename__ = "splitting_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
