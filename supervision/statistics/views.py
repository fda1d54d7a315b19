"""Pages of the statistics (/supervision/statistics): the filter form, the headline figures,
four charts each with its table, and the same figures as an XLSX workbook.

The filters travel in the query string (a GET form), so a filtered page can be bookmarked and
its export link carries the same filters. Bad filters render the form again with the message
next to each field and what was typed kept (422)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.auth import OVERSIGHT_STAFF, OrganisationKind
from mall.core.errors import ValidationFailed, translate_field_message
from mall.extensions import db
from mall.web import current_actor, page
from supervision.pages import blueprint
from supervision.statistics import services
from supervision.statistics.export import workbook
from supervision.statistics.schemas import MODES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILTER_NAMES = ("from_month", "to_month", "quarter", "region", "unit_id", "category",
                "supplier_id", "mode")


def mode_name(mode: str) -> str:
    """A purchase mode in words."""
    return {"direct": _("Direct purchase"), "quick": _("Quick bidding"),
            "framework": _("Framework bidding")}.get(mode, mode)


def headline(figures: services.Figures) -> list[tuple[str, str, Any, str]]:
    """The headline figures: (id, label, value, kind: count, fen, pct or days)."""
    t = figures.totals
    rows: list[tuple[str, str, Any, str]] = [
        ("deals", _("Deals"), t.deals, "count"),
        ("amount", _("Deal amount"), t.amount_fen, "fen"),
        ("budget", _("Budget"), t.budget_fen, "fen"),
        ("savings", _("Savings"), t.savings_fen, "fen"),
        ("savings-rate", _("Savings rate"), t.savings_rate_pct, "pct"),
        ("sme-count", _("SME share by count"), t.sme_share_count_pct, "pct"),
        ("sme-amount", _("SME share by amount"), t.sme_share_amount_pct, "pct"),
        ("local-count", _("Local suppliers by count"), t.local_share_count_pct, "pct"),
        ("local-amount", _("Local suppliers by amount"), t.local_share_amount_pct, "pct"),
        ("delivery-days", _("Days from order to delivery (average)"), t.avg_delivery_days,
         "days"),
        ("payment-days", _("Days from order to payment (average)"), t.avg_payment_days, "days"),
        ("overdue", _("Payments overdue"), t.overdue, "count"),
    ]
    r = figures.rounds
    if r is not None:
        rows += [
            ("rounds", _("Bidding rounds ended"), r.rounds, "count"),
            ("failure-rate", _("Round failure rate"), r.failure_rate_pct, "pct"),
            ("avg-quotes", _("Quotes per round (average)"), r.avg_quotes, "number"),
            ("challenge-rate", _("Challenges per 100 rounds"), r.challenge_rate_pct, "number"),
            ("complaint-rate", _("Complaints per 100 rounds"), r.complaint_rate_pct, "number"),
        ]
    return rows


def _options(items: list[tuple[Any, str]], selected: str | None) -> Markup:
    """The <option>s of a select, built here: a template loop over hundreds of categories
    cost more CPU than the whole statistics query."""
    return Markup("".join(
        f'<option value="{escape(value)}"{" selected" if str(value) == selected else ""}>'
        f"{escape(label)}</option>" for value, label in items))


def _choices(form: dict[str, str] | None = None) -> dict[str, Any]:
    session = db.session()
    orgs = session.execute(select(Organisation.id, Organisation.name, Organisation.kind,
                                  Organisation.region_code, Organisation.region_name)
                           .where(Organisation.kind.in_((OrganisationKind.PURCHASING_UNIT,
                                                         OrganisationKind.SUPPLIER)))
                           .order_by(Organisation.name)).all()
    categories = session.execute(select(Category.code, Category.name, Category.level)
                                 .where(Category.level <= 2).distinct()
                                 .order_by(Category.code)).all()
    units = [o for o in orgs if o.kind is OrganisationKind.PURCHASING_UNIT]
    suppliers = [o for o in orgs if o.kind is OrganisationKind.SUPPLIER]
    regions = sorted({(o.region_code, o.region_name or "") for o in units if o.region_code})
    form = form or {}
    return {"units": units, "suppliers": suppliers, "categories": categories,
            "regions": regions, "modes": MODES,
            "unit_options": _options([(u.id, u.name) for u in units], form.get("unit_id")),
            "supplier_options": _options([(o.id, o.name) for o in suppliers],
                                         form.get("supplier_id")),
            "category_options": _options(
                [(c.code, f"{c.code} {'· ' if c.level == 2 else ''}{c.name}")
                 for c in categories], form.get("category")),
            "region_options": _options(regions, None)}


def _filters_in_words(figures: services.Figures) -> list[tuple[str, str]]:
    f = figures.filters
    choices = _choices()
    units = {u.id: u.name for u in choices["units"]}
    suppliers = {s.id: s.name for s in choices["suppliers"]}
    categories = {c.code: c.name for c in choices["categories"]}
    everything = _("All")
    return [(_("Period"), f"{f.as_dict()['from_month']} – {f.as_dict()['to_month']}"),
            (_("Region"), f.region or everything),
            (_("Purchasing unit"), units.get(f.unit_id, "") if f.unit_id else everything),
            (_("Category"), f"{f.category} {categories.get(f.category, '')}" if f.category
             else everything),
            (_("Supplier"), suppliers.get(f.supplier_id, "") if f.supplier_id else everything),
            (_("Purchase mode"), mode_name(f.mode) if f.mode else everything)]


def _query() -> dict[str, str]:
    return {name: request.args[name].strip() for name in FILTER_NAMES
            if request.args.get(name, "").strip()}


@blueprint.route("/statistics")
@page(*OVERSIGHT_STAFF)
def statistics_page():
    """The statistics with the filters of the query string."""
    query = _query()
    try:
        figures = services.figures(db.session(), current_actor(), query)
    except ValidationFailed as exc:
        errors = {k: [translate_field_message(m, _) for m in v] for k, v in exc.errors.items()}
        return render_template("supervision/statistics.html", figures=None, errors=errors,
                               form=query, mode_name=mode_name, **_choices(query)), 422
    return render_template("supervision/statistics.html", figures=figures, errors={},
                           form=query, headline=headline(figures), mode_name=mode_name,
                           chart=_chart_data(figures), **_choices(query))


def _chart_data(figures: services.Figures) -> dict[str, Any]:
    """What the charts draw (the tables beside them show the same numbers)."""
    return {
        "labels": {"amount": _("Amount (yuan)"), "savings_rate": _("Savings rate") + " (%)",
                   "deals": _("Deals")},
        "trend": {"months": [p.month for p in figures.trend],
                  "amount": [p.amount_fen / 100 for p in figures.trend],
                  "savings_rate": [p.savings_rate_pct for p in figures.trend]},
        "modes": {"names": [mode_name(m.mode) for m in figures.by_mode],
                  "amount": [m.amount_fen / 100 for m in figures.by_mode]},
        "categories": {"names": [c.name for c in figures.top_categories],
                       "amount": [c.amount_fen / 100 for c in figures.top_categories]},
        "suppliers": {"names": [s.name for s in figures.top_suppliers],
                      "amount": [s.amount_fen / 100 for s in figures.top_suppliers]},
    }


@blueprint.route("/statistics/export.xlsx")
@page(*OVERSIGHT_STAFF)
def statistics_export():
    """The same figures, for the same filters, as an XLSX workbook."""
    figures = services.figures(db.session(), current_actor(), _query())
    cells = [(label, _cell(value, kind)) for _id, label, value, kind in headline(figures)]
    body = workbook(figures, _, cells, _filters_in_words(figures), mode_name)
    name = f"statistics-{figures.filters.as_dict()['from_month']}-" \
           f"{figures.filters.as_dict()['to_month']}.xlsx"
    return body, 200, {"Content-Type": XLSX,
                       "Content-Disposition": f'attachment; filename="{name}"'}


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return "—"
    return round(value / 100, 2) if kind == "fen" else value
