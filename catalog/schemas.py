"""Marshmallow schemas of the catalogue API."""

from marshmallow import Schema, fields, validate


class CategorySchema(Schema):
    code = fields.Str()
    name = fields.Str()
    level = fields.Int()
    section = fields.Str()
    parent_code = fields.Function(lambda c: c.parent.code if c.parent else None)
    is_leaf = fields.Bool()
    enabled = fields.Bool()
    centrally_procured = fields.Bool(metadata={
        "description": "A centrally procured item (集中采购目录品目): its orders are always signed "
                       "as contracts, never settled by a settlement order"})
    version = fields.Str()


class CategoryQuerySchema(Schema):
    parent = fields.Str(load_default=None, validate=validate.Regexp(r"^[ABC]\d{8}$"))
    q = fields.Str(load_default=None, validate=validate.Length(max=50))
    enabled = fields.Bool(load_default=False)


class CategoryEnableSchema(Schema):
    codes = fields.List(fields.Str(validate=validate.Regexp(r"^[ABC]\d{8}$")), required=True,
                        validate=validate.Length(min=1, max=5000))
    enabled = fields.Bool(required=True)


class CategoryCentrallyProcuredSchema(Schema):
    codes = fields.List(fields.Str(validate=validate.Regexp(r"^[ABC]\d{8}$")), required=True,
                        validate=validate.Length(min=1, max=5000))
    centrally_procured = fields.Bool(required=True, metadata={
        "description": "true marks the leaves as centrally procured items, false clears the mark"})


class CategoryEnableResultSchema(Schema):
    changed = fields.Int(metadata={"description": "How many categories changed"})
