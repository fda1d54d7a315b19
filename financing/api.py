"""The banks' feed API (政采贷): the numbered feed of contract changes, one contract by its
number, a supplier's contracts by its credit code, and the consents the bank holds.

Every read goes through ``financing.feed`` (consent is THE rule there: a supplier without a
live consent to this bank is not found) and is logged for the supplier. Each API client
(token) has one shared budget of requests over these operations (FINANCE_RATE_LIMIT,
"120 per minute" by default); past it the answer is a 429 problem document.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from financing import feed, loans
from financing.consent import consents_of, require_bank
from financing.models import Loan
from financing.schemas import (
    ConsentSchema,
    ContractSchema,
    FeedPageSchema,
    FeedQuerySchema,
    LoanApproveSchema,
    LoanCloseSchema,
    LoanDisburseSchema,
    LoanRejectSchema,
    LoanReleaseSchema,
    LoanRepaySchema,
    LoanSchema,
    SupplierContractsSchema,
)
from mall.accounts.models import Organisation
from mall.core.auth import Role, Scope
from mall.core.clock import now
from mall.core.errors import NotFound, ValidationFailed
from mall.core.inputs import control_characters
from mall.extensions import db, limiter
from mall.i18n_messages import N_
from mall.purchasing.contracts.models import Contract
from mall.web import current_actor, optional_actor
from mall.web.access import access
from mall.web.idempotency import idempotent
from mall.web.openapi import problem_response
from mall.web.parsing import Blueprint

blueprint = Blueprint("finance_api", __name__, url_prefix="/finance",
                      description="Contract financing (政采贷) for banks: the feed of contracts "
                                  "of consenting suppliers, lookups, and consents")

DEFAULT_RATE_LIMIT = "120 per minute"
CONTRACT_NUMBER_MAX = 40  # Contract.number
NOT_CONSENTED = ("not_found: no such contract, or its supplier gives this bank no live consent "
                 "(never granted, expired or revoked)")
RATE_LIMITED = {"429": problem_response(
    429, "too_many_requests: this API client used up its FINANCE_RATE_LIMIT; retry later")}


def _client() -> str:
    """The rate limit's key: the API token (each bank client has its own budget), else the
    signed-in person, else the caller's address."""
    actor = optional_actor()
    if actor is None:
        return "finance:" + (get_remote_address() or "")
    if actor.token_id is not None:
        return f"finance:token:{actor.token_id}"
    return f"finance:user:{actor.user_id}"


# One budget per client over every operation of the blueprint. The decorator sits right
# below the route so the check runs when the view is called (after the request hooks put
# the actor on g), never in flask-limiter's own before-request hook.
rate_limited = limiter.shared_limit(
    lambda: current_app.config.get("FINANCE_RATE_LIMIT", DEFAULT_RATE_LIMIT),
    scope="finance_api", key_func=_client)


@blueprint.route("/contracts")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.arguments(FeedQuerySchema, location="query")
@blueprint.response(200, FeedPageSchema)
@blueprint.doc(responses=RATE_LIMITED)
def pull_feed(query):
    """The changes after your cursor of the contracts you may read, oldest first, each with
    the contract as it is now; send ``next_after`` as ``after`` to read on.

    The cursor never skips a change nor repeats one: numbers are given out in order, and a
    change numbered while you read comes with your next pull. ``has_more`` says another page
    is waiting now. Contracts of suppliers whose consent was revoked or expired are no longer
    in the feed; a new consent puts its contracts into it again.
    """
    page = feed.pull(db.session(), current_actor(), after=query["after"], limit=query["limit"])
    return {"items": page.items, "next_after": page.next_after, "has_more": page.has_more}


@blueprint.route("/contracts/<contract_number>")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.response(200, ContractSchema)
@blueprint.doc(responses={**RATE_LIMITED, "404": {"description": NOT_CONSENTED}})
def get_contract(contract_number: str):
    """One contract by its number (合同编号), if its supplier consents that you read it."""
    actor = current_actor()
    if len(contract_number) > CONTRACT_NUMBER_MAX or control_characters(contract_number):
        require_bank(actor)
        raise NotFound()  # no contract has such a number
    return feed.contract(db.session(), actor, number=contract_number)


