"""Marshmallow schemas of the account API and forms."""

from marshmallow import EXCLUDE, Schema, fields, validate

from mall.core.auth import Role, Scope
from mall.core.inputs import Moment


class OrganisationSchema(Schema):
    id = fields.Int()
    kind = fields.Function(lambda o: o.kind.value)
    name = fields.Str()
    credit_code = fields.Str(allow_none=True)
    region_code = fields.Str(allow_none=True)
    region_name = fields.Str(allow_none=True)
    active = fields.Bool()


class UserSchema(Schema):
    id = fields.Int()
    login = fields.Str()
    display_name = fields.Str()
    email = fields.Str(allow_none=True)
    organisation_id = fields.Int()
    roles = fields.Function(lambda u: sorted(r.value for r in u.roles))
    active = fields.Bool()


class MeSchema(Schema):
    user = fields.Nested(UserSchema)
    organisation = fields.Nested(OrganisationSchema)
    scopes = fields.List(fields.Str(), allow_none=True)


class RolesUpdateSchema(Schema):
    roles = fields.List(fields.Str(validate=validate.OneOf([r.value for r in Role])),
                        required=True, validate=validate.Length(min=1))


class TokenSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    prefix = fields.Str()
    scopes = fields.List(fields.Str())
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(fields.Str(validate=validate.OneOf([s.value for s in Scope])),
                         required=True, validate=validate.Length(min=1))
    expires_at = Moment(load_default=None, allow_none=True)


class TokenCreatedSchema(TokenSchema):
    token = fields.Str(metadata={"description": "The secret; shown only in this response."})


class LoginSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the form also carries csrf_token

    login = fields.Str(required=True, validate=validate.Length(min=1, max=80))
    password = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    next = fields.Str(load_default="")
