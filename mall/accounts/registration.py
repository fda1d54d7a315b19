"""Public supplier registration: a new company creates its account and applies for admission
in one step (the supplier package cannot create accounts, so the composition happens here)."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user

from mall.accounts import services
from mall.core.auth import OrganisationKind, Role
from mall.core.errors import MallError, ValidationFailed
from mall.extensions import db, limiter
from mall.web import form_dict, load_form
from suppliers import admission
from suppliers.forms import RegistrationForm, profile_input

blueprint = Blueprint("registration", __name__)


@blueprint.route("/supplier/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    """Register a supplier company with its administrator and apply for categories."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(RegistrationForm(), form_dict(
                request.form, ("delivery_regions", "category_codes")))
            organisation = services.create_organisation(
                db.session, kind=OrganisationKind.SUPPLIER, name=data["organisation_name"],
                credit_code=data["credit_code"], region_code=data["region_code"])
            user = services.create_user(
                db.session, organisation=organisation, login=data["login"],
                display_name=data["display_name"], password=data["password"],
                email=data["contact_email"], roles=[Role.SUPPLIER_ADMIN])
            admission.apply_for_admission(
                db.session, services.actor_for(user), profile=profile_input(data),
                category_codes=data["category_codes"], note=data["note"])
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
        except MallError as exc:  # login or credit code taken
            db.session.rollback()
            field = "credit_code" if exc.code == "credit_code_taken" else "login"
            errors = {field: [exc.detail]}
        else:
            locale = session.get("locale")
            session.clear()
            if locale:
                session["locale"] = locale
            login_user(user)
            flash(_("Your application was sent to the trading centre."), "success")
            return redirect(url_for("suppliers.dashboard"))
    return render_template("suppliers/apply.html", form=request.form, errors=errors,
                           categories=admission.enabled_leaves(db.session), registering=True), \
        (422 if errors else 200)