@blueprint.route("/suppliers/<credit_code>/contracts")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.response(200, SupplierContractsSchema)
@blueprint.doc(responses={**RATE_LIMITED, "404": {"description": NOT_CONSENTED},
                          "422": {"description": "validation_failed: not a unified social "
                                                 "credit code (errors.credit_code)"}})
def supplier_contracts(credit_code: str):
    """The contracts of a supplier, by its unified social credit code (统一社会信用代码),
    newest first, that it lets you read."""
    actor = current_actor()
    require_bank(actor)
    code = _credit_code(credit_code)
    return {"credit_code": code,
            "items": feed.supplier_contracts(db.session(), actor, credit_code=code)}


def _credit_code(text: str) -> str:
    """The credit code in its compact form, or a 422 naming what is wrong with it."""
    try:
        return str(uscc.validate(text))
    except InvalidChecksum as exc:
        raise ValidationFailed(errors={"credit_code": [
            N_("The check character of this credit code is wrong.")]}) from exc
    except ValidationError as exc:
        raise ValidationFailed(errors={"credit_code": [
            N_("A unified social credit code has 18 digits and capital letters.")]}) from exc


@blueprint.route("/consents")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.response(200, ConsentSchema(many=True))
@blueprint.doc(responses=RATE_LIMITED)
def list_consents():
    """The suppliers' live consents to your bank (neither expired nor revoked), newest first:
    who, all its contracts or the chosen ones, until when."""
    actor = current_actor()
    require_bank(actor)
    session = db.session()
    moment = now()
    live = [c for c in consents_of(session, actor)
            if c.revoked_at is None and c.expires_at > moment]
    suppliers = {o.id: o for o in session.scalars(select(Organisation).where(
        Organisation.id.in_({c.supplier_id for c in live})))} if live else {}
    chosen = {o.order_id for c in live for o in c.orders}
    numbers = dict(session.execute(select(Contract.order_id, Contract.number).where(
        Contract.order_id.in_(chosen))).all()) if chosen else {}
    return [{"id": c.id, "scope": c.scope,
             "supplier": {"name": suppliers[c.supplier_id].name,
                          "credit_code": suppliers[c.supplier_id].credit_code},
             "contract_numbers": sorted(numbers[o.order_id] for o in c.orders
                                        if o.order_id in numbers),
             "granted_at": c.granted_at, "expires_at": c.expires_at} for c in live]


# -- loans ------------------------------------------------------------------------------------

LOAN_DOC = {"responses": {**RATE_LIMITED,
                          "404": {"description": "not_found: no such loan of your bank"},
                          "409": {"description": "loan_state_conflict (the step is not "
                                                 "allowed in the loan's state; detail says "
                                                 "why), payee_locked, wrong_state"}}}
# The services name a few fields as the pages do; the API names money and rates by unit.
_API_FIELDS = {"amount": "amount_fen", "rate": "rate_bp"}


@contextmanager
def _api_field_names() -> Iterator[None]:
    try:
        yield
    except ValidationFailed as exc:
        exc.errors = {_API_FIELDS.get(name, name): messages
                      for name, messages in (exc.errors or {}).items()}
        raise


def _loan_answers(found: list[Loan]) -> list[dict[str, Any]]:
    """The loans with their contract numbers and suppliers, in two queries."""
    session = db.session()
    numbers = dict(session.execute(select(Contract.order_id, Contract.number).where(
        Contract.order_id.in_({loan.order_id for loan in found}))).all()) if found else {}
    suppliers = {o.id: o for o in session.scalars(select(Organisation).where(
        Organisation.id.in_({loan.supplier_id for loan in found})))} if found else {}
    answers = []
    for loan in found:
        answer = {name: getattr(loan, name) for name in LoanSchema().fields
                  if name not in {"contract_number", "supplier", "events"}}
        supplier = suppliers[loan.supplier_id]
        answer.update(contract_number=numbers.get(loan.order_id),
                      supplier={"name": supplier.name, "credit_code": supplier.credit_code},
                      events=loan.events)
        answers.append(answer)
    return answers


