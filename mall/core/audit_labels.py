"""Audit trail events and object kinds in words, for the audit viewer and its filter.

Every action any service passes to ``record_event`` has a label here (English message ids,
translated when shown); tests/admin/test_audit_search.py walks the code's ``record_event``
calls and fails on an action without one. An action recorded before a label existed reads
as its family ("Order: …") with the action itself, never as a bare code alone.
"""

from __future__ import annotations

from mall.i18n_messages import N_

ACTION_LABELS: dict[str, str] = {
    # people and organisations
    "login.succeeded": N_("Logged in"),
    "login.failed": N_("Login failed"),
    "user.created": N_("User created"),
    "user.roles_changed": N_("User's roles changed"),
    "organisation.created": N_("Organisation registered"),
    "api_token.issued": N_("API token issued"),
    "api_token.revoked": N_("API token revoked"),
    # catalogue and search
    "category.enabled": N_("Categories opened for sale"),
    "category.disabled": N_("Categories closed for sale"),
    "category.centrally_procured": N_("Categories marked centrally procured"),
    "category.not_centrally_procured": N_("Categories no longer centrally procured"),
    "search.synonyms_added": N_("Search synonyms added"),
    "search.synonyms_removed": N_("Search synonyms removed"),
    # suppliers: admission, offers, frameworks
    "admission.applied": N_("Admission applied for"),
    "admission.submitted": N_("Admission application resubmitted"),
    "admission.more_info": N_("More information asked of an applicant"),
    "admission.approved": N_("Admission approved"),
    "admission.rejected": N_("Admission rejected"),
    "admission.suspended": N_("Admission suspended"),
    "admission.ended": N_("Admission ended"),
    "admission.reinstated": N_("Admission reinstated"),
    "offers.import_queued": N_("Offer import queued"),
    "offer.held": N_("Offer held for review"),
    "offer.approve": N_("Offer approved"),
    "offer.reject": N_("Offer rejected"),
    "offer.freeze": N_("Offer frozen"),
    "offer.delist": N_("Offer taken off sale"),
    "offer.reinstate": N_("Offer reinstated"),
    "framework.created": N_("Framework agreement created"),
    "framework.cap_set": N_("Framework ceiling price set"),
    # purchasing settings and budgets
    "purchase_limits.set": N_("Purchase limits set"),
    "purchase_settlement.set": N_("Settlement-order threshold set"),
    "purchase_split_window.set": N_("Split-purchase window set"),
    "unit_settings.approval": N_("Unit's approval amount set"),
    "budget_line.created": N_("Budget line entered"),
    # orders (each status an order moves to) and returns
    "order.submitted": N_("Order submitted"),
    "order.pending_approval": N_("Order waiting for internal approval"),
    "order.sent": N_("Order sent to the supplier"),
    "order.confirmed": N_("Order confirmed by the supplier"),
    "order.supplier_signed": N_("Contract signed by the supplier"),
    "order.signed": N_("Contract signed"),
    "order.shipped": N_("Order shipped"),
    "order.delivered": N_("Order delivered"),
    "order.accepted": N_("Order accepted"),
    "order.invoiced": N_("Order invoiced"),
    "order.invoice_recorded": N_("Invoice recorded"),
    "order.paid": N_("Order paid"),
    "order.rated": N_("Order rated"),
    "order.cancelled": N_("Order cancelled"),
    "order.returned": N_("Order returned"),
    "order.return_requested": N_("Return of goods requested"),
    "order.return_agreed": N_("Return agreed by the supplier"),
    "order.return_refused": N_("Return refused by the supplier"),
    "order.return_disputed": N_("Return taken to the operator"),
    "order.return_dispute_agreed": N_("Operator decided: the goods go back"),
    "order.return_dispute_rejected": N_("Operator decided: the goods stay"),
    "order.return_shipped": N_("Returned goods sent back"),
    "order.return_received": N_("Returned goods received"),
    "order.return_refund_pending": N_("Card refund of a return sent"),
    "order.return_refund_failed": N_("Card refund of a return failed"),
    "order.return_refunded": N_("Return refunded"),
    "order.return_completed": N_("Return completed"),
    # payments and contracts
    "payment.card_started": N_("Card payment started"),
    "payment.card_declined": N_("Card declined"),
    "payment.succeeded": N_("Payment succeeded"),
    "payment.failed": N_("Payment failed"),
    "payment.canceled": N_("Payment cancelled"),
    "payment.processing": N_("Payment processing"),
    "payment.requires_action": N_("Payment waiting for the card holder's check"),
    "payment.unexpected": N_("Unexpected payment received"),
    "contract.payee_locked": N_("Payee account locked to a lender"),
    "contract.payee_released": N_("Payee account released by the lender"),
    # bidding rounds
    "round.published": N_("Bidding round published"),
    "round.closed": N_("Bidding round closed"),
    "round.failed": N_("Bidding round failed"),
    "round.cancelled": N_("Bidding round cancelled"),
    "round.award_pending": N_("Award offered to a supplier"),
    "round.award_confirmed": N_("Award confirmed"),
    "round.award_declined": N_("Award declined"),
    "round.award_lapsed": N_("Award lapsed unanswered"),
    "round.award_unresponsive": N_("Winner declared unresponsive"),
    "round.award_struck": N_("Award struck"),
    "round.challenge_filed": N_("Challenge filed"),
    "round.challenge_upheld": N_("Challenge upheld"),
    "round.challenge_dismissed": N_("Challenge dismissed"),
    "round.challenge_period_reminded": N_("Challenge period reminder sent"),
    "round.complaint_filed": N_("Complaint filed"),
    "round.complaint_upheld": N_("Complaint upheld"),
    "round.complaint_dismissed": N_("Complaint dismissed"),
    "round.complaint_suspended": N_("Award suspended by a complaint"),
    "round.complaint_overdue": N_("Complaint decision overdue"),
    "round_settings.saved": N_("Bidding settings saved"),
    # financing
    "consent.granted": N_("Financing consent granted"),
    "consent.revoked": N_("Financing consent revoked"),
    "finance_product.created": N_("Financing product created"),
    "finance_product.updated": N_("Financing product changed"),
    "finance_product.deactivated": N_("Financing product withdrawn"),
    "loan.applied": N_("Loan applied for"),
    "loan.approved": N_("Loan approved"),
    "loan.rejected": N_("Loan not granted"),
    "loan.disbursed": N_("Loan paid out"),
    "loan.repayment": N_("Loan repayment recorded"),
    "loan.repaid": N_("Loan repaid"),
    "loan.closed": N_("Loan closed"),
    "loan.released": N_("Payee lock released before repayment"),
    "webhook_endpoint.added": N_("Webhook endpoint added"),
    "webhook_endpoint.deactivated": N_("Webhook endpoint switched off"),
    "webhook_endpoint.secret_rotated": N_("Webhook secret changed"),
    "webhook_delivery.replayed": N_("Webhook delivery sent again"),
    # supervision
    "price_settings.saved": N_("Price monitoring settings saved"),
    "price_inspection.run": N_("Price inspection run"),
    "price_case.open": N_("Price case opened"),
    "price_case.frozen": N_("Price case: offer frozen"),
    "price_case.dismissed": N_("Price case dismissed"),
    "price_case.resolved": N_("Price case resolved"),
    "splitting_alert.raised": N_("Anti-splitting alert raised"),
    "splitting_alert.acknowledged": N_("Anti-splitting alert acknowledged"),
    "splitting_alert.escalated": N_("Anti-splitting alert escalated"),
    "splitting_settings.saved": N_("Anti-splitting warning share saved"),
    "sanction.warning": N_("Supplier warned"),
    "sanction.points": N_("Points deducted from a supplier"),
    "sanction.suspension": N_("Supplier suspended in categories"),
    "sanction.expulsion": N_("Supplier expelled"),
    "sanction.bad_conduct": N_("Supplier put on the bad-conduct list"),
    "sanction.suspension_proposed": N_("Suspension proposed to the supervisor"),
    "sanction.revoked": N_("Sanction revoked"),
    # acceptance experts
    "expert.added": N_("Expert added to the pool"),
    "expert.activated": N_("Expert activated"),
    "expert.deactivated": N_("Expert deactivated"),
    "expert.tie_added": N_("Expert's tie to a party recorded"),
    "expert_settings.updated": N_("Expert acceptance settings changed"),
    "expert_acceptance.requested": N_("Expert acceptance requested"),
    "expert_draw.drawn": N_("Acceptance experts drawn"),
    "expert_draw.concluded": N_("Expert acceptance concluded"),
    "expert_review.signed": N_("Expert's acceptance review signed"),
}

