"""The suppliers' side of contract financing (政采贷) through the API: consents to banks (grant,
revoke), who read which contract when, the banks and their products, loan applications and
the loans with every step the bank recorded.

The supplier is always the caller's own organisation. Granting, revoking and applying need
the supplier's administrator (as the pages do); every supplier user may read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from financing import consent, loans, portfolio, products
from financing.models import AccessRecord, Consent, Loan
from financing.supplier_schemas import (
    AccessLogQuerySchema,
    ConsentGrantSchema,
    ContractReadSchema,
    FinancePartnerSchema,
    LoanApplySchema,
    SupplierConsentSchema,
    SupplierLoanSchema,
)
from mall.core.auth import SUPPLIER_STAFF, Role, Scope
from mall.core.clock import now
from mall.core.errors import ValidationFailed
from mall.extensions import db
from mall.web import current_actor
from mall.web.access import access
from mall.web.idempotency import idempotent
from mall.web.parsing import Blueprint

blueprint = Blueprint("supplier_finance_api", __name__, url_prefix="/supplier/finance",
                      description="Contract financing (政采贷) for suppliers: consents to "
                                  "banks, who read your contracts, the banks' products, "
                                  "loan applications and loans")

CONSENT_DOC = {"responses": {"409": {"description": "consent_revoked: already revoked"},
                             "404": {"description": "not_found: no such consent of yours"}}}
APPLY_DOC = {"responses": {
    "404": {"description": "not_found: no such order of yours"},
    "409": {"description": "not_financeable (not a signed contract, or paid, cancelled or "
                           "returned), consent_required (grant the bank access to the "
                           "contract first), loan_exists (a loan is under way)"}}}
# The services name the amount as the pages do; the API names money by its unit.
_API_FIELDS = {"amount": "amount_fen"}


@contextmanager
def _api_field_names() -> Iterator[None]:
    try:
        yield
    except ValidationFailed as exc:
        exc.errors = {_API_FIELDS.get(name, name): messages
                      for name, messages in (exc.errors or {}).items()}
        raise


def _consent_answers(found: Sequence[Consent]) -> list[dict[str, Any]]:
    """The consents with their banks' names and chosen contracts' numbers, in two queries."""
    session = db.session()
    banks = portfolio.organisation_names(session, {c.bank_org_id for c in found})
    numbers = portfolio.contract_numbers(session, {o.order_id for c in found for o in c.orders})
    moment = now()
    return [{"id": c.id, "scope": c.scope,
             "bank": {"id": c.bank_org_id, "name": banks.get(c.bank_org_id, "")},
             "contracts": [{"order_id": o.order_id,
                            "order_number": numbers.get(o.order_id, (None, None))[0],
                            "contract_number": numbers.get(o.order_id, (None, None))[1]}
                           for o in sorted(c.orders, key=lambda o: o.order_id)],
             "granted_at": c.granted_at, "expires_at": c.expires_at,
             "revoked_at": c.revoked_at,
             "live": c.revoked_at is None and c.expires_at > moment} for c in found]


@blueprint.route("/consents")
@access(Scope.FINANCING_READ, *SUPPLIER_STAFF)
@blueprint.response(200, SupplierConsentSchema(many=True))
def list_consents():
    """Your consents to banks, newest first: live, expired and revoked ones."""
    return _consent_answers(consent.consents_of(db.session(), current_actor()))


@blueprint.route("/consents", methods=["POST"])
@access(Scope.FINANCING_WRITE, Role.SUPPLIER_ADMIN)
@idempotent
@blueprint.arguments(ConsentGrantSchema)
@blueprint.response(201, SupplierConsentSchema)
def grant_consent(data):
    """Let a bank read all your contracts (present and future) or the chosen ones until the
    end of ``expires_on``; the bank is told and finds them in its feed. Every read it makes
    is in your access log."""
    granted = consent.grant(db.session(), current_actor(), bank_org_id=data["bank_org_id"],
                            scope=data["scope"], order_ids=data["order_ids"],
                            expires_on=data["expires_on"])
    return _consent_answers([granted])[0]


@blueprint.route("/consents/<int:consent_id>/revoke", methods=["POST"])
@access(Scope.FINANCING_WRITE, Role.SUPPLIER_ADMIN)
@blueprint.response(200, SupplierConsentSchema)
@blueprint.doc(**CONSENT_DOC)
def revoke_consent(consent_id: int):
    """Revoke a consent at once: the bank's next read finds none of the contracts it covered
    (a loan already paid out keeps its account lock)."""
    revoked = consent.revoke(db.session(), current_actor(), consent_id)
    return _consent_answers([revoked])[0]


@blueprint.route("/access-log")
@access(Scope.FINANCING_READ, *SUPPLIER_STAFF)
@blueprint.arguments(AccessLogQuerySchema, location="query")
@blueprint.response(200, ContractReadSchema(many=True))
def access_log(query):
    """Who read which of your contracts, when, and how (newest first)."""
    session = db.session()
    records: list[AccessRecord] = consent.access_log(session, current_actor(),
                                                     limit=query["limit"])
    banks = portfolio.organisation_names(session, {r.bank_org_id for r in records})
    numbers = portfolio.contract_numbers(session, {r.order_id for r in records})
    return [{"bank": {"id": r.bank_org_id, "name": banks.get(r.bank_org_id, "")},
             "order_id": r.order_id,
             "order_number": numbers.get(r.order_id, (None, None))[0],
             "contract_number": numbers.get(r.order_id, (None, None))[1],
             "via": r.via, "by_api": r.token_id is not None, "at": r.at} for r in records]


@blueprint.route("/banks")
@access(Scope.FINANCING_READ, *SUPPLIER_STAFF)
@blueprint.response(200, FinancePartnerSchema(many=True))
def list_banks():
    """The mall's finance partners, each with its active financing products."""
    session = db.session()
    offered: dict[int, list[Any]] = {}
    for product, _bank_name in products.active_products(session):
        offered.setdefault(product.bank_org_id, []).append(product)
    return [{"id": bank_id, "name": name, "products": offered.get(bank_id, [])}
            for bank_id, name in portfolio.finance_partners(session)]


