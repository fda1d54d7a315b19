"""Sanctions against suppliers (处罚): warning (警告), points (扣分, counted per calendar year; at
the threshold a suspension is proposed), suspension of categories (暂停, through the admission
service, so the offers leave search and quoting stops), expulsion (清退: every admission
ended) and the bad-conduct list (不良行为记录名单, public; 政府采购法 第七十七条: a ban of one
to three years, during which the supplier's admissions are suspended).

Who decides: the trading centre (operator) warns, deducts points and suspends categories;
the supervisor (finance bureau), which holds the legal power to punish, imposes every kind,
including expulsion and the bad-conduct list. A sanction is revoked, with a reason, by its
own kind's deciders. Every decision is audited and told to the supplier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import local_today, now
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from mall.purchasing.orders.notifications import MESSAGES, notify
from supervision.performance.models import Sanction, SanctionKind
from suppliers.admission import REINSTATEMENT_GUARDS, reinstate_admission, suspend_admission
from suppliers.models import AdmissionStatus, CategoryAdmission

K = SanctionKind
OPERATOR_KINDS = frozenset({K.WARNING, K.POINTS, K.SUSPENSION})
POINTS_THRESHOLD = 12  # points in one calendar year that propose a suspension
MAX_SUSPENSION_DAYS = 366
BAN_YEARS = (1, 2, 3)  # 政府采购法 第七十七条
LAW_77 = "《中华人民共和国政府采购法》第七十七条"
# Admissions a sanction acts on: suspension takes the active ones, expulsion ends any not ended.
LIVE = (AdmissionStatus.ACTIVE, AdmissionStatus.SUSPENDED)

SANCTION_MESSAGES = {
    "sanction_warning": N_("Your company was given a warning: %(reason)s"),
    "sanction_points": N_("%(points)s points were deducted from your company (%(total)s this "
                          "year): %(reason)s"),
    "sanction_suspension": N_("Your admission for %(categories)s is suspended; it ends on "
                              "%(ends_on)s: %(reason)s"),
    "sanction_expulsion": N_("Your company was expelled from the mall and every admission "
                             "ended: %(reason)s"),
    "sanction_bad_conduct": N_("Your company was entered on the bad-conduct list, and its "
                               "admissions suspended, until %(ends_on)s: %(reason)s"),
    "sanction_revoked": N_("A sanction against your company was revoked: %(reason)s"),
}
MESSAGES.update(SANCTION_MESSAGES)

REASON_REQUIRED = N_("Give the reason for the decision.")


@dataclass(frozen=True)
class SanctionInput:
    """What a sanction form or call asks for; only some fields matter for each kind."""

    kind: str
    reason: str
    legal_basis: str = ""
    points: int | None = None
    admission_ids: Sequence[int] = ()
    ends_on: date | None = None
    ban_years: int | None = None


def may_impose(actor: Actor, kind: SanctionKind) -> bool:
    """The operator imposes warnings, points and suspensions; the supervisor every kind."""
    return actor.has_role(Role.SUPERVISOR) or (actor.has_role(Role.OPERATOR)
                                               and kind in OPERATOR_KINDS)


def _supplier(session: Session, supplier_id: int) -> Organisation:
    supplier = session.get(Organisation, supplier_id)
    if supplier is None or supplier.kind is not OrganisationKind.SUPPLIER:
        raise NotFound()
    return supplier


def _kind(value: str) -> SanctionKind:
    try:
        return SanctionKind(value)
    except ValueError:
        raise ValidationFailed(errors={"kind": [N_("Choose a kind of sanction.")]}) from None


def _check_common(data: SanctionInput, errors: dict[str, list[str]]) -> None:
    check_text("reason", data.reason, multiline=True, errors=errors)
    check_text("legal_basis", data.legal_basis, errors=errors)
    if not data.reason.strip():
        errors.setdefault("reason", []).append(REASON_REQUIRED)
    elif len(data.reason.strip()) > 2000:
        errors.setdefault("reason", []).append(N_("Keep the reason under 2,000 characters."))
    if len(data.legal_basis.strip()) > 200:
        errors.setdefault("legal_basis", []).append(N_("Keep the legal basis under 200 "
                                                       "characters."))


def _admissions(session: Session, supplier_id: int, ids: Sequence[int] | None,
                statuses: Sequence[AdmissionStatus]) -> list[tuple[CategoryAdmission, str]]:
    query = (select(CategoryAdmission, Category.name)
             .join(Category, Category.id == CategoryAdmission.category_id)
             .where(CategoryAdmission.supplier_id == supplier_id,
                    CategoryAdmission.status.in_(statuses)).order_by(Category.code))
    if ids is not None:
        query = query.where(CategoryAdmission.id.in_(ids))
    return [(admission, name) for admission, name in session.execute(query)]


def _years_later(day: date, years: int) -> date:
    """The same day ``years`` later (29 February: 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def impose(session: Session, actor: Actor, *, supplier_id: int,
           data: SanctionInput) -> Sanction:
    """Decide a sanction against a supplier; suspensions, expulsions and bad-conduct entries
    act on its admissions at once (offers hidden from search, quoting refused)."""
    actor.require_role(*OVERSIGHT_STAFF)
    kind = _kind(data.kind)
    if not may_impose(actor, kind):
        raise PermissionDenied(N_("Only the supervisor decides this sanction."),
                               code="sanction_reserved_to_supervisor")
    supplier = _supplier(session, supplier_id)
    today = local_today()
    errors: dict[str, list[str]] = {}
    _check_common(data, errors)
    sanction = Sanction(supplier_id=supplier.id, kind=kind, reason=data.reason.strip(),
                        legal_basis=data.legal_basis.strip(), starts_on=today, decided_at=now(),
                        decided_by_id=actor.user_id, decided_by_org_id=actor.organisation_id,
                        admission_ids=[], category_names=[], data={})
    targets: list[tuple[CategoryAdmission, str]] = []
    if kind is K.POINTS:
        if (isinstance(data.points, bool) or not isinstance(data.points, int)
                or not 1 <= data.points <= POINTS_THRESHOLD):
            errors["points"] = [N_("Deduct 1 to 12 points.")]
        sanction.points = data.points
    elif kind is K.SUSPENSION:
        if data.ends_on is None or data.ends_on <= today:
            errors["ends_on"] = [N_("The suspension must end on a day after today.")]
        elif (data.ends_on - today).days > MAX_SUSPENSION_DAYS:
            errors["ends_on"] = [N_("A suspension lasts one year at most; for longer, the "
                                    "supervisor uses the bad-conduct list.")]
        targets = _admissions(session, supplier.id, list(data.admission_ids),
                              (AdmissionStatus.ACTIVE,))
        if not data.admission_ids or len(targets) != len(set(data.admission_ids)):
            errors["admission_ids"] = [N_("Choose categories the supplier is admitted for "
                                          "and not suspended in.")]
        sanction.ends_on = data.ends_on
    elif kind is K.EXPULSION:
        targets = _admissions(session, supplier.id, None, LIVE)
    elif kind is K.BAD_CONDUCT:
        if data.ban_years not in BAN_YEARS:
            errors["ban_years"] = [N_("Choose a ban of 1, 2 or 3 years.")]
        else:
            sanction.ends_on = _years_later(today, data.ban_years)
        sanction.legal_basis = sanction.legal_basis or LAW_77
        # Admissions already suspended are held for the ban too: an earlier suspension that
        # ends first, or is revoked, must not give the banned supplier its trade back.
        targets = _admissions(session, supplier.id, None, LIVE)
    if errors:
        raise ValidationFailed(errors=errors)
    if kind is K.EXPULSION and any(s.kind is K.EXPULSION for s in current_sanctions(
            session, supplier.id, today=today)):
        raise Conflict(N_("The supplier is already expelled."), code="already_expelled")
    if kind is K.BAD_CONDUCT and any(s.kind is K.BAD_CONDUCT for s in current_sanctions(
            session, supplier.id, today=today)):
        raise Conflict(N_("The supplier is already on the bad-conduct list; revoke that entry "
                          "first to decide another."), code="already_listed")
    session.add(sanction)
    session.flush()
    for admission, name in targets:
        indefinite = (admission.status is AdmissionStatus.SUSPENDED
                      and admission.suspended_until is None)
        if not indefinite:  # an open-ended suspension already outlasts any ban
            suspend_admission(session, actor, admission_id=admission.id, reason=sanction.reason,
                              until=_later(admission, sanction.ends_on),
                              end=kind is K.EXPULSION)
        sanction.admission_ids = [*sanction.admission_ids, admission.id]
        sanction.category_names = [*sanction.category_names, name]
    total = points_in_year(session, supplier.id, today.year) if kind is K.POINTS else 0
    if kind is K.POINTS:
        sanction.data = {"year_total": total,
                         "suspension_proposed": total >= POINTS_THRESHOLD > total - (data.points or 0)}
    session.flush()
    record_event(session, action=f"sanction.{kind.value}", object_type="supplier_sanction",
                 object_id=sanction.id, actor=actor,
                 data={"supplier_id": supplier.id, "reason": sanction.reason,
                       "ends_on": sanction.ends_on.isoformat() if sanction.ends_on else None,
                       "points": sanction.points, "admissions": sanction.admission_ids})
    if sanction.data.get("suspension_proposed"):
        record_event(session, action="sanction.suspension_proposed",
                     object_type="supplier_sanction", object_id=sanction.id, actor=actor,
                     data={"supplier_id": supplier.id, "year_total": total})
    notify(session, supplier.id, None, f"sanction_{kind.value}", reason=sanction.reason,
           points=sanction.points or 0, total=total,
           ends_on=sanction.ends_on.isoformat() if sanction.ends_on else "",
           categories="、".join(sanction.category_names))
    return sanction


def _later(admission: CategoryAdmission, ends_on: date | None) -> date | None:
    """The end of a suspension that must last until ``ends_on`` at least."""
    current = admission.suspended_until if admission.status is AdmissionStatus.SUSPENDED else None
    if current is None or ends_on is None:
        return ends_on
    return max(current, ends_on)


def _holding(session: Session, admission: CategoryAdmission, today: date) -> list[Sanction]:
    """The suspensions and bad-conduct entries in force that hold this admission."""
    return [s for s in current_sanctions(session, admission.supplier_id, today=today)
            if s.kind in (K.SUSPENSION, K.BAD_CONDUCT) and admission.id in s.admission_ids]


def refuse_reinstating_a_sanctioned_admission(session: Session,
                                              admission: CategoryAdmission) -> None:
    """A suspension a sanction in force holds is lifted by revoking the sanction, not by
    reinstating the admission on the operator's admission page or when a date passes."""
    if _holding(session, admission, local_today()):
        raise Conflict(N_("A sanction in force holds this suspension; it ends when the "
                          "sanction ends or is revoked."), code="held_by_sanction")


REINSTATEMENT_GUARDS.append(refuse_reinstating_a_sanctioned_admission)


def revoke(session: Session, actor: Actor, *, sanction_id: int, reason: str) -> Sanction:
    """Revoke a sanction with a reason: suspended admissions come back; an expulsion's ended
    admissions stay ended (the supplier applies again and the operator admits it)."""
    actor.require_role(*OVERSIGHT_STAFF)
    sanction = session.get(Sanction, sanction_id, with_for_update=True)
    if sanction is None:
        raise NotFound()
    if not may_impose(actor, sanction.kind):
        raise PermissionDenied(N_("Only the supervisor revokes this sanction."),
                               code="sanction_reserved_to_supervisor")
    check_text("reason", reason, multiline=True)
    if not reason.strip():
        raise ValidationFailed(errors={"reason": [REASON_REQUIRED]})
    if len(reason.strip()) > 2000:
        raise ValidationFailed(errors={"reason": [N_("Keep the reason under 2,000 characters.")]})
    if sanction.revoked_at is not None:
        raise Conflict(N_("This sanction was already revoked."), code="sanction_revoked")
    sanction.revoked_at, sanction.revoked_by_id = now(), actor.user_id
    sanction.revoke_reason = reason.strip()
    if sanction.kind in (K.SUSPENSION, K.BAD_CONDUCT) and sanction.admission_ids:
        today = local_today()
        for admission, _name in _admissions(session, sanction.supplier_id,
                                            sanction.admission_ids,
                                            (AdmissionStatus.SUSPENDED,)):
            holding = _holding(session, admission, today)
            if holding:  # another sanction in force still covers it: held until it ends
                ends = [s.ends_on for s in holding]
                admission.suspended_until = (None if None in ends
                                             else max(e for e in ends if e is not None))
                continue
            reinstate_admission(session, actor, admission_id=admission.id,
                                reason=sanction.revoke_reason)
    session.flush()
    record_event(session, action="sanction.revoked", object_type="supplier_sanction",
                 object_id=sanction.id, actor=actor,
                 data={"supplier_id": sanction.supplier_id, "reason": sanction.revoke_reason})
    notify(session, sanction.supplier_id, None, "sanction_revoked", reason=sanction.revoke_reason)
    return sanction


# -- reads ---------------------------------------------------------------------------------

def points_in_year(session: Session, supplier_id: int, year: int) -> int:
    """Points deducted (and not revoked) in the calendar year."""
    rows = session.scalars(select(Sanction.points).where(
        Sanction.supplier_id == supplier_id, Sanction.kind == K.POINTS,
        Sanction.revoked_at.is_(None), Sanction.starts_on >= date(year, 1, 1),
        Sanction.starts_on <= date(year, 12, 31)))
    return sum(p or 0 for p in rows)


def current_sanctions(session: Session, supplier_id: int, *,
                      today: date | None = None) -> list[Sanction]:
    """The sanctions in force against a supplier today (for its banner and pages); a warning
    or points stay in force for the calendar year they were decided in."""
    today = today or local_today()
    rows = session.scalars(select(Sanction).where(
        Sanction.supplier_id == supplier_id, Sanction.revoked_at.is_(None),
        Sanction.starts_on <= today).order_by(Sanction.decided_at.desc()))
    return [s for s in rows if in_force(s, today)]


def in_force(sanction: Sanction, today: date) -> bool:
    if sanction.kind in (K.WARNING, K.POINTS):
        return sanction.revoked_at is None and sanction.starts_on.year == today.year
    return sanction.in_force(today)


def sanctions_of(session: Session, actor: Actor, *, supplier_id: int) -> list[Sanction]:
    """Every sanction of a supplier, newest first: to the supplier itself and to oversight;
    another supplier gets 404."""
    if actor.is_oversight:
        actor.require_role(*OVERSIGHT_STAFF)
    elif actor.organisation_id == supplier_id:
        actor.require_role(*SUPPLIER_STAFF)
    else:
        raise NotFound()
    _supplier(session, supplier_id)
    return list(session.scalars(select(Sanction).where(Sanction.supplier_id == supplier_id)
                                .order_by(Sanction.decided_at.desc(), Sanction.id.desc())))


def live_admissions(session: Session, actor: Actor, *,
                    supplier_id: int) -> list[tuple[CategoryAdmission, str]]:
    """The admissions a suspension may take (active ones), with their category names."""
    actor.require_role(*OVERSIGHT_STAFF)
    return _admissions(session, supplier_id, None, (AdmissionStatus.ACTIVE,))


@dataclass(frozen=True)
class BadConductEntry:
    """One line of the public bad-conduct list."""

    name: str
    credit_code: str
    reason: str
    legal_basis: str
    decided_on: date
    ends_on: date | None


def bad_conduct_list(session: Session, *, today: date | None = None,
                     name: str = "") -> list[BadConductEntry]:
    """The public list: entries in force today (past their end date they leave it)."""
    today = today or local_today()
    query = (select(Sanction, Organisation).join(Organisation,
                                                 Organisation.id == Sanction.supplier_id)
             .where(Sanction.kind == K.BAD_CONDUCT, Sanction.revoked_at.is_(None),
                    Sanction.starts_on <= today, Sanction.ends_on > today)
             .order_by(Sanction.starts_on.desc(), Sanction.id.desc()))
    needle = name.strip().casefold()
    return [BadConductEntry(org.name, org.credit_code or "", s.reason, s.legal_basis,
                            s.starts_on, s.ends_on)
            for s, org in session.execute(query)
            if not needle or needle in org.name.casefold() or needle in (org.credit_code or "")]


@dataclass(frozen=True)
class Proposal:
    """A supplier whose points this year reached the threshold without a suspension since."""

    supplier_id: int
    name: str
    points: int


def suspension_proposals(session: Session, actor: Actor, *,
                         today: date | None = None) -> list[Proposal]:
    """Suppliers at or above the year's points threshold that no suspension, expulsion or
    bad-conduct entry has followed: oversight's to-do."""
    actor.require_role(*OVERSIGHT_STAFF)
    today = today or local_today()
    rows = session.execute(select(Sanction, Organisation.name)
                           .join(Organisation, Organisation.id == Sanction.supplier_id)
                           .where(Sanction.revoked_at.is_(None),
                                  Sanction.starts_on >= date(today.year, 1, 1))
                           .order_by(Sanction.decided_at, Sanction.id)).all()
    totals: dict[int, int] = {}
    names: dict[int, str] = {}
    for sanction, name in rows:
        names[sanction.supplier_id] = name
        if sanction.kind is K.POINTS:
            totals[sanction.supplier_id] = totals.get(sanction.supplier_id, 0) + (
                sanction.points or 0)
        elif sanction.kind in (K.SUSPENSION, K.EXPULSION, K.BAD_CONDUCT) and totals.get(
                sanction.supplier_id, 0) >= POINTS_THRESHOLD:
            totals[sanction.supplier_id] = 0  # acted on: points count again from here
    return [Proposal(sid, names[sid], points) for sid, points in sorted(totals.items())
            if points >= POINTS_THRESHOLD]