FAMILY_LABELS: dict[str, str] = {
    "login": N_("Login"), "user": N_("User"), "organisation": N_("Organisation"),
    "api_token": N_("API token"), "category": N_("Category"), "search": N_("Search"),
    "admission": N_("Admission"), "offers": N_("Offers"), "offer": N_("Offer"),
    "framework": N_("Framework agreement"), "purchase_limits": N_("Purchase limits"),
    "purchase_settlement": N_("Settlement-order threshold"),
    "purchase_split_window": N_("Split-purchase window"), "unit_settings": N_("Unit settings"),
    "budget_line": N_("Budget line"), "order": N_("Order"), "payment": N_("Payment"),
    "contract": N_("Contract"), "round": N_("Bidding round"),
    "round_settings": N_("Bidding settings"), "consent": N_("Financing consent"),
    "finance_product": N_("Financing product"), "loan": N_("Loan"),
    "webhook_endpoint": N_("Webhook endpoint"), "webhook_delivery": N_("Webhook delivery"),
    "price_settings": N_("Price monitoring settings"), "price_inspection": N_("Price inspection"),
    "price_case": N_("Price case"), "splitting_alert": N_("Anti-splitting alert"),
    "splitting_settings": N_("Anti-splitting settings"), "sanction": N_("Sanction"),
    "expert": N_("Expert"), "expert_settings": N_("Expert settings"),
    "expert_acceptance": N_("Expert acceptance"), "expert_draw": N_("Expert draw"),
    "expert_review": N_("Expert review"),
}

