"""The expert pool (专家库): experts with the catalogue codes they may judge, their employer
and the ties they declared, managed by the operator (the supervisor reads)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.accounts.models import Organisation, User
from mall.accounts.services import create_organisation, create_user, login_problem
from mall.core.audit import record_event
from mall.core.auth import OVERSIGHT_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import local_today, now
from mall.core.errors import Conflict, FieldMessage, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from mall.purchasing.experts.models import ExpertProfile, ExpertTie

POOL_NAME = "政府采购验收专家库"
CODE_PATTERN = re.compile(r"[A-C]\d{8}")


def pool_organisation(session: Session) -> Organisation:
    """The expert pool's organisation (made the first time an expert is added)."""
    pool = session.scalar(select(Organisation).where(
        Organisation.kind == OrganisationKind.EXPERT_POOL).order_by(Organisation.id).limit(1))
    return pool or create_organisation(session, kind=OrganisationKind.EXPERT_POOL, name=POOL_NAME)


def list_experts(session: Session, actor: Actor) -> list[ExpertProfile]:
    """The pool, active experts first (operator and supervisor)."""
    actor.require_role(*OVERSIGHT_STAFF)
    return list(session.scalars(select(ExpertProfile)
                                .order_by(ExpertProfile.active.desc(), ExpertProfile.id)))


def _codes(session: Session, text_or_codes: str | list[str]) -> list[str]:
    """Catalogue codes typed as prefixes (A0504) or whole (A05040000), stored whole."""
    raw = (text_or_codes.replace(",", " ").replace("，", " ").split()
           if isinstance(text_or_codes, str) else list(text_or_codes))
    typed = {c.strip().upper(): c.strip().upper().ljust(9, "0") for c in raw if c.strip()}
    if not typed:
        raise ValidationFailed(errors={"category_codes": [
            N_("Enter at least one catalogue code, such as A0201.")]})
    known = set(session.scalars(select(Category.code).where(Category.code.in_(typed.values()))))
    wrong = [c for c, code in typed.items() if not CODE_PATTERN.fullmatch(code) or code not in known]
    if wrong:
        raise ValidationFailed(errors={"category_codes": [FieldMessage(
            N_("Not a code of the procurement catalogue: %(codes)s"), codes="、".join(wrong))]})
    return sorted(set(typed.values()))


def _organisation_by_code(session: Session, credit_code: str, field: str) -> Organisation:
    found = session.scalar(select(Organisation).where(
        Organisation.credit_code == credit_code.strip().upper()))
    if found is None:
        raise ValidationFailed(errors={field: [
            N_("No unit or supplier of the mall has this credit code.")]})
    return found


def add_expert(session: Session, actor: Actor, *, login: str, name: str, password: str,
               employer_name: str, category_codes: str | list[str],
               employer_credit_code: str = "", email: str = "") -> ExpertProfile:
    """The operator adds an expert to the pool: a login of the pool organisation and the
    expert's profile (ties are added with ``add_tie``)."""
    actor.require_role(Role.OPERATOR)
    name, employer_name, email = name.strip(), employer_name.strip(), email.strip()
    errors: dict[str, list[str]] = {}
    problem = login_problem(login.strip().lower())
    if problem:  # the accounts' rule, checked with the other fields
        errors["login"] = [problem]
    if not name or len(name) > 100:
        errors["name"] = [N_("Enter the expert's name (at most 100 characters).")]
    if not employer_name or len(employer_name) > 200:
        errors["employer_name"] = [N_("Enter the employer (at most 200 characters).")]
    if len(password or "") < 10:
        errors["password"] = [N_("Enter a first password of at least 10 characters.")]
    if email and ("@" not in email or len(email) > 200):
        errors["email"] = [N_("Enter an e-mail address such as name@example.cn.")]
    for field, value in (("name", name), ("employer_name", employer_name), ("email", email)):
        check_text(field, value, errors=errors)
    try:
        codes = _codes(session, category_codes)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    employer = None
    if employer_credit_code.strip():
        try:
            employer = _organisation_by_code(session, employer_credit_code, "employer_credit_code")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    user = create_user(session, organisation=pool_organisation(session), login=login,
                       display_name=name, password=password, roles=[Role.EXPERT],
                       email=email or None, actor=actor)
    profile = ExpertProfile(user_id=user.id, name=name, employer_name=employer_name,
                            employer_org_id=employer.id if employer else None,
                            category_codes=codes, active=True, created_by=actor.user_id)
    session.add(profile)
    session.flush()
    record_event(session, action="expert.added", object_type="expert", object_id=profile.id,
                 actor=actor, data={"user_id": user.id, "categories": codes,
                                    "employer_org_id": profile.employer_org_id})
    return profile


def get_expert(session: Session, actor: Actor, expert_id: int) -> ExpertProfile:
    actor.require_role(*OVERSIGHT_STAFF)
    profile = session.get(ExpertProfile, expert_id)
    if profile is None:
        raise NotFound()
    return profile


def add_tie(session: Session, actor: Actor, expert_id: int, *, credit_code: str, note: str,
            until: date | None = None) -> ExpertTie:
    """The operator records a tie the expert declared to a unit or a supplier."""
    actor.require_role(Role.OPERATOR)
    profile = get_expert(session, actor, expert_id)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not note or len(note) > 200:
        errors["note"] = [N_("Say what the tie is (at most 200 characters).")]
    check_text("note", note, errors=errors)
    organisation = None
    try:
        organisation = _organisation_by_code(session, credit_code or "", "credit_code")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if until is not None and until < local_today():
        errors["until"] = [N_("A tie that ended already needs no record.")]
    if errors or organisation is None:
        raise ValidationFailed(errors=errors)
    if any(t.organisation_id == organisation.id for t in profile.ties):
        raise Conflict(N_("This tie is recorded already."), code="tie_recorded")
    tie = ExpertTie(organisation_id=organisation.id, note=note, until=until, created_at=now())
    profile.ties.append(tie)
    session.flush()
    record_event(session, action="expert.tie_added", object_type="expert", object_id=profile.id,
                 actor=actor, data={"organisation_id": organisation.id, "note": note,
                                    "until": until.isoformat() if until else None})
    return tie


def set_active(session: Session, actor: Actor, expert_id: int, *, active: bool) -> ExpertProfile:
    """The operator takes an expert out of the pool (or back): drawn no more, or again."""
    actor.require_role(Role.OPERATOR)
    profile = get_expert(session, actor, expert_id)
    profile.active = active
    session.flush()
    record_event(session, action="expert.activated" if active else "expert.deactivated",
                 object_type="expert", object_id=profile.id, actor=actor, data={})
    return profile


def pool_size(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ExpertProfile)
                          .where(ExpertProfile.active.is_(True))) or 0


def expert_logins(session: Session, experts: list[ExpertProfile]) -> dict[int, str]:
    """The login of each expert's user, by user id."""
    ids = [e.user_id for e in experts]
    return dict(session.execute(select(User.id, User.login).where(User.id.in_(ids))).all()) if ids else {}
