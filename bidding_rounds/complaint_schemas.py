"""Schemas of complaints (投诉) in the suppliers' API: filing one, and a complaint as its
complainant reads it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bidding_rounds.complaints import MAX_GROUNDS, MAX_REQUEST
from bidding_rounds.models import ComplaintRemedy, ComplaintStatus
from mall.core.inputs import PlainText, needed
from mall.i18n_messages import N_


class ComplaintCreateSchema(Schema):
    grounds = PlainText(multiline=True, **needed(N_("State the grounds of the complaint.")),
                        validate=validate.Length(min=1, max=MAX_GROUNDS), metadata={
                            "description": "The grounds, within the matters of the challenge"})
    request = PlainText(multiline=True, load_default="",
                        validate=validate.Length(max=MAX_REQUEST),
                        metadata={"description": "What the supplier asks the supervisor for"})


class ComplaintSchema(Schema):
    id = fields.Int()
    challenge_id = fields.Int()
    round_id = fields.Int()
    round_number = fields.Str()
    grounds = fields.Str()
    request = fields.Str()
    filed_at = fields.DateTime()
    decide_by = fields.DateTime(metadata={"description": "The decision is due by then (30 "
                                                         "working days after filing)"})
    suspended = fields.Bool(metadata={"description": "The supervisor suspended the round while "
                                                     "deciding (at most 30 days)"})
    status = fields.Enum(ComplaintStatus, by_value=True, metadata={
        "description": "pending; dismissed (驳回); upheld (成立)"})
    remedy = fields.Enum(ComplaintRemedy, by_value=True, allow_none=True, metadata={
        "description": "When upheld: strike (a quote struck, the award passed on), void (the "
                       "result voided, the round failed), finding (the result stands)"})
    decision_reason = fields.Str(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
