"""Account API: who am I, organisations and their users, roles, API tokens."""

from mall.accounts import services
from mall.accounts.models import User
from mall.accounts.schemas import (
    MeSchema,
    OrganisationSchema,
    RolesUpdateSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenSchema,
    UserSchema,
)
from mall.core.auth import TOKEN_ADMIN_ROLES, Role, Scope
from mall.extensions import db
from mall.web import current_actor
from mall.web.access import access
from mall.web.parsing import Blueprint

blueprint = Blueprint("accounts_api", __name__, description="Accounts, roles and API tokens")


@blueprint.route("/me")
@access(Scope.ACCOUNT_READ)
@blueprint.response(200, MeSchema)
def me():
    """The authenticated user (or token owner) and their organisation."""
    actor = current_actor()
    user = db.session.get_one(User, actor.user_id)
    return {"user": user, "organisation": user.organisation,
            "scopes": sorted(actor.scopes) if actor.scopes is not None else None}


@blueprint.route("/organisations/<int:organisation_id>")
@access(Scope.ACCOUNT_READ)
@blueprint.response(200, OrganisationSchema)
def get_organisation(organisation_id: int):
    """One organisation: your own, or any for operators and supervisors."""
    actor = current_actor()
    return services.get_organisation(db.session(), actor, organisation_id)


@blueprint.route("/organisations/<int:organisation_id>/users")
@access(Scope.ACCOUNT_READ)
@blueprint.response(200, UserSchema(many=True))
def list_users(organisation_id: int):
    """The users of an organisation you may see."""
    actor = current_actor()
    return services.list_users(db.session(), actor, organisation_id)


@blueprint.route("/users/<int:user_id>/roles", methods=["PUT"])
@access(Scope.ACCOUNT_WRITE, Role.OPERATOR, Role.SUPPLIER_ADMIN)
@blueprint.arguments(RolesUpdateSchema)
@blueprint.response(200, UserSchema)
def set_roles(data, user_id: int):
    """Replace a user's roles (operators; supplier admins for their own staff)."""
    return services.set_user_roles(db.session(), current_actor(), user_id=user_id,
                                   roles=data["roles"])


@blueprint.route("/tokens")
@access(Scope.ACCOUNT_READ, *TOKEN_ADMIN_ROLES)
@blueprint.response(200, TokenSchema(many=True))
def list_tokens():
    """Your organisation's API tokens (never their secrets)."""
    return services.list_tokens(db.session(), current_actor())


@blueprint.route("/tokens", methods=["POST"])
@access(Scope.ACCOUNT_WRITE, *TOKEN_ADMIN_ROLES)
@blueprint.arguments(TokenCreateSchema)
@blueprint.response(201, TokenCreatedSchema)
def issue_token(data):
    """Issue a scoped token; the secret is in this response only."""
    token, plaintext = services.issue_token(db.session(), current_actor(), name=data["name"],
                                            scopes=data["scopes"],
                                            expires_at=data["expires_at"])
    db.session.flush()
    # The token's attributes, not its dump: the response decorator serialises once.
    return {**{name: getattr(token, name) for name in TokenSchema().fields}, "token": plaintext}


@blueprint.route("/tokens/<int:token_id>", methods=["DELETE"])
@access(Scope.ACCOUNT_WRITE, *TOKEN_ADMIN_ROLES)
@blueprint.response(200, TokenSchema)
def revoke_token(token_id: int):
    """Revoke a token; it stops working at once."""
    return services.revoke_token(db.session(), current_actor(), token_id=token_id)