def _loan_answers(found: Sequence[Loan]) -> list[dict[str, Any]]:
    """The loans with their banks' names and contract numbers, in two queries."""
    session = db.session()
    banks = portfolio.organisation_names(session, {loan.bank_org_id for loan in found})
    numbers = portfolio.contract_numbers(session, {loan.order_id for loan in found})
    answers = []
    for loan in found:
        answer = {name: getattr(loan, name) for name in SupplierLoanSchema().fields
                  if name not in {"contract_number", "bank"}}
        answer.update(contract_number=numbers.get(loan.order_id, (None, None))[1],
                      bank={"id": loan.bank_org_id, "name": banks.get(loan.bank_org_id, "")})
        answers.append(answer)
    return answers


@blueprint.route("/loans", methods=["POST"])
@access(Scope.FINANCING_WRITE, Role.SUPPLIER_ADMIN)
@idempotent
@blueprint.arguments(LoanApplySchema)
@blueprint.response(201, SupplierLoanSchema)
@blueprint.doc(**APPLY_DOC)
def apply_for_loan(data):
    """Apply to a bank's product for a loan against one of your signed contracts, for at most
    the product's share of it. The bank must be able to read the contract (your consent)."""
    with _api_field_names():
        loan = loans.apply_for_loan(db.session(), current_actor(), order_id=data["order_id"],
                                    product_id=data["product_id"],
                                    amount_fen=data["amount_fen"], note=data["note"])
    return _loan_answers([loan])[0]


@blueprint.route("/loans")
@access(Scope.FINANCING_READ, *SUPPLIER_STAFF)
@blueprint.response(200, SupplierLoanSchema(many=True))
def list_loans():
    """Your loans and applications, newest first, each with every step the bank recorded."""
    return _loan_answers(loans.loans_of(db.session(), current_actor()))
