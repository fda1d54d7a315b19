"""Input and output of the budget API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from mall.core.inputs import MAX_BIGINT, PlainText


class BudgetLineInSchema(Schema):
    fiscal_year = fields.Int(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    project_code = PlainText(required=True, validate=validate.Length(min=1, max=40))
    project_name = PlainText(required=True, validate=validate.Length(min=1, max=200))
    category_code = fields.Str(required=True, validate=validate.Regexp(r"^[ABC]\d{8}$"))
    amount_fen = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=MAX_BIGINT))


class BudgetLineSchema(BudgetLineInSchema):
    id = fields.Int()
    reserved_fen = fields.Int()
    committed_fen = fields.Int()
    spent_fen = fields.Int()
    available_fen = fields.Int()
