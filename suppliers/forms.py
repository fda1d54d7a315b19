"""Marshmallow schemas of the supplier portal's and the operator's HTML forms, and the
admission service's input built from a loaded profile form."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from stdnum.cn import uscc

from mall.core.inputs import Count, Day, Id
from suppliers.admission import ProfileInput
from suppliers.models import SizeClass

PHONE = validate.Regexp(r"^[0-9+\-() ]{7,20}$", error="Enter a valid phone number.")


class FormSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # forms also carry csrf_token and buttons


class ProfileForm(FormSchema):
    legal_representative = fields.Str(required=True, validate=validate.Length(min=1, max=50))
    controlling_shareholder = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    size = fields.Str(required=True, validate=validate.OneOf(["large", "medium", "small", "micro"]))
    employees = Count(load_default=None, allow_none=True)
    revenue_wan = Count(load_default=None, allow_none=True)
    assets_wan = Count(load_default=None, allow_none=True)
    contact_name = fields.Str(required=True, validate=validate.Length(min=1, max=50))
    contact_phone = fields.Str(required=True, validate=PHONE)
    contact_email = fields.Email(required=True)
    bank_name = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    bank_account = fields.Str(required=True, validate=validate.Regexp(
        r"^[0-9 ]{8,40}$", error="Enter the account number (digits)."))
    delivery_regions = fields.List(fields.Str(validate=validate.Regexp(r"^\d{6}$")),
                                   required=True, validate=validate.Length(min=1))
    category_codes = fields.List(fields.Str(validate=validate.Regexp(r"^[ABC]\d{8}$")),
                                 required=True, validate=validate.Length(min=1))
    note = fields.Str(load_default="", validate=validate.Length(max=2000))


def _credit_code(value: str) -> None:
    if not uscc.is_valid(value):
        raise ValidationError("Not a valid unified social credit code (统一社会信用代码).")


class RegistrationForm(ProfileForm):
    organisation_name = fields.Str(required=True, validate=validate.Length(min=2, max=200))
    credit_code = fields.Str(required=True, validate=_credit_code)
    region_code = fields.Str(required=True, validate=validate.Regexp(r"^\d{6}$"))
    login = fields.Str(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.\-]{3,40}$", error="3–40 letters, digits, dot, dash or underscore."))
    display_name = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    password = fields.Str(required=True, validate=validate.Length(min=10, max=200))


def profile_input(data: dict) -> ProfileInput:
    """The admission service's input from a loaded ProfileForm (or RegistrationForm)."""
    return ProfileInput(
        legal_representative=data["legal_representative"],
        controlling_shareholder=data["controlling_shareholder"], size=SizeClass(data["size"]),
        contact_name=data["contact_name"], contact_phone=data["contact_phone"],
        contact_email=data["contact_email"], bank_name=data["bank_name"],
        bank_account=data["bank_account"].replace(" ", ""),
        delivery_regions=tuple(data["delivery_regions"]), employees=data.get("employees"),
        revenue_wan=data.get("revenue_wan"), assets_wan=data.get("assets_wan"))


class DecisionForm(FormSchema):
    decision = fields.Str(required=True, validate=validate.OneOf(["approve", "reject", "more_info"]))
    category_codes = fields.List(fields.Str(), load_default=list)
    reason = fields.Str(load_default="")


class SanctionForm(FormSchema):
    action = fields.Str(required=True, validate=validate.OneOf(["suspend", "end", "reinstate"]))
    reason = fields.Str(load_default="")
    until = Day(load_default=None, allow_none=True)


class OfferActionForm(FormSchema):
    action = fields.Str(required=True, validate=validate.OneOf(
        ["approve", "reject", "freeze", "delist", "reinstate"]))
    offer_ids = fields.List(Id(), required=True, validate=validate.Length(min=1))
    reason = fields.Str(load_default="")


class QuickEditForm(FormSchema):
    price = fields.Str(required=True)
    stock = fields.Int(required=True)  # its range is the listing service's (money.STOCK)


class AgreementForm(FormSchema):
    number = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    title = fields.Str(load_default="")
    category_code = fields.Str(required=True, validate=validate.Regexp(r"^[ABC]\d{8}$"))
    starts_on = Day(required=True)
    ends_on = Day(required=True)
    supplier_ids = fields.List(Id(), load_default=list)


class CapForm(FormSchema):
    product_id = Id(required=True)
    cap = fields.Str(required=True)
