"""The contract document (政府采购合同) of a direct-purchase order, or its settlement order (结算单)
when no contract is signed: HTML, PDF and the fingerprint a signature (or the audit trail) records.

Plain data in, text out: no database access here. The order service builds a
``ContractDocument`` from its models; this module renders it the same way with or without a
Flask app, so the fingerprint of a stored contract can be recomputed anywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jinja2

from mall.config import PROJECT_ROOT
from mall.core.clock import format_local
from mall.core.money import fen_to_capital, format_fen

TEMPLATE = "purchasing/contract.html"
SME_SIZE_NAMES = {"medium": "中型企业", "small": "小型企业", "micro": "微型企业"}


@dataclass(frozen=True)
class ContractParty:
    """One side of the contract: the buyer (甲方) or the supplier (乙方)."""

    name: str
    credit_code: str
    address: str = ""
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ContractItem:
    """One line of the contract: a catalogue item at the agreed unit price."""

    title: str
    category_code: str
    category_name: str
    brand: str
    model: str
    unit: str
    quantity: int
    unit_price_fen: int

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {self.quantity!r}")
        if (isinstance(self.unit_price_fen, bool) or not isinstance(self.unit_price_fen, int)
                or self.unit_price_fen < 0):
            raise ValueError(f"unit price must be non-negative integer fen, got {self.unit_price_fen!r}")

    @property
    def amount_fen(self) -> int:
        """The line amount in fen."""
        return self.quantity * self.unit_price_fen


@dataclass(frozen=True)
class PayeeAccount:
    """The supplier's receiving account; locked when a 政采贷 bank holds the receivable."""

    bank: str
    account_name: str
    account_number: str
    locked_for_financing: bool = False
    lender_org_id: int | None = None  # the lender that locked it (mall.purchasing.contracts.payee)

    @property
    def bank_name(self) -> str:
        return self.bank

    @property
    def locked(self) -> bool:
        return self.locked_for_financing


@dataclass(frozen=True)
class ContractDocument:
    """Everything the contract shows, frozen so the same document always renders the same text."""

    number: str
    order_number: str
    buyer: ContractParty
    supplier: ContractParty
    items: tuple[ContractItem, ...]
    delivery_address: str
    delivery_days: int
    payment_terms: str
    payee: PayeeAccount
    supplier_is_sme: bool
    sme_size: str | None
    secret: bool
    budget_project: str
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        if not self.items:
            raise ValueError("a contract needs at least one item")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be an aware datetime")
        if self.delivery_days <= 0:
            raise ValueError("delivery_days must be positive")
        # An SME contract is marked with the size declared in the supplier's SME
        # declaration; a size on a non-SME contract would be a contradiction, not a default.
        if self.supplier_is_sme and self.sme_size not in SME_SIZE_NAMES:
            raise ValueError(f"an SME supplier needs a size in {sorted(SME_SIZE_NAMES)}, "
                             f"got {self.sme_size!r}")
        if not self.supplier_is_sme and self.sme_size is not None:
            raise ValueError("sme_size is only given for an SME supplier")

    @property
    def total_fen(self) -> int:
        """The contract sum in fen."""
        return sum(item.amount_fen for item in self.items)


@cache
def _environment() -> jinja2.Environment:
    # Not Flask's environment: the contract must render identically inside and outside a
    # request, so it gets its own loader and only the filters it needs (named as the app's).
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fen"] = format_fen
    env.filters["capital"] = fen_to_capital
    env.filters["local_time"] = format_local
    return env


def render_html(doc: ContractDocument) -> str:
    """The contract as a standalone printable HTML page, deterministic for a given document."""
    return _render(doc, settlement=False)


def render_settlement_html(doc: ContractDocument) -> str:
    """The same terms as a settlement order (结算单): titled so, with no signature blocks."""
    return _render(doc, settlement=True)


def _render(doc: ContractDocument, *, settlement: bool) -> str:
    sme_label = (SME_SIZE_NAMES[doc.sme_size]
                 if doc.supplier_is_sme and doc.sme_size is not None else None)
    return _environment().get_template(TEMPLATE).render(doc=doc, sme_label=sme_label,
                                                        settlement=settlement)


def render_pdf(html: str) -> bytes:
    """Print rendered contract HTML to an A4 PDF with the Noto CJK fonts."""
    # Imported here: WeasyPrint takes about a second to load and only the PDF needs it.
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


def fingerprint(html: str) -> str:
    """SHA-256 hex digest of the rendered HTML: what a signature over the contract records."""
    return hashlib.sha256(html.encode("utf-8")).hexdigest()