@blueprint.route("/loans")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.response(200, LoanSchema(many=True))
@blueprint.doc(responses=RATE_LIMITED)
def list_loans():
    """Your bank's loans and applications, newest first, each with its steps."""
    return _loan_answers(loans.loans_of(db.session(), current_actor()))


@blueprint.route("/loans/<int:loan_id>")
@rate_limited
@access(Scope.FINANCING_READ, Role.BANK_USER)
@blueprint.response(200, LoanSchema)
@blueprint.doc(responses={**RATE_LIMITED, "404": {"description": "not_found"}})
def get_loan(loan_id: int):
    """One loan of your bank, with its steps."""
    actor = current_actor()
    require_bank(actor)
    return _loan_answers([loans.get_loan(db.session(), actor, loan_id)])[0]


@blueprint.route("/loans/<int:loan_id>/approve", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.arguments(LoanApproveSchema)
@blueprint.response(200, LoanSchema)
@blueprint.doc(**LOAN_DOC)
def approve_loan(data, loan_id: int):
    """Approve an application: at most the amount asked for, at a yearly rate within your
    product's range, for a term in days. The supplier is told."""
    with _api_field_names():
        loan = loans.approve(db.session(), current_actor(), loan_id, **data)
    return _loan_answers([loan])[0]


@blueprint.route("/loans/<int:loan_id>/reject", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.arguments(LoanRejectSchema)
@blueprint.response(200, LoanSchema)
@blueprint.doc(**LOAN_DOC)
def reject_loan(data, loan_id: int):
    """Turn down an application, or withdraw an approval not yet paid out, with the reason."""
    loan = loans.reject(db.session(), current_actor(), loan_id, reason=data["reason"])
    return _loan_answers([loan])[0]


@blueprint.route("/loans/<int:loan_id>/disburse", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@idempotent
@blueprint.arguments(LoanDisburseSchema)
@blueprint.response(200, LoanSchema)
@blueprint.doc(**LOAN_DOC)
def disburse_loan(data, loan_id: int):
    """Record the payout (at most the approved amount): the contract's payee account is locked
    to your repayment account (回款账户), published as a contract account change notice, and
    the purchaser pays into it until you release it. Send an Idempotency-Key."""
    with _api_field_names():
        loan = loans.disburse(db.session(), current_actor(), loan_id, **data)
    return _loan_answers([loan])[0]


@blueprint.route("/loans/<int:loan_id>/repay", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@idempotent
@blueprint.arguments(LoanRepaySchema)
@blueprint.response(200, LoanSchema)
@blueprint.doc(**LOAN_DOC)
def repay_loan(data, loan_id: int):
    """Record a repayment (at most what is outstanding). Once the whole payout is back the
    loan is repaid and the contract's payee account released to the supplier. Send an
    Idempotency-Key: a retried repayment is recorded once."""
    with _api_field_names():
        loan = loans.repay(db.session(), current_actor(), loan_id, **data)
    return _loan_answers([loan])[0]


@blueprint.route("/loans/<int:loan_id>/close", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.arguments(LoanCloseSchema)
@blueprint.response(200, LoanSchema)
@blueprint.doc(**LOAN_DOC)
def close_loan(data, loan_id: int):
    """Close a repaid loan, or file away a rejected application."""
    loan = loans.close(db.session(), current_actor(), loan_id, note=data["note"])
    return _loan_answers([loan])[0]


@blueprint.route("/loans/<int:loan_id>/release", methods=["POST"])
@rate_limited
@access(Scope.FINANCING_WRITE, Role.BANK_USER)
@blueprint.arguments(LoanReleaseSchema)
@blueprint.response(200, LoanSchema)
@blueprint.doc(**LOAN_DOC)
def release_loan_lock(data, loan_id: int):
    """Let the contract be paid to the supplier again before full repayment (your consent),
    with the reason; published as a contract account change."""
    loan = loans.release_lock_by_consent(db.session(), current_actor(), loan_id,
                                         reason=data["reason"])
    return _loan_answers([loan])[0]
