"""The order steps' page forms: each loads with its step's API schema (the same fields,
rules and messages), read from a submitted form; only money differs, typed in yuan on a
page and sent in fen to the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from mall.core.inputs import PlainText, Yuan
from mall.core.money import POSITIVE_AMOUNT, PRICE
from mall.purchasing.orders import schemas
from mall.purchasing.orders.steps import Step
from mall.purchasing.payments.schemas import TreasuryPaymentSchema
from mall.web.forms import FormInput


class ConfirmForm(FormInput, schemas.ConfirmSchema):
    gather = {"price-": "prices"}
    prices = fields.Dict(keys=schemas.LINE_ID, values=Yuan(PRICE), load_default=dict)


class AcceptForm(FormInput, schemas.AcceptSchema):
    gather = {"quantity-": "quantities"}


class ReturnRequestForm(FormInput, schemas.ReturnCreateSchema):
    gather = {"quantity-": "quantities"}
    # The service checks the reason with the quantities, so that the page names both at once.
    reason = PlainText(multiline=True, load_default="", validate=validate.Length(max=500))


class TreasuryPaymentForm(FormInput, TreasuryPaymentSchema):
    amount_fen = Yuan(POSITIVE_AMOUNT, data_key="amount", required=True)


class TreasuryRefundForm(FormInput, schemas.TreasuryRefundSchema):
    amount_fen = Yuan(POSITIVE_AMOUNT, data_key="amount", required=True)


_FORMS: dict[str, type[Schema]] = {
    "confirm": ConfirmForm, "accept": AcceptForm, "return-request": ReturnRequestForm,
    "pay-treasury": TreasuryPaymentForm, "return-refund-treasury": TreasuryRefundForm,
}
_made: dict[str, type[Schema]] = {}


def form_schema(declared: Step) -> Schema:
    """The page form of a step: its own class above, or its API schema read as a form."""
    if declared.name not in _FORMS and declared.name not in _made:
        _made[declared.name] = type(declared.schema.__name__.replace("Schema", "Form"),
                                    (FormInput, declared.schema), {})
    return (_FORMS.get(declared.name) or _made[declared.name])()
