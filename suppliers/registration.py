"""Public supplier registration: a new company creates its organisation and its administrator
and applies for admission to categories, in one unit of work."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from mall.accounts import services as accounts
from mall.accounts.models import User
from mall.core.auth import OrganisationKind, Role
from suppliers.admission import ProfileInput, apply_for_admission


def register_supplier(session: Session, *, organisation_name: str, credit_code: str,
                      region_code: str, login: str, display_name: str, password: str,
                      email: str, profile: ProfileInput, category_codes: Sequence[str],
                      note: str = "") -> User:
    """Create a supplier organisation with its administrator and submit its application.

    Nobody is signed in yet: the organisation and the user are created without an actor,
    and the application is made by the new administrator. Raises what the account and
    admission services raise (``credit_code_taken``, ``login_taken``, field errors); the
    caller rolls the unit of work back.
    """
    organisation = accounts.create_organisation(
        session, kind=OrganisationKind.SUPPLIER, name=organisation_name,
        credit_code=credit_code, region_code=region_code)
    user = accounts.create_user(
        session, organisation=organisation, login=login, display_name=display_name,
        password=password, email=email, roles=[Role.SUPPLIER_ADMIN])
    apply_for_admission(session, accounts.actor_for(user), profile=profile,
                        category_codes=category_codes, note=note)
    return user
