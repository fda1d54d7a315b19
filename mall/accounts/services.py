"""Account services: organisations, users, roles, login with lockout, and API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

from mall.accounts.models import ApiToken, Organisation, User, UserRole
from mall.core.audit import AuditEvent, record_event
from mall.core.auth import (
    ROLES_BY_KIND,
    SCOPES_BY_KIND,
    TOKEN_ADMIN_ROLES,
    Actor,
    OrganisationKind,
    Role,
    Scope,
    require_same_organisation,
)
from mall.core.clock import now
from mall.core.errors import (
    AuthenticationRequired,
    Conflict,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    ValidationFailed,
)
from mall.i18n_messages import N_

_hasher = PasswordHasher()
# Verifying against this keeps an unknown login as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "mall"
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(errors={"password": [
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters."]})
    return _hasher.hash(password)


def validate_credit_code(code: str, field: str = "credit_code") -> str:
    """Check a unified social credit code (统一社会信用代码) and return it compact and upper-case."""
    try:
        return uscc.validate(code)
    except StdnumValidationError as exc:
        raise ValidationFailed(
            errors={field: ["Not a valid unified social credit code (统一社会信用代码)."]}
        ) from exc


def actor_for(user: User, *, token: ApiToken | None = None) -> Actor:
    """The Actor a service sees for this user (and token, when a machine calls)."""
    return Actor(
        user_id=user.id,
        organisation_id=user.organisation_id,
        organisation_kind=user.organisation.kind,
        roles=user.roles,
        token_id=token.id if token else None,
        scopes=frozenset(Scope(s) for s in token.scopes) if token else None,
    )


def create_organisation(session: Session, *, kind: OrganisationKind, name: str,
                        credit_code: str | None = None, region_code: str | None = None,
                        region_name: str | None = None,
                        actor: Actor | None = None) -> Organisation:
    """Register an organisation; units and suppliers need a valid credit code."""
    if actor is not None:
        actor.require_role(Role.OPERATOR)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Name is required."]
    if kind in (OrganisationKind.PURCHASING_UNIT, OrganisationKind.SUPPLIER) and not credit_code:
        errors["credit_code"] = ["A unified social credit code is required."]
    if kind is OrganisationKind.PURCHASING_UNIT and not (region_code and len(region_code) == 6
                                                         and region_code.isdigit()):
        errors["region_code"] = ["A 6-digit administrative region code is required."]
    if errors:
        raise ValidationFailed(errors=errors)
    if credit_code:
        credit_code = validate_credit_code(credit_code)
        exists = session.scalar(select(Organisation.id)
                                .where(Organisation.credit_code == credit_code))
        if exists:
            raise Conflict("An organisation with this credit code is already registered.",
                           code="credit_code_taken")
    organisation = Organisation(kind=kind, name=name.strip(), credit_code=credit_code,
                                region_code=region_code, region_name=region_name)
    session.add(organisation)
    session.flush()
    record_event(session, action="organisation.created", object_type="organisation",
                 object_id=organisation.id, actor=actor,
                 data={"kind": kind.value, "name": organisation.name})
    return organisation


def _check_roles(kind: OrganisationKind, roles: Iterable[Role | str]) -> set[Role]:
    try:
        wanted = {Role(r) for r in roles}
    except ValueError as exc:
        raise ValidationFailed(errors={"roles": [str(exc)]}) from exc
    allowed = ROLES_BY_KIND[kind]
    if not wanted <= allowed:
        bad = ", ".join(sorted(r.value for r in wanted - allowed))
        raise ValidationFailed(errors={"roles": [
            f"Role(s) {bad} do not exist for a {kind.value} organisation."]})
    return wanted


LOGIN = re.compile(r"[a-z0-9_.\-]{3,40}", re.ASCII)


def login_problem(login: str) -> str | None:
    """Why a login (already stripped and lower-cased) cannot be used, or None: 3-40 ASCII
    letters, digits, dots, dashes or underscores, so that no login looks like another."""
    if not login:
        return N_("Enter a login.")
    if not LOGIN.fullmatch(login):
        return N_("A login has 3 to 40 letters, digits, dots, dashes or underscores.")
    return None


def create_user(session: Session, *, organisation: Organisation, login: str, display_name: str,
                password: str, roles: Iterable[Role | str], email: str | None = None,
                actor: Actor | None = None, password_hash: str | None = None) -> User:
    """Create a user with roles valid for the organisation's kind."""
    if actor is not None:
        _require_user_admin(actor, organisation.id)
    wanted = _check_roles(organisation.kind, roles)
    login = login.strip().lower()
    problem = login_problem(login)
    if problem:
        raise ValidationFailed(errors={"login": [problem]})
    if session.scalar(select(User.id).where(User.login == login)):
        raise Conflict("This login is taken.", code="login_taken")
    user = User(organisation=organisation, login=login, display_name=display_name,
                email=email, password_hash=password_hash or hash_password(password))
    user.role_rows = [UserRole(role=r) for r in sorted(wanted)]
    session.add(user)
    session.flush()
    record_event(session, action="user.created", object_type="user", object_id=user.id,
                 actor=actor, data={"login": login, "roles": sorted(r.value for r in wanted)})
    return user


