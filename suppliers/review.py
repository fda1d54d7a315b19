"""Automatic listing checks (上架审核): what sends an offer to the operator's review queue."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_RATIO_PCT = 130

# Stable reason codes, shown to suppliers and operators in their language.
MISSING_ATTRIBUTES = "missing_attributes"
ABOVE_REFERENCE = "above_reference_price"
ABOVE_FRAMEWORK_CAP = "above_framework_cap"
ABOVE_MARKET_AVERAGE = "above_market_average"
DUPLICATE_LISTING = "duplicate_listing"
MANUAL_REVIEW = "manual_review"
NO_REFERENCE = "no_reference_price"
# Given by migration 0009 to offers stored at a price of zero or less (issue 10): their last
# price above zero is back, and an operator decides whether they go on sale again.
INVALID_PRICE = "invalid_price"


@dataclass(frozen=True)
class ListingFacts:
    """Everything the checks need about one offer, gathered in bulk by the caller."""

    price_fen: int
    reference_price_fen: int | None
    attributes: dict
    required_attributes: list[str]
    framework_cap_fen: int | None
    others_average_fen: int | None
    duplicate_of_sku: str | None
    max_ratio_pct: int


def check_listing(facts: ListingFacts) -> list[str]:
    """The reasons an offer may not be listed automatically (empty = it may)."""
    reasons: list[str] = []
    missing = [a for a in facts.required_attributes if not str(facts.attributes.get(a, "")).strip()]
    if missing:
        reasons.append(MISSING_ATTRIBUTES)
    if facts.reference_price_fen is None:
        reasons.append(NO_REFERENCE)
    elif facts.price_fen > facts.reference_price_fen:
        reasons.append(ABOVE_REFERENCE)
    if facts.framework_cap_fen is not None and facts.price_fen > facts.framework_cap_fen:
        reasons.append(ABOVE_FRAMEWORK_CAP)
    if (facts.others_average_fen is not None
            and facts.price_fen * 100 > facts.others_average_fen * facts.max_ratio_pct):
        reasons.append(ABOVE_MARKET_AVERAGE)
    if facts.duplicate_of_sku is not None:
        reasons.append(DUPLICATE_LISTING)
    return reasons
