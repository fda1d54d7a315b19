"""The banks' webhook endpoints through the API: add one (its signing secret is answered once),
rotate its secret, switch it off, read the delivery log and send a delivery again."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from financing import webhook_endpoints
from financing.api import RATE_LIMITED, rate_limited
from financing.webhooks import EVENT_TYPES
from mall.core.auth import Role, Scope
from mall.core.inputs import Count, PlainText, needed
from mall.extensions import db
from mall.i18n_messages import N_
from mall.web import current_actor
from mall.web.access import access
from mall.web.parsing import Blueprint

blueprint = Blueprint("finance_webhooks_api", __name__, url_prefix="/finance/webhooks",
                      description="Webhook endpoints of banks, their delivery log and replay")


class WebhookEndpointSchema(Schema):
    id = fields.Int(required=True)
    url = fields.Str(required=True)
    events = fields.List(fields.Str(), required=True, metadata={
        "description": "The event types sent there; empty: every type"})
    active = fields.Bool(required=True)
    created_at = fields.AwareDateTime(required=True)


class WebhookEndpointSecretSchema(WebhookEndpointSchema):
    secret = fields.Str(required=True, metadata={
        "description": "The signing secret (whsec_…), answered this once: keep it"})


class WebhookEndpointInSchema(Schema):
    url = PlainText(validate=validate.Length(max=500),
                    **needed(N_("Enter the endpoint's https address.")))
    events = fields.List(fields.Str(validate=validate.OneOf(EVENT_TYPES)),
                         load_default=list, validate=validate.Length(max=len(EVENT_TYPES)),
                         metadata={"description": "Event types to send; empty: all"})


class WebhookDeliverySchema(Schema):
    id = fields.Int(required=True)
    endpoint_id = fields.Int(required=True)
    event_id = fields.Str(required=True, metadata={"description": "X-Mall-Event-Id"})
    event_type = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"description": "pending, delivered, failed"})
    attempts = fields.Int(required=True)
    next_attempt_at = fields.AwareDateTime(required=True)
    last_attempt_at = fields.AwareDateTime(allow_none=True)
    last_status_code = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class DeliveryQuerySchema(Schema):
    status = fields.Str(load_default=None,
                        validate=validate.OneOf(["pending", "delivered", "failed"]))
    limit = Count(min=1, max=1000, load_default=100)


def _with_secret(made: webhook_endpoints.EndpointSecret) -> dict:
    endpoint = made.endpoint
    return {"id": endpoint.id, "url": endpoint.url, "events": endpoint.events,
            "active": endpoint.active, "created_at": endpoint.created_at,
            "secret": made.secret}


@blueprint.route("")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.response(200, WebhookEndpointSchema(many=True))
@blueprint.doc(responses=RATE_LIMITED)
def list_endpoints():
    """Your bank's endpoints, newest first (secrets are never shown again)."""
    return webhook_endpoints.endpoints(db.session(), current_actor())


@blueprint.route("", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.arguments(WebhookEndpointInSchema)
@blueprint.response(201, WebhookEndpointSecretSchema)
@blueprint.doc(responses=RATE_LIMITED)
def add_endpoint(data):
    """Add an endpoint (a public https address) for the event types listed, or all; the
    answer holds its signing secret, this once."""
    return _with_secret(webhook_endpoints.add_endpoint(db.session(), current_actor(),
                                                       data["url"], data["events"]))


@blueprint.route("/<int:endpoint_id>/rotate", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.response(200, WebhookEndpointSecretSchema)
@blueprint.doc(responses=RATE_LIMITED)
def rotate_secret(endpoint_id: int):
    """A new signing secret for the endpoint, used from the next attempt on."""
    return _with_secret(webhook_endpoints.rotate_secret(db.session(), current_actor(),
                                                        endpoint_id))


@blueprint.route("/<int:endpoint_id>/deactivate", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.response(200, WebhookEndpointSchema)
@blueprint.doc(responses=RATE_LIMITED)
def deactivate(endpoint_id: int):
    """Stop sending to the endpoint; its pending deliveries fail (and can be replayed)."""
    return webhook_endpoints.deactivate(db.session(), current_actor(), endpoint_id)


@blueprint.route("/deliveries")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.arguments(DeliveryQuerySchema, location="query")
@blueprint.response(200, WebhookDeliverySchema(many=True))
@blueprint.doc(responses=RATE_LIMITED)
def list_deliveries(query):
    """The delivery log of your endpoints, newest first."""
    return webhook_endpoints.deliveries(db.session(), current_actor(), status=query["status"],
                                        limit=query["limit"])


@blueprint.route("/deliveries/<int:delivery_id>/replay", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.response(200, WebhookDeliverySchema)
@blueprint.doc(responses=RATE_LIMITED)
def replay(delivery_id: int):
    """Send a delivered or failed event again, as it was (same event id)."""
    return webhook_endpoints.replay(db.session(), current_actor(), delivery_id)