OBJECT_LABELS: dict[str, str] = {
    "admission_application": N_("Admission application"), "api_token": N_("API token"),
    "bidding_round": N_("Bidding round"), "budget_line": N_("Budget line"),
    "category": N_("Categories"), "category_admission": N_("Category admission"),
    "expert": N_("Expert"), "expert_settings": N_("Expert settings"),
    "finance_consent": N_("Financing consent"), "finance_loan": N_("Loan"),
    "finance_product": N_("Financing product"),
    "finance_webhook_delivery": N_("Webhook delivery"),
    "finance_webhook_endpoint": N_("Webhook endpoint"),
    "framework_agreement": N_("Framework agreement"), "import_job": N_("Offer import"),
    "login": N_("Login"), "offer": N_("Offer"), "order": N_("Order"),
    "organisation": N_("Organisation"), "price_case": N_("Price case"),
    "price_inspection": N_("Price inspection"), "price_settings": N_("Price monitoring settings"),
    "purchase_settings": N_("Purchase settings"), "round_settings": N_("Bidding settings"),
    "splitting_alert": N_("Anti-splitting alert"),
    "splitting_settings": N_("Anti-splitting settings"),
    "supplier_sanction": N_("Sanction"), "synonym_group": N_("Synonym group"),
    "user": N_("User"), "expert_draw": N_("Expert draw"),
    "expert_acceptance": N_("Expert acceptance"), "expert_review": N_("Expert review"),
}


def action_label(action: str) -> tuple[str, str | None]:
    """The message id of an action's label, and the raw action when only its family is known
    (shown beside the family's name); an unknown family gives the action itself."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action], None
    family = action.split(".", 1)[0]
    return FAMILY_LABELS.get(family, N_("Other event")), action


def object_label(object_type: str) -> str:
    """The message id of an object kind's name (an unknown kind: itself)."""
    return OBJECT_LABELS.get(object_type, object_type)