def _require_user_admin(actor: Actor, organisation_id: int) -> None:
    """Operators manage every organisation's users; a supplier admin manages its own."""
    if actor.has_role(Role.OPERATOR):
        return
    require_same_organisation(actor, organisation_id, allow_oversight=False)
    actor.require_role(Role.SUPPLIER_ADMIN)


def authenticate(session: Session, *, login: str, password: str, ip_address: str | None,
                 max_failures: int = 5, lock_minutes: int = 15) -> User:
    """Check a login and password; lock the account for a while after repeated failures.

    An unknown login gets the same answers as an existing one: its failures are counted
    too and it is locked after as many, for as long (``_refuse_unknown_login``), so neither
    the message nor the lock tells whether an account exists.
    """
    name = login.strip().lower()
    user = session.scalar(select(User).where(User.login == name))
    moment = now()
    if user is None:
        _refuse_unknown_login(session, name, password, ip_address=ip_address, moment=moment,
                              max_failures=max_failures, lock_minutes=lock_minutes)
    if user.locked_until and user.locked_until > moment:
        raise _locked()
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        data: dict[str, int | str] = {"failures": user.failed_logins}
        if user.failed_logins >= max_failures:
            user.locked_until = moment + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            data["locked_until"] = user.locked_until.isoformat()
        record_event(session, action="login.failed", object_type="user", object_id=user.id,
                     actor_user_id=user.id, actor_organisation_id=user.organisation_id,
                     ip_address=ip_address, data=data)
        raise AuthenticationRequired("Wrong login or password.",
                                     code="invalid_credentials") from None
    if not user.is_active:
        raise PermissionDenied("This account is disabled.", code="account_disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = moment
    record_event(session, action="login.succeeded", object_type="user", object_id=user.id,
                 actor_user_id=user.id, actor_organisation_id=user.organisation_id,
                 ip_address=ip_address)
    return user


def _locked() -> TooManyRequests:
    return TooManyRequests("Too many failed attempts; try again later.", code="account_locked")


def _refuse_unknown_login(session: Session, name: str, password: str, *,
                          ip_address: str | None, moment: datetime, max_failures: int,
                          lock_minutes: int) -> NoReturn:
    """Count a failed login for a name no account has, exactly as for an account.

    The count lives in the audit trail (``login.failed`` on object type ``login``, keyed by
    the SHA-256 of the name so what people type there is not kept): each event carries the
    running count and, on the failure that locks, ``locked_until``, as an account's do.
    """
    key = hashlib.sha256(name.encode()).hexdigest()
    last = session.scalar(select(AuditEvent).where(
        AuditEvent.action == "login.failed", AuditEvent.object_type == "login",
        AuditEvent.object_id == key).order_by(AuditEvent.id.desc()).limit(1))
    state = last.data if last is not None else {}
    if "locked_until" in state and datetime.fromisoformat(state["locked_until"]) > moment:
        raise _locked()
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)  # as slow as checking a real password
    data = {"failures": (0 if "locked_until" in state else state.get("failures", 0)) + 1}
    if data["failures"] >= max_failures:
        data["locked_until"] = (moment + timedelta(minutes=lock_minutes)).isoformat()
    record_event(session, action="login.failed", object_type="login", object_id=key,
                 ip_address=ip_address, data=data)
    raise AuthenticationRequired("Wrong login or password.", code="invalid_credentials")


