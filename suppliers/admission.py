"""Supplier admission (入驻): applying, the operator's decision, suspension and reinstatement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus
from catalog.sync import scope_changed
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role, require_same_organisation
from mall.core.clock import local_today, now
from mall.core.db import claiming
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import COUNT, within
from suppliers.listings import hide_supplier_category
from suppliers.models import (
    AdmissionApplication,
    AdmissionStatus,
    ApplicationStatus,
    CategoryAdmission,
    SizeClass,
    SupplierProfile,
)

# Who may suspend, end and reinstate an admission: the trading centre, and the supervisor
# (finance bureau) when it sanctions a supplier (supervision.performance.sanctions).
SANCTIONING_ROLES = (Role.OPERATOR, Role.SUPERVISOR)


@dataclass(frozen=True)
class ProfileInput:
    """What the application form asks of a supplier."""

    legal_representative: str
    controlling_shareholder: str
    size: SizeClass
    contact_name: str
    contact_phone: str
    contact_email: str
    bank_name: str
    bank_account: str
    delivery_regions: tuple[str, ...]
    employees: int | None = None
    revenue_wan: int | None = None
    assets_wan: int | None = None


def enabled_leaves(session: Session) -> Sequence[Category]:
    """The categories a supplier may apply for, in code order."""
    return session.scalars(select(Category).where(Category.enabled.is_(True))
                           .order_by(Category.code)).all()


def _leaf_categories(session: Session, codes: Sequence[str]) -> list[Category]:
    codes = sorted(set(codes))
    if not codes:
        raise ValidationFailed(errors={"category_codes": ["Choose at least one category."]})
    rows = session.scalars(select(Category).where(Category.code.in_(codes))).all()
    found = {c.code: c for c in rows}
    bad = [c for c in codes if c not in found or not found[c].is_leaf or not found[c].enabled]
    if bad:
        raise ValidationFailed(errors={"category_codes": [
            "Not a category sold in the mall: " + ", ".join(bad)]})
    return [found[c] for c in codes]


def save_profile(session: Session, actor: Actor, *, data: ProfileInput) -> SupplierProfile:
    """Create or update the supplier's declared profile (its own admins only)."""
    if actor.organisation_kind is not OrganisationKind.SUPPLIER:
        raise PermissionDenied("Only suppliers apply for admission.", code="not_a_supplier")
    actor.require_role(Role.SUPPLIER_ADMIN)
    errors = {name: [COUNT.message] for name in ("employees", "revenue_wan", "assets_wan")
              if getattr(data, name) is not None and not within(getattr(data, name), COUNT)}
    if errors:
        raise ValidationFailed(errors=errors)
    profile = session.scalar(select(SupplierProfile)
                             .where(SupplierProfile.organisation_id == actor.organisation_id))
    if profile is None:
        profile = SupplierProfile(organisation_id=actor.organisation_id)
        session.add(profile)
    for name, value in data.__dict__.items():
        setattr(profile, name, list(value) if name == "delivery_regions" else value)
    if profile.size is not SizeClass.LARGE:
        profile.sme_declared_on = local_today()
    session.flush()
    return profile


def apply_for_admission(session: Session, actor: Actor, *, profile: ProfileInput,
                        category_codes: Sequence[str], note: str = "") -> AdmissionApplication:
    """Submit (or resubmit after a request for more) an application for categories."""
    categories = _leaf_categories(session, category_codes)
    save_profile(session, actor, data=profile)
    open_application = session.scalar(select(AdmissionApplication).where(
        AdmissionApplication.organisation_id == actor.organisation_id,
        AdmissionApplication.status.in_([ApplicationStatus.SUBMITTED,
                                         ApplicationStatus.MORE_INFO])))
    if open_application and open_application.status is ApplicationStatus.SUBMITTED:
        raise Conflict("An application is already waiting for the operator.",
                       code="application_pending")
    application = open_application or AdmissionApplication(organisation_id=actor.organisation_id)
    application.status = ApplicationStatus.SUBMITTED
    application.category_codes = [c.code for c in categories]
    application.note = note.strip() or None
    session.add(application)
    session.flush()
    record_event(session, action="admission.applied", object_type="admission_application",
                 object_id=application.id, actor=actor,
                 data={"categories": application.category_codes})
    return application


