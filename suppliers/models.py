"""Supplier profiles, admission per category, framework agreements, listing decisions, imports."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mall.core.db import Base, TimestampMixin, text_enum


class SizeClass(enum.StrEnum):
    """Enterprise size under 工信部联企业〔2011〕300号, declared in the 中小企业声明函."""

    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"


class SupplierProfile(TimestampMixin, Base):
    """What a supplier declared when applying (入驻): people, size, bank account, regions."""

    __tablename__ = "supplier_profiles"
    __table_args__ = (CheckConstraint("employees >= 0 AND revenue_wan >= 0 AND assets_wan >= 0",
                                      name="figures_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    legal_representative: Mapped[str] = mapped_column(String(50))
    controlling_shareholder: Mapped[str] = mapped_column(String(200))
    size: Mapped[SizeClass] = mapped_column(text_enum(SizeClass))
    # 中小企业声明函 figures (previous year): staff, revenue and assets in 万元.
    employees: Mapped[int | None]
    revenue_wan: Mapped[int | None]
    assets_wan: Mapped[int | None]
    sme_declared_on: Mapped[date | None]
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(20))
    contact_email: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(100))
    bank_account: Mapped[str] = mapped_column(String(40))
    delivery_regions: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def is_sme(self) -> bool:
        return self.size is not SizeClass.LARGE


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    MORE_INFO = "more_info"  # the operator asked for more
    APPROVED = "approved"
    REJECTED = "rejected"


class AdmissionApplication(TimestampMixin, Base):
    """A supplier's application to sell in the mall, reviewed by the operator."""

    __tablename__ = "admission_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(text_enum(ApplicationStatus), index=True)
    category_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)  # the supplier's note or reply
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AdmissionStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class CategoryAdmission(TimestampMixin, Base):
    """A supplier admitted to sell one category leaf, until suspended or ended."""

    __tablename__ = "category_admissions"
    __table_args__ = (UniqueConstraint("supplier_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    status: Mapped[AdmissionStatus] = mapped_column(text_enum(AdmissionStatus))
    admitted_on: Mapped[date]
    ends_on: Mapped[date | None]
    suspended_from: Mapped[date | None]
    suspended_until: Mapped[date | None]
    reason: Mapped[str | None] = mapped_column(Text)


class AgreementStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class FrameworkAgreement(TimestampMixin, Base):
    """A framework agreement (框架协议/入围) for one category: admitted suppliers and price caps."""

    __tablename__ = "framework_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[AgreementStatus] = mapped_column(text_enum(AgreementStatus))

    members: Mapped[list[FrameworkMember]] = relationship(cascade="all, delete-orphan",
                                                          lazy="selectin")
    caps: Mapped[list[FrameworkPriceCap]] = relationship(cascade="all, delete-orphan",
                                                         lazy="selectin")


class FrameworkMember(Base):
    """A supplier admitted under a framework agreement."""

    __tablename__ = "framework_members"
    __table_args__ = (UniqueConstraint("agreement_id", "supplier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id",
                                                         ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)


class FrameworkPriceCap(Base):
    """The agreement's ceiling price for one product (or, without product, the whole category)."""

    __tablename__ = "framework_price_caps"
    __table_args__ = (UniqueConstraint("agreement_id", "product_id"),
                      CheckConstraint("cap_fen > 0", name="cap_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("framework_agreements.id",
                                                         ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    cap_fen: Mapped[int] = mapped_column(BigInteger)


class ListingDecision(Base):
    """Every decision on an offer (automatic check or operator action), shown to the supplier."""

    __tablename__ = "listing_decisions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"),
                                          index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    decided_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(30))  # listed, queued, approved, rejected, ...
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportJob(TimestampMixin, Base):
    """One uploaded offer file and how its import went (progress, counts, error report)."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    file_format: Mapped[str] = mapped_column(String(10))  # csv, xlsx, jsonl
    stored_path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10), default="zh_Hans_CN")
    status: Mapped[ImportStatus] = mapped_column(text_enum(ImportStatus), index=True)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_created: Mapped[int] = mapped_column(default=0)
    rows_updated: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_invalid: Mapped[int] = mapped_column(default=0)
    rows_in_review: Mapped[int] = mapped_column(default=0)
    error_path: Mapped[str | None] = mapped_column(String(500))
    failure: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