def get_organisation(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    """An organisation the actor may see: their own, or any for operators and supervisors."""
    require_same_organisation(actor, organisation_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    return organisation


def list_users(session: Session, actor: Actor, organisation_id: int) -> list[User]:
    """The users of an organisation the actor may see."""
    get_organisation(session, actor, organisation_id)
    return list(session.scalars(select(User).where(User.organisation_id == organisation_id)
                                .order_by(User.login)))


def set_user_roles(session: Session, actor: Actor, *, user_id: int,
                   roles: Iterable[Role | str]) -> User:
    """Replace a user's roles (operators for anyone, supplier admins for their staff)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    require_same_organisation(actor, user.organisation_id)
    _require_user_admin(actor, user.organisation_id)
    wanted = _check_roles(user.organisation.kind, roles)
    before = sorted(r.value for r in user.roles)
    if not wanted:
        raise ValidationFailed(errors={"roles": ["At least one role is required."]})
    user.role_rows = [row for row in user.role_rows if row.role in wanted]
    have = {row.role for row in user.role_rows}
    user.role_rows.extend(UserRole(role=r) for r in sorted(wanted - have))
    session.flush()
    record_event(session, action="user.roles_changed", object_type="user", object_id=user.id,
                 actor=actor, data={"before": before, "after": sorted(r.value for r in wanted)})
    return user


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue_token(session: Session, actor: Actor, *, name: str, scopes: Iterable[Scope | str],
                expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Issue an API token for the actor's organisation; the plaintext is shown once, never stored."""
    actor.require_role(*TOKEN_ADMIN_ROLES)
    if actor.token_id is not None:
        raise PermissionDenied("API tokens cannot issue tokens.", code="token_cannot_issue")
    try:
        wanted = {Scope(s) for s in scopes}
    except ValueError as exc:
        raise ValidationFailed(errors={"scopes": [str(exc)]}) from exc
    allowed = SCOPES_BY_KIND[actor.organisation_kind]
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Name is required."]
    if not wanted:
        errors["scopes"] = ["Choose at least one scope."]
    elif not wanted <= allowed:
        errors["scopes"] = ["Not allowed for your organisation: "
                            + ", ".join(sorted(s.value for s in wanted - allowed))]
    if expires_at is not None and expires_at <= now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationFailed(errors=errors)
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(organisation_id=actor.organisation_id, created_by_id=actor.user_id,
                     name=name.strip(), prefix=prefix, token_hash=_digest(plaintext),
                     scopes=sorted(s.value for s in wanted), expires_at=expires_at)
    session.add(token)
    session.flush()
    record_event(session, action="api_token.issued", object_type="api_token",
                 object_id=token.id, actor=actor, data={"name": token.name,
                                                        "scopes": token.scopes})
    return token, plaintext


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The actor's organisation's tokens, newest first."""
    actor.require_role(*TOKEN_ADMIN_ROLES)
    return list(session.scalars(select(ApiToken)
                                .where(ApiToken.organisation_id == actor.organisation_id)
                                .order_by(ApiToken.id.desc())))


def revoke_token(session: Session, actor: Actor, *, token_id: int) -> ApiToken:
    """Revoke a token at once; later calls with it are refused."""
    actor.require_role(*TOKEN_ADMIN_ROLES)
    token = session.get(ApiToken, token_id)
    if token is None or token.organisation_id != actor.organisation_id:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = now()
        record_event(session, action="api_token.revoked", object_type="api_token",
                     object_id=token.id, actor=actor, data={"name": token.name})
    session.flush()
    return token


def authenticate_token(session: Session, plaintext: str) -> Actor:
    """The Actor behind a bearer token; revoked, expired or unknown tokens are refused."""
    # One statement: the token, its user and organisation (joined), and the user's roles.
    token = session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext))
                            .options(joinedload(ApiToken.created_by).joinedload(User.role_rows))
                            ).unique().scalar_one_or_none()
    moment = now()
    if (token is None or token.revoked_at is not None
            or (token.expires_at is not None and token.expires_at <= moment)):
        raise AuthenticationRequired("The API token is invalid, expired or revoked.",
                                     code="invalid_token")
    user = token.created_by
    if not user.is_active:
        raise AuthenticationRequired("The token's owner is disabled.", code="invalid_token")
    if token.last_used_at is None or moment - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = moment  # coarse, so hot API clients do not write on every call
    return actor_for(user, token=token)
