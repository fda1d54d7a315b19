"""Account pages: login, logout, language, home per role, organisation profile, users, tokens."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import logout_user

from mall.accounts import services
from mall.accounts.schemas import LoginSchema
from mall.core.auth import SCOPES_BY_KIND, TOKEN_ADMIN_ROLES, Role
from mall.core.errors import MallError, ValidationFailed
from mall.extensions import db, limiter
from mall.web import current_actor, load_form, optional_actor, page, sign_in
from mall.web.security import safe_next
from mall.web.unit_of_work import discard_changes, keep_changes

blueprint = Blueprint("accounts", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with login and password."""
    if optional_actor() is not None and request.method == "GET":
        return redirect(url_for("accounts.home"))
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        try:
            data = load_form(LoginSchema(), form)
            user = services.authenticate(
                db.session(), login=data["login"], password=data["password"],
                ip_address=request.remote_addr,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        except ValidationFailed as exc:
            errors = exc.errors
        except MallError as exc:
            # Failed attempts are audited and counted: keep them even though we answer 401.
            keep_changes()
            errors = {"_form": [_translate_login_error(exc.code)]}
        else:
            sign_in(user)
            return redirect(safe_next(data.get("next"), url_for("accounts.home")))
    expired = session.pop("expired", False)
    status = 200 if not errors else 401
    return render_template("accounts/login.html", errors=errors, form=form,
                           expired=expired, next=request.args.get("next", "")), status


def _translate_login_error(code: str) -> str:
    return {
        "invalid_credentials": _("Wrong login or password."),
        "account_locked": _("Too many failed attempts; try again in a few minutes."),
        "account_disabled": _("This account is disabled."),
    }.get(code, _("Login failed."))


@blueprint.route("/logout", methods=["POST"])
def logout():
    """Log out and forget the session."""
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    return redirect(url_for("accounts.login"))


@blueprint.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    """Switch between Simplified Chinese and English."""
    if code in ("zh_Hans_CN", "en"):
        session["locale"] = code
    return redirect(safe_next(request.form.get("next"), url_for("accounts.home")))


@blueprint.route("/")
@page()
def home():
    """The home page of the logged-in user's role, linking to what they can do."""
    actor = current_actor()
    organisation = services.get_organisation(db.session(), actor, actor.organisation_id)
    return render_template("accounts/home.html", organisation=organisation,
                           can_manage_tokens=actor.has_role(*TOKEN_ADMIN_ROLES))


@blueprint.route("/organisations/<int:organisation_id>")
@page()
def organisation(organisation_id: int):
    """An organisation's profile and users (own organisation, or any for oversight)."""
    actor = current_actor()
    org = services.get_organisation(db.session(), actor, organisation_id)
    users = services.list_users(db.session(), actor, organisation_id)
    can_edit = actor.has_role(Role.OPERATOR) or (
        actor.organisation_id == organisation_id and actor.has_role(Role.SUPPLIER_ADMIN))
    return render_template("accounts/organisation.html", organisation=org, users=users,
                           can_edit=can_edit, errors={})


@blueprint.route("/users/<int:user_id>/roles", methods=["POST"])
@page()
def set_roles(user_id: int):
    """Change a user's roles from the organisation page."""
    actor = current_actor()
    try:
        user = services.set_user_roles(db.session(), actor, user_id=user_id,
                                       roles=request.form.getlist("roles"))
    except ValidationFailed as exc:
        discard_changes()
        flash(_("Roles not changed: %(reason)s",
                reason="; ".join(_(m) for m in sum(exc.errors.values(), []))), "error")
        from mall.accounts.models import User

        target = db.session.get_one(User, user_id)
        return redirect(url_for("accounts.organisation",
                                organisation_id=target.organisation_id))
    flash(_("Roles of %(login)s saved.", login=user.login), "success")
    return redirect(url_for("accounts.organisation", organisation_id=user.organisation_id))


@blueprint.route("/tokens", methods=["GET", "POST"])
@page(*TOKEN_ADMIN_ROLES)
def tokens():
    """Issue and list the organisation's API tokens."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    new_secret = None
    if request.method == "POST":
        try:
            _token, new_secret = services.issue_token(
                db.session(), actor, name=request.form.get("name", ""),
                scopes=request.form.getlist("scopes"))
        except ValidationFailed as exc:
            errors = exc.errors
    rows = services.list_tokens(db.session(), actor)
    status = 422 if errors else 200
    return render_template("accounts/tokens.html", tokens=rows, errors=errors,
                           new_secret=new_secret, form=request.form,
                           scopes=sorted(s.value for s in SCOPES_BY_KIND[actor.organisation_kind])
                           ), status


@blueprint.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@page(*TOKEN_ADMIN_ROLES)
def revoke_token(token_id: int):
    """Revoke a token from the tokens page."""
    token = services.revoke_token(db.session(), current_actor(), token_id=token_id)
    flash(_("Token %(name)s revoked.", name=token.name), "success")
    return redirect(url_for("accounts.tokens"))
