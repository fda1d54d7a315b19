"""The statistics as an XLSX workbook: the filters, the headline figures and each chart's
table, in the reader's language (the page's own words), amounts in yuan."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from openpyxl import Workbook

from mall.core.spreadsheet import safe_cell
from supervision.statistics.services import Figures

Translate = Callable[..., str]


def _yuan(fen: int) -> float:
    """Fen as yuan for a spreadsheet cell (a number the reader can sum; 2 decimals)."""
    return round(fen / 100, 2)


def workbook(figures: Figures, _: Translate, headline: list[tuple[str, Any]],
             filters: list[tuple[str, str]], mode_name: Callable[[str], str]) -> bytes:
    """The workbook of ``figures``: the sheet of figures, then one sheet per table."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Figures")
    sheet.append([_("Statistics of the mall's purchases")])
    for label, value in filters:
        sheet.append([safe_cell(label), safe_cell(value)])
    sheet.append([])
    for label, value in headline:
        sheet.append([safe_cell(label), safe_cell(value)])
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 24

    trend = book.create_sheet(_("By month"))
    trend.append([_("Month"), _("Deals"), _("Amount (yuan)"), _("Budget (yuan)"),
                  _("Savings rate") + " (%)"])
    for p in figures.trend:
        trend.append([p.month, p.deals, _yuan(p.amount_fen), _yuan(p.budget_fen),
                      p.savings_rate_pct])
    modes = book.create_sheet(_("By purchase mode"))
    modes.append([_("Purchase mode"), _("Deals"), _("Amount (yuan)"), _("Budget (yuan)"),
                  _("Savings rate") + " (%)"])
    for m in figures.by_mode:
        modes.append([mode_name(m.mode), m.deals, _yuan(m.amount_fen), _yuan(m.budget_fen),
                      m.savings_rate_pct])
    categories = book.create_sheet(_("Top categories"))
    categories.append([_("Category code"), _("Category"), _("Deals"), _("Amount (yuan)"),
                       _("Savings rate") + " (%)"])
    for c in figures.top_categories:
        categories.append([c.code, safe_cell(c.name), c.deals, _yuan(c.amount_fen),
                           c.savings_rate_pct])
    suppliers = book.create_sheet(_("Top suppliers"))
    suppliers.append([_("Supplier"), _("SME"), _("Deals"), _("Amount (yuan)")])
    for s in figures.top_suppliers:
        suppliers.append([safe_cell(s.name), _("Yes") if s.sme else _("No"), s.deals,
                          _yuan(s.amount_fen)])
    out = BytesIO()
    book.save(out)
    return out.getvalue()
