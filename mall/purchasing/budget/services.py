"""Budget lines and the purchase settings of regions and units (docs/domain.md: Purchase
modes and thresholds): the direct-purchase limit, the open-tender threshold, the settlement
threshold, the split window and a unit's approval amount. The running totals counted against
the limits are in mall.purchasing.budget.limits.

Every amount moves by one conditional UPDATE that also checks the rule, so two
checkouts racing for the last of a budget line cannot both pass.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from catalog.models import CATALOGUE_VERSION, Category
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role, require_same_organisation
from mall.core.db import rowcount
from mall.core.errors import FieldMessage, MallError, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import AMOUNT, POSITIVE_AMOUNT, format_fen, within
from mall.i18n_messages import N_
from mall.purchasing.budget.models import BudgetLine, PurchaseSettings, UnitSettings

DEFAULT_DIRECT_LIMIT_FEN = 100_000_000  # 100万元, 分散采购限额 (国办发〔2019〕55号)
DEFAULT_WARN_PCT = 80
# Above this amount only an open tender (公开招标) may buy, neither direct purchase nor a
# bidding round (PurchaseSettings.open_tender_fen, per region; provinces often set 400万).
DEFAULT_OPEN_TENDER_FEN = 200_000_000  # 200万元 (国办发〔2019〕55号)
# Up to this confirmed total an order without centrally procured items is settled by a
# settlement order (结算单). A mall setting (PurchaseSettings.settlement_max_fen, per region),
# not a legal figure: this value applies until the operator sets one.
DEFAULT_SETTLEMENT_MAX_FEN = 5_000_000  # 5万元
# Orders of a unit to one supplier or in one category within this many days count together
# against its approval amount (拆分采购; docs/domain.md, splitting). A mall setting
# (PurchaseSettings.split_window_days, per region); 0 counts each order alone.
DEFAULT_SPLIT_WINDOW_DAYS, MAX_SPLIT_WINDOW_DAYS = 7, 366
MIN_FISCAL_YEAR, MAX_FISCAL_YEAR = 2000, 2100  # a budget line's year, typed by a person


class BudgetExhausted(MallError):
    code = "budget_exhausted"
    status = 409
    title = "Not enough budget left on this line"


@dataclass(frozen=True)
class Limits:
    """What bounds a unit's purchases: its region's direct-purchase limit and warning share,
    the unit's own internal-approval amount (None: no approval needed) and its region's
    open-tender threshold."""

    direct_limit_fen: int
    warn_pct: int
    approval_above_fen: int | None = None
    open_tender_fen: int = DEFAULT_OPEN_TENDER_FEN

    @property
    def warn_at_fen(self) -> int:
        return self.direct_limit_fen * self.warn_pct // 100


class Unchanged(enum.Enum):
    """A setting left as it is (set_limits' open-tender threshold, when not given)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED
BELOW_OPEN_TENDER = N_("The direct-purchase limit must stay below the open-tender threshold "
                       "of %(threshold)s.")


def set_limits(session: Session, actor: Actor, *, region_code: str | None, direct_limit_fen: int,
               warn_pct: int = DEFAULT_WARN_PCT,
               open_tender_fen: int | None | Unchanged = UNCHANGED) -> PurchaseSettings:
    """The operator sets a region's limits (region None: the mall-wide default): the
    direct-purchase limit, its warning share and the open-tender threshold (None: the region
    above decides; not given: unchanged), which must stay above the direct-purchase limit."""
    actor.require_role(Role.OPERATOR)
    errors: dict[str, list[str]] = {}
    if not within(direct_limit_fen, POSITIVE_AMOUNT):
        errors["direct_limit_fen"] = [POSITIVE_AMOUNT.message]
    if type(warn_pct) is not int or not 1 <= warn_pct <= 100:
        errors["warn_pct"] = [N_("Enter a whole percentage from 1 to 100.")]
    if isinstance(open_tender_fen, int) and not within(open_tender_fen, POSITIVE_AMOUNT):
        errors["open_tender_fen"] = [POSITIVE_AMOUNT.message]
    if errors:
        raise ValidationFailed(errors=errors)
    row = _settings_row(session, region_code)
    threshold = (open_tender_fen if isinstance(open_tender_fen, int)
                 else row.open_tender_fen if open_tender_fen is UNCHANGED and row is not None
                 and row.open_tender_fen is not None
                 else _threshold_above(session, region_code))
    if direct_limit_fen >= threshold:
        field = "open_tender_fen" if isinstance(open_tender_fen, int) else "direct_limit_fen"
        raise ValidationFailed(errors={field: [FieldMessage(BELOW_OPEN_TENDER,
                                                            threshold=format_fen(threshold))]})
    if row is None:
        row = PurchaseSettings(region_code=region_code, direct_limit_fen=0)
        session.add(row)
    row.direct_limit_fen, row.warn_pct = direct_limit_fen, warn_pct
    if open_tender_fen is not UNCHANGED:
        row.open_tender_fen = open_tender_fen
    session.flush()
    record_event(session, action="purchase_limits.set", object_type="purchase_settings",
                 object_id=row.id, actor=actor,
                 data={"region_code": region_code, "direct_limit_fen": direct_limit_fen,
                       "open_tender_fen": row.open_tender_fen})
    return row


def _threshold_above(session: Session, region_code: str | None) -> int:
    """The open-tender threshold a region's row leaves to the rows above it: its province's
    (for a region that is not a province), else the mall default row's, else the default.
    Above the mall default row itself there is only the default."""
    if region_code is None:
        return DEFAULT_OPEN_TENDER_FEN
    above: list[str | None] = [None]
    if region_code is not None and not region_code.endswith("0000"):
        above.insert(0, region_code[:2] + "0000")
    for code in above:
        row = _settings_row(session, code)
        if row is not None and row.open_tender_fen is not None:
            return row.open_tender_fen
    return DEFAULT_OPEN_TENDER_FEN


def _settings_row(session: Session, region_code: str | None) -> PurchaseSettings | None:
    """A region's own settings row (None: the mall default row), if it has one."""
    return session.scalar(select(PurchaseSettings).where(
        PurchaseSettings.region_code.is_(None) if region_code is None
        else PurchaseSettings.region_code == region_code))


def _applies_to(region):
    """The settings rows that apply to a unit in ``region``: its own region's, its province's
    (the code's first two digits + 0000) and the mall default row."""
    return or_(PurchaseSettings.region_code == region,
               PurchaseSettings.region_code == func.substr(region, 1, 2).concat("0000"),
               PurchaseSettings.region_code.is_(None))


def _closest(rows):
    """Of rows (unit's region, row's region, ...), the most specific: own, province, default."""
    return min(rows, key=lambda r: 0 if r[1] == r[0] else 2 if r[1] is None else 1)


def unit_limits(session: Session, organisation_id: int) -> Limits:
    """The limits of the unit's region (its own row, else its province's, else the mall
    default row, else the default of docs/domain.md) and the unit's approval amount; one query."""
    region = Organisation.region_code
    rows = session.execute(
        select(region, PurchaseSettings.region_code, PurchaseSettings.direct_limit_fen,
               PurchaseSettings.warn_pct, UnitSettings.approval_above_fen,
               PurchaseSettings.open_tender_fen)
        .select_from(Organisation)
        .outerjoin(PurchaseSettings, _applies_to(region))
        .outerjoin(UnitSettings, UnitSettings.organisation_id == Organisation.id)
        .where(Organisation.id == organisation_id)).all()
    approval = rows[0].approval_above_fen if rows else None
    thresholds = [r for r in rows if r.open_tender_fen is not None]
    open_tender = (_closest(thresholds).open_tender_fen if thresholds
                   else DEFAULT_OPEN_TENDER_FEN)
    found = [r for r in rows if r.direct_limit_fen is not None]
    if not found:
        return Limits(DEFAULT_DIRECT_LIMIT_FEN, DEFAULT_WARN_PCT, approval, open_tender)
    best = _closest(found)
    return Limits(best.direct_limit_fen, best.warn_pct, approval, open_tender)


def _inherited(session: Session, organisation_id: int, column, default: int) -> int:
    """A setting a region may leave to the one above: the unit's own region row, else its
    province's, else the mall default row, else ``default``."""
    region = Organisation.region_code
    rows = session.execute(
        select(region, PurchaseSettings.region_code, column.label("value"))
        .select_from(Organisation)
        .join(PurchaseSettings, _applies_to(region))
        .where(Organisation.id == organisation_id, column.is_not(None))).all()
    return _closest(rows).value if rows else default


def _set_inherited(session: Session, actor: Actor, *, region_code: str | None, field: str,
                   value: int | None, action: str) -> PurchaseSettings:
    """Write one inheritable setting on a region's row (None: the mall default row, created
    at the default limits if missing); a region must have its limits set first."""
    row = _settings_row(session, region_code)
    if row is None and region_code is not None:
        # A new region row would also pin the region's direct-purchase limit.
        raise ValidationFailed(errors={"region_code": [N_("Set the region's purchase limits first.")]})
    if row is None:  # the mall default row, at the limits that apply without one
        row = PurchaseSettings(region_code=None, direct_limit_fen=DEFAULT_DIRECT_LIMIT_FEN,
                               warn_pct=DEFAULT_WARN_PCT)
        session.add(row)
    setattr(row, field, value)
    session.flush()
    record_event(session, action=action, object_type="purchase_settings", object_id=row.id,
                 actor=actor, data={"region_code": region_code, field: value})
    return row


def settlement_threshold(session: Session, organisation_id: int) -> int:
    """The settlement-order threshold of a unit's region (inherited; DEFAULT_SETTLEMENT_MAX_FEN)."""
    return _inherited(session, organisation_id, PurchaseSettings.settlement_max_fen,
                      DEFAULT_SETTLEMENT_MAX_FEN)


def set_settlement_threshold(session: Session, actor: Actor, *, region_code: str | None,
                             amount_fen: int | None) -> PurchaseSettings:
    """The operator sets a region's settlement-order threshold (region None: the mall default;
    amount None: the region above decides; 0: every order is signed as a contract)."""
    actor.require_role(Role.OPERATOR)
    if amount_fen is not None and not within(amount_fen, AMOUNT):
        raise ValidationFailed(errors={"settlement_max_fen": [AMOUNT.message]})
    return _set_inherited(session, actor, region_code=region_code, field="settlement_max_fen",
                          value=amount_fen, action="purchase_settlement.set")


def split_window_days(session: Session, organisation_id: int) -> int:
    """The approval window of a unit's region (inherited; DEFAULT_SPLIT_WINDOW_DAYS)."""
    return _inherited(session, organisation_id, PurchaseSettings.split_window_days,
                      DEFAULT_SPLIT_WINDOW_DAYS)


def set_split_window(session: Session, actor: Actor, *, region_code: str | None,
                     days: int | None) -> PurchaseSettings:
    """The operator sets over how many days a unit's orders to one supplier or in one
    category count together against its approval amount (region None: the mall default;
    days None: the region above decides; 0: each order alone)."""
    actor.require_role(Role.OPERATOR)
    if days is not None and (type(days) is not int or not 0 <= days <= MAX_SPLIT_WINDOW_DAYS):
        raise ValidationFailed(errors={"split_window_days": [
            N_("Enter a whole number of days from 0 to 366.")]})
    return _set_inherited(session, actor, region_code=region_code, field="split_window_days",
                          value=days, action="purchase_split_window.set")


def region_settings(session: Session) -> list[PurchaseSettings]:
    """Every settings row: the mall default first, then the regions by code."""
    return list(session.scalars(select(PurchaseSettings).order_by(
        PurchaseSettings.region_code.is_not(None), PurchaseSettings.region_code)))


# -- budget lines -----------------------------------------------------------------------------

def create_budget_line(session: Session, actor: Actor, *, fiscal_year: int, project_code: str,
                       project_name: str, category_code: str, amount_fen: int) -> BudgetLine:
    """A unit's finance or approver enters a purchase plan line."""
    actor.require_role(Role.FINANCE, Role.APPROVER)
    errors: dict[str, list[str]] = {}
    if not within(amount_fen, POSITIVE_AMOUNT):
        errors["amount_fen"] = [POSITIVE_AMOUNT.message]
    if type(fiscal_year) is not int or not MIN_FISCAL_YEAR <= fiscal_year <= MAX_FISCAL_YEAR:
        errors["fiscal_year"] = [N_("Enter a year from 2000 to 2100.")]
    if not project_code.strip():
        errors["project_code"] = ["Enter the budget project code."]
    if not _known_category(session, category_code):
        errors["category_code"] = [UNKNOWN_CATEGORY]
    check_text("project_code", project_code, errors=errors)
    check_text("project_name", project_name, errors=errors)
    if errors:
        raise ValidationFailed(errors=errors)
    line = BudgetLine(organisation_id=actor.organisation_id, fiscal_year=fiscal_year,
                      project_code=project_code.strip(), project_name=project_name.strip(),
                      category_code=category_code, amount_fen=amount_fen)
    session.add(line)
    session.flush()
    record_event(session, action="budget_line.created", object_type="budget_line",
                 object_id=line.id, actor=actor,
                 data={"amount_fen": amount_fen, "category_code": category_code})
    return line


UNKNOWN_CATEGORY = N_("Enter a code of the procurement catalogue, such as A02010105 (or A00000000 "
                      "for all goods).")
# The catalogue's sections (goods, works, services): a line for one pays for anything in it.
SECTION_CODES = frozenset({"A00000000", "B00000000", "C00000000"})
CATEGORY_CODE = re.compile(r"[ABC]\d{8}")


def _known_category(session: Session, code: str) -> bool:
    """A code of the catalogue in force, or a whole section."""
    if not isinstance(code, str) or not CATEGORY_CODE.fullmatch(code):
        return False
    return code in SECTION_CODES or session.scalar(
        select(Category.id).where(Category.version == CATALOGUE_VERSION, Category.code == code)
    ) is not None


def budget_lines(session: Session, actor: Actor, *, fiscal_year: int | None = None) -> list[BudgetLine]:
    if actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        return []
    query = select(BudgetLine).where(BudgetLine.organisation_id == actor.organisation_id)
    if fiscal_year is not None:
        query = query.where(BudgetLine.fiscal_year == fiscal_year)
    return list(session.scalars(query.order_by(BudgetLine.fiscal_year.desc(), BudgetLine.id)))


def get_budget_line(session: Session, actor: Actor, line_id: int) -> BudgetLine:
    line = session.get(BudgetLine, line_id)
    if line is None:
        raise NotFound()
    require_same_organisation(actor, line.organisation_id)
    return line


def code_prefix(code: str) -> str:
    """What every code under a catalogue code starts with: A02010000 → A0201, A02100000 →
    A0210 (levels are pairs of digits, so only whole "00" pairs are dropped)."""
    while len(code) > 1 and code.endswith("00"):
        code = code[:-2]
    return code


def covers(line: BudgetLine, category_code: str) -> bool:
    """A line for A02010000 pays for anything under it (A02010105 …), not for A02110000."""
    return category_code.startswith(code_prefix(line.category_code))


def reserve(session: Session, line_id: int, amount_fen: int) -> None:
    """Hold an order's amount on its line, refusing if the line has not that much left."""
    lines = BudgetLine.__table__  # a plain UPDATE: the loaded line is refreshed when needed
    available = lines.c.amount_fen - lines.c.reserved_fen - lines.c.committed_fen - lines.c.spent_fen
    result = session.execute(update(lines).where(lines.c.id == line_id, available >= amount_fen)
                             .values(reserved_fen=lines.c.reserved_fen + amount_fen))
    if rowcount(result) != 1:
        line = session.get_one(BudgetLine, line_id)
        session.refresh(line)
        raise BudgetExhausted(
            N_("Budget line %(project)s has %(left)s left; this order needs %(needed)s."),
            errors={"budget_line_id": ["Not enough budget left on this line."]},
            params={"project": line.project_code, "left": format_fen(line.available_fen),
                    "needed": format_fen(amount_fen)})


_MOVES = {("reserved", "committed"), ("committed", "spent"), ("reserved", "spent")}
_COLUMNS = {"reserved": "reserved_fen", "committed": "committed_fen", "spent": "spent_fen"}


def move(session: Session, line_id: int, amount_fen: int, source: str, target: str) -> None:
    """Move an amount between the states of a line (or out of it: target "released")."""
    if target != "released" and (source, target) not in _MOVES:
        raise ValueError(f"budget cannot move from {source} to {target}")
    values = {_COLUMNS[source]: getattr(BudgetLine, _COLUMNS[source]) - amount_fen}
    if target != "released":
        values[_COLUMNS[target]] = getattr(BudgetLine, _COLUMNS[target]) + amount_fen
    session.execute(update(BudgetLine).where(BudgetLine.id == line_id).values(**values)
                    .execution_options(synchronize_session=False))


def totals(session: Session, organisation_id: int) -> dict[str, int]:
    """The unit's sums over all lines, for its dashboard."""
    row = session.execute(select(
        func.coalesce(func.sum(BudgetLine.amount_fen), 0),
        func.coalesce(func.sum(BudgetLine.reserved_fen), 0),
        func.coalesce(func.sum(BudgetLine.committed_fen), 0),
        func.coalesce(func.sum(BudgetLine.spent_fen), 0),
    ).where(BudgetLine.organisation_id == organisation_id)).one()
    # SUM over BIGINT is NUMERIC on PostgreSQL: back to integer fen.
    return {name: int(value) for name, value in zip(("amount", "reserved", "committed", "spent"),
                                                    row, strict=True)}