def get_application(session: Session, actor: Actor, application_id: int) -> AdmissionApplication:
    application = session.get(AdmissionApplication, application_id)
    if application is None:
        raise NotFound()
    require_same_organisation(actor, application.organisation_id)
    return application


def list_applications(session: Session, actor: Actor, *,
                      status: ApplicationStatus | None = ApplicationStatus.SUBMITTED
                      ) -> list[AdmissionApplication]:
    """The operator's admission queue (oldest first)."""
    actor.require_role(Role.OPERATOR, Role.SUPERVISOR)
    query = select(AdmissionApplication).order_by(AdmissionApplication.created_at)
    if status is not None:
        query = query.where(AdmissionApplication.status == status)
    return list(session.scalars(query))


def decide_application(session: Session, actor: Actor, *, application_id: int, decision: str,
                       category_codes: Sequence[str] = (), reason: str = "",
                       ends_on: date | None = None) -> AdmissionApplication:
    """The operator approves (for some or all applied categories), rejects or asks for more."""
    actor.require_role(Role.OPERATOR)
    check_text("reason", reason, multiline=True)
    application = get_application(session, actor, application_id)
    if application.status is not ApplicationStatus.SUBMITTED:
        raise Conflict("This application is not waiting for a decision.",
                       code="application_not_pending")
    reason = reason.strip()
    if decision in ("reject", "more_info") and not reason:
        raise ValidationFailed(errors={"reason": ["Give the supplier a reason."]})
    if decision == "approve":
        codes = list(category_codes) or application.category_codes
        if not set(codes) <= set(application.category_codes):
            raise ValidationFailed(errors={"category_codes": [
                "Only categories the supplier applied for can be admitted."]})
        for category in _leaf_categories(session, codes):
            admit(session, actor, supplier_id=application.organisation_id,
                  category_id=category.id, ends_on=ends_on)
        application.status = ApplicationStatus.APPROVED
    elif decision == "reject":
        application.status = ApplicationStatus.REJECTED
    elif decision == "more_info":
        application.status = ApplicationStatus.MORE_INFO
    else:
        raise ValidationFailed(errors={"decision": ["Choose approve, reject or more_info."]})
    application.decision_reason = reason or None
    application.decided_at = now()
    application.decided_by_id = actor.user_id
    session.flush()
    record_event(session, action=f"admission.{application.status.value}",
                 object_type="admission_application", object_id=application.id, actor=actor,
                 data={"reason": reason, "categories": list(category_codes)})
    return application


def admit(session: Session, actor: Actor, *, supplier_id: int, category_id: int,
          ends_on: date | None = None) -> CategoryAdmission:
    """Admit a supplier for one category (or re-activate an ended admission)."""
    actor.require_role(Role.OPERATOR)
    admission = session.scalar(select(CategoryAdmission).where(
        CategoryAdmission.supplier_id == supplier_id,
        CategoryAdmission.category_id == category_id))
    if admission is None:
        admission = CategoryAdmission(supplier_id=supplier_id, category_id=category_id)
        session.add(admission)
    admission.status = AdmissionStatus.ACTIVE
    admission.admitted_on = local_today()
    admission.ends_on = ends_on
    admission.suspended_from = admission.suspended_until = None
    admission.reason = None
    session.flush()
    hide_supplier_category(session, supplier_id=supplier_id, category_id=category_id,
                           hidden=False)
    scope_changed(session, supplier_id=supplier_id, category_id=category_id)
    return admission


def _admission(session: Session, admission_id: int) -> CategoryAdmission:
    admission = session.get(CategoryAdmission, admission_id)
    if admission is None:
        raise NotFound()
    return admission


def suspend_admission(session: Session, actor: Actor, *, admission_id: int, reason: str,
                      until: date | None = None, end: bool = False) -> CategoryAdmission:
    """Suspend (or end) an admission; the supplier's offers in it disappear at once."""
    check_text("reason", reason, multiline=True)
    actor.require_role(*SANCTIONING_ROLES)
    if not reason.strip():
        raise ValidationFailed(errors={"reason": ["A reason is required."]})
    admission = _admission(session, admission_id)
    today = local_today()
    if until is not None and until <= today:
        raise ValidationFailed(errors={"until": ["The end date must be in the future."]})
    admission.status = AdmissionStatus.ENDED if end else AdmissionStatus.SUSPENDED
    admission.reason = reason.strip()
    if end:
        admission.ends_on = today
    else:
        admission.suspended_from, admission.suspended_until = today, until
    hidden = hide_supplier_category(session, supplier_id=admission.supplier_id,
                                    category_id=admission.category_id, hidden=True)
    scope_changed(session, supplier_id=admission.supplier_id, category_id=admission.category_id)
    record_event(session, action="admission.ended" if end else "admission.suspended",
                 object_type="category_admission", object_id=admission.id, actor=actor,
                 data={"reason": admission.reason, "until": until.isoformat() if until else None,
                       "offers_hidden": hidden})
    return admission


