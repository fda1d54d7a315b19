"""Contracts API: an order's contract (or settlement order) document, and the public result
and contract notices."""

from __future__ import annotations

from mall.core.auth import Scope
from mall.core.errors import NotFound
from mall.extensions import db
from mall.purchasing.contracts import notices, payee
from mall.purchasing.contracts import services as contracts
from mall.purchasing.contracts.schemas import (
    NoticePageSchema,
    NoticeQuerySchema,
    NoticeSchema,
    PayeeAccountsSchema,
)
from mall.purchasing.contracts.views import contract_response
from mall.purchasing.orders.steps import ORDER_READERS
from mall.web import current_actor
from mall.web.access import access
from mall.web.parsing import Blueprint

blueprint = Blueprint("contracts_api", __name__, url_prefix="",
                      description="Contract documents and public notices")

CONTRACT_DOC = {
    "parameters": [{"in": "query", "name": "format", "required": False,
                    "schema": {"type": "string", "enum": ["html", "pdf"], "default": "html"}}],
    "responses": {"200": {
        "description": "The contract (or settlement order) document; X-Contract-SHA256 is the "
                       "fingerprint of its HTML",
        "content": {"text/html": {"schema": {"type": "string"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}}

@blueprint.route("/orders/<int:order_id>/contract")
@access(Scope.ORDERS_READ, *ORDER_READERS)
@blueprint.doc(**CONTRACT_DOC)
def get_contract(order_id: int):
    """The contract document as HTML (?format=pdf for PDF); X-Contract-SHA256 is its fingerprint."""
    return contract_response(contracts.get_contract(db.session(), current_actor(), order_id))



@blueprint.route("/orders/<int:order_id>/payee-account")
@access(Scope.ORDERS_READ, *ORDER_READERS)
@blueprint.response(200, PayeeAccountsSchema)
def get_payee_account(order_id: int):
    """The account the unit pays the order into and its history: the account in the contract,
    then each lender's lock (政采贷 repayment account) and release. 404 before the contract."""
    contract = contracts.get_contract(db.session(), current_actor(), order_id)
    return payee.payee_accounts(db.session(), contract.order_id)


@blueprint.route("/notices")
@access(None)
@blueprint.arguments(NoticeQuerySchema, location="query")
@blueprint.response(200, NoticePageSchema)
def list_notices(query):
    """Public result and contract notices (no login), newest first."""
    items, total = notices.search_notices(db.session(), notices.NoticeFilter(**query))
    return {"items": items, "total": total}


@blueprint.route("/notices/<int:notice_id>")
@access(None)
@blueprint.response(200, NoticeSchema)
def get_notice(notice_id: int):
    notice = notices.get_notice(db.session(), notice_id)
    if notice is None:
        raise NotFound()
    return notice
