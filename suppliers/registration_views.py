"""The public supplier registration page over ``suppliers.registration.register_supplier``."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from mall.core.errors import MallError, ValidationFailed
from mall.extensions import db, limiter
from mall.web import form_dict, load_form, sign_in
from mall.web.unit_of_work import discard_changes
from suppliers import admission
from suppliers.forms import RegistrationForm, profile_input
from suppliers.registration import register_supplier

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
            user = register_supplier(
                db.session(), organisation_name=data["organisation_name"],
                credit_code=data["credit_code"], region_code=data["region_code"],
                login=data["login"], display_name=data["display_name"],
                password=data["password"], email=data["contact_email"],
                profile=profile_input(data), category_codes=data["category_codes"],
                note=data["note"])
        except ValidationFailed as exc:
            discard_changes()
            errors = exc.errors
        except MallError as exc:  # login or credit code taken
            discard_changes()
            field = "credit_code" if exc.code == "credit_code_taken" else "login"
            errors = {field: [exc.detail]}
        else:
            sign_in(user)
            flash(_("Your application was sent to the trading centre."), "success")
            return redirect(url_for("suppliers.dashboard"))
    return render_template("suppliers/apply.html", form=request.form, errors=errors,
                           categories=admission.enabled_leaves(db.session()), registering=True), \
        (422 if errors else 200)