# Rules above this layer that may keep an admission suspended (supervision's sanctions in
# force): each guard raises to refuse a reinstatement. Installed when those modules load.
REINSTATEMENT_GUARDS: list[Callable[[Session, CategoryAdmission], None]] = []


def reinstate_admission(session: Session, actor: Actor, *, admission_id: int,
                        reason: str = "") -> CategoryAdmission:
    """Lift a suspension; the offers come back as they were."""
    actor.require_role(*SANCTIONING_ROLES)
    check_text("reason", reason, multiline=True)
    admission = _admission(session, admission_id)
    if admission.status is not AdmissionStatus.SUSPENDED:
        raise Conflict("Only a suspended admission can be reinstated.", code="not_suspended")
    for guard in REINSTATEMENT_GUARDS:
        guard(session, admission)
    admission.status = AdmissionStatus.ACTIVE
    admission.suspended_from = admission.suspended_until = None
    admission.reason = reason.strip() or None
    shown = hide_supplier_category(session, supplier_id=admission.supplier_id,
                                   category_id=admission.category_id, hidden=False)
    scope_changed(session, supplier_id=admission.supplier_id, category_id=admission.category_id)
    record_event(session, action="admission.reinstated", object_type="category_admission",
                 object_id=admission.id, actor=actor, data={"offers_shown": shown})
    return admission


def list_admissions(session: Session, actor: Actor, *, supplier_id: int
                    ) -> list[tuple[CategoryAdmission, Category]]:
    """A supplier's admissions with their categories (the supplier itself, or oversight)."""
    require_same_organisation(actor, supplier_id)
    return list(session.execute(
        select(CategoryAdmission, Category).join(Category,
                                                 Category.id == CategoryAdmission.category_id)
        .where(CategoryAdmission.supplier_id == supplier_id).order_by(Category.code)).all())


def lift_expired_suspensions(session: Session, *, today: date) -> int:
    """Reinstate suspensions whose end date has come (the ``suppliers.suspensions`` job);
    a second scheduler skips the admissions the first is reinstating."""
    rows = session.scalars(claiming(select(CategoryAdmission).where(
        CategoryAdmission.status == AdmissionStatus.SUSPENDED,
        CategoryAdmission.suspended_until.is_not(None),
        CategoryAdmission.suspended_until <= today), session)).all()
    lifted = 0
    for admission in rows:
        try:
            for guard in REINSTATEMENT_GUARDS:
                guard(session, admission)
        except Conflict:
            continue  # a later sanction still holds it (its end date was moved on, too)
        lifted += 1
        admission.status = AdmissionStatus.ACTIVE
        admission.suspended_from = admission.suspended_until = None
        hide_supplier_category(session, supplier_id=admission.supplier_id,
                               category_id=admission.category_id, hidden=False)
        scope_changed(session, supplier_id=admission.supplier_id, category_id=admission.category_id)
        record_event(session, action="admission.reinstated", object_type="category_admission",
                     object_id=admission.id, data={"automatic": True})
    return lifted


def offer_counts(session: Session, actor: Actor, *, supplier_id: int) -> dict[str, int]:
    """The supplier dashboard: offers per status (suspended ones counted apart)."""
    require_same_organisation(actor, supplier_id)
    counts = {s.value: 0 for s in OfferStatus}
    for status, count in session.execute(
            select(Offer.status, func.count()).where(Offer.supplier_id == supplier_id)
            .group_by(Offer.status)):
        counts[status.value] = count
    counts["hidden_by_suspension"] = session.scalar(
        select(func.count()).select_from(Offer).where(Offer.supplier_id == supplier_id,
                                                      Offer.suspended.is_(True))) or 0
    return counts

