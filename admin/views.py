"""Operator and supervisor pages: category switchboard (sale and centrally procured items),
purchase limits per region, synonyms and the audit trail viewer."""

from collections.abc import Mapping

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from catalog import services as catalog_services
from catalog.models import Category
from mall.core.audit import verify_chain
from mall.core.audit_anchor import (
    AnchorKeys,
    anchor_age_days,
    load_anchors,
    public_key_pem,
    verify_against_anchors,
)
from mall.core.audit_labels import ACTION_LABELS, OBJECT_LABELS, action_label, object_label
from mall.core.auth import Role
from mall.core.clock import now
from mall.core.errors import ValidationFailed, translate_field_message
from mall.core.inputs import MAX_ID, whole_number
from mall.extensions import db
from mall.web import current_actor, page
from mall.web.security import safe_next
from mall.web.unit_of_work import discard_changes

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/categories")
@page(Role.OPERATOR, Role.SUPERVISOR)
def categories():
    """Browse the catalogue tree; operators switch leaves on and off for the mall and mark the
    centrally procured items."""
    parent = request.args.get("parent") or None
    text = request.args.get("q", "").strip()
    if text:
        rows = catalog_services.search_categories(db.session(), text=text, limit=200)
        trail = []
    else:
        rows = catalog_services.list_children(db.session(), parent_code=parent)
        trail = _trail(parent)
    counts = catalog_services.enabled_counts_by_parent(db.session())
    return render_template("admin/categories.html", rows=rows, trail=trail, parent=parent,
                           q=text, counts=counts,
                           can_edit=current_actor().has_role(Role.OPERATOR))


def _trail(code: str | None) -> list[Category]:
    trail: list[Category] = []
    while code:
        category = catalog_services.get_category(db.session(), code)
        trail.insert(0, category)
        code = category.parent.code if category.parent else None
    return trail


@blueprint.route("/categories", methods=["POST"])
@page(Role.OPERATOR)
def set_categories():
    """Enable or disable the ticked leaves, or mark or clear them as centrally procured."""
    action = request.form.get("action")
    codes = request.form.getlist("codes")
    back = safe_next(request.form.get("back"), url_for("admin.categories"))
    try:
        if action in ("central", "not-central"):
            changed = catalog_services.set_centrally_procured(
                db.session(), current_actor(), codes=codes, centrally_procured=action == "central")
        else:
            changed = catalog_services.set_categories_enabled(
                db.session(), current_actor(), codes=codes, enabled=action == "enable")
    except ValidationFailed as exc:
        discard_changes()
        flash("; ".join(exc.errors.get("codes", [])) or _("Choose at least one category."),
              "error")
        return redirect(back)
    flash(_("%(count)d categories changed.", count=changed), "success")
    return redirect(back)


@blueprint.route("/audit")
@page(Role.OPERATOR, Role.SUPERVISOR)
def audit():
    """The audit trail searched by who acted, their organisation, the object, the event and
    local dates, 50 entries a page newest first; the chain's state since the latest published
    anchor (the whole chain on request) and the anchors."""
    from admin import audit_search

    keys = AnchorKeys.from_config(current_app.config)
    filters, errors = audit_search.parse_filters(db.session(), request.args)
    result = (audit_search.AuditPage([]) if errors
              else audit_search.search(db.session(), filters))
    published = load_anchors(keys)
    if request.args.get("verify"):
        report, whole = verify_against_anchors(db.session(), keys)[0], True
    elif filters.before is None:  # the first page: the chain since the latest anchor
        report, whole = verify_chain(db.session(), since=published.latest), False
    else:
        report, whole = None, False
    return render_template(
        "admin/audit.html", result=result, report=report, whole=whole, published=published,
        anchor_age=anchor_age_days(published), form=filters, errors=_audit_errors(errors),
        actions=_labelled(ACTION_LABELS), objects=_labelled(OBJECT_LABELS),
        action_label=action_label, object_label=object_label,
        query=filters.query_args()), (422 if errors else 200)


def _labelled(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """(code, label in the user's language), sorted by the label as shown."""
    return sorted(((code, _(label)) for code, label in labels.items()), key=lambda p: p[1])


def _audit_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {key: [translate_field_message(m, _) for m in messages]
            for key, messages in errors.items()}


@blueprint.route("/audit/export.jsonl")
@page(Role.OPERATOR, Role.SUPERVISOR)
def audit_export():
    """The filtered entries with their hashes and the published anchors, as JSON Lines, for
    an outside check (scripts/verify_audit_export.py)."""
    from admin import audit_search

    filters, errors = audit_search.parse_filters(db.session(), request.args)
    if errors:
        return audit()
    keys = AnchorKeys.from_config(current_app.config)
    body = "".join(audit_search.export_lines(
        db.session(), filters, load_anchors(keys), keys.directory,
        public_key_pem(keys.public_key()), filters.query_args()))
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    return Response(body, mimetype="application/jsonl", headers={
        "Content-Disposition": f'attachment; filename="audit-export-{stamp}.jsonl"'})


@blueprint.route("/synonyms", methods=["GET", "POST"])
@page(Role.OPERATOR, Role.SUPERVISOR)
def synonyms():
    """The operator's search synonyms: add a group, remove one."""
    from catalog.models import SynonymGroup
    from catalog.synonyms import add_synonym_group, delete_synonym_group

    errors: dict[str, list[str]] = {}
    actor = current_actor()
    if request.method == "POST":
        try:
            if request.form.get("delete"):
                group_id = whole_number(request.form["delete"], high=MAX_ID) or 0  # 0: no group
                delete_synonym_group(db.session(), actor, group_id=group_id)
                flash(_("Synonym group removed."), "success")
            else:
                text = request.form.get("terms", "")
                terms = [t for t in text.replace("，", ",").replace("、", ",").split(",")]
                add_synonym_group(db.session(), actor, terms=terms)
                flash(_("Synonym group added; searches use it within seconds."), "success")
            return redirect(url_for("admin.synonyms"))
        except ValidationFailed as exc:
            discard_changes()
            errors = exc.errors
    groups = db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)).all()
    return render_template("admin/synonyms.html", groups=groups, errors=errors,
                           form=request.form), (422 if errors else 200)


@blueprint.route("/purchase-settings", methods=["GET", "POST"])
@page(Role.OPERATOR, Role.SUPERVISOR)
def purchase_settings():
    """Purchase limits per region (the mall default and regional rows): the direct-purchase
    limit with its warning share, the open-tender threshold, the settlement-order threshold and
    the approval window. ``?region=`` fills the form with a row's current values (``default``:
    the mall default row)."""
    from mall.core.money import parse_yuan, yuan_text
    from mall.purchasing.budget import services as budget

    actor = current_actor()
    rows = budget.region_settings(db.session())
    errors: dict[str, list[str]] = {}
    form: Mapping[str, str] = request.form
    if request.method == "GET" and request.args.get("region"):
        wanted = request.args["region"]
        row = next((r for r in rows if (r.region_code or "default") == wanted), None)
        if row is not None:
            form = {"region_code": row.region_code or "",
                    "direct_limit": yuan_text(row.direct_limit_fen), "warn_pct": str(row.warn_pct),
                    "open_tender": yuan_text(row.open_tender_fen)
                    if row.open_tender_fen is not None else "",
                    "open_tender_inherit": "1" if row.open_tender_fen is None else "",
                    "settlement_max": yuan_text(row.settlement_max_fen)
                    if row.settlement_max_fen is not None else "",
                    "settlement_inherit": "1" if row.settlement_max_fen is None else "",
                    "split_window": "" if row.split_window_days is None
                    else str(row.split_window_days),
                    "split_window_inherit": "1" if row.split_window_days is None else ""}
    if request.method == "POST":
        actor.require_role(Role.OPERATOR)
        region = form.get("region_code", "").strip() or None
        if region is not None and not (len(region) == 6 and region.isdigit()):
            errors["region_code"] = [_("Enter a six-digit region code, or leave it empty for the "
                                       "mall default.")]
        amounts: dict[str, int | None] = {}
        for name in ("direct_limit", "open_tender", "settlement_max"):
            text = form.get(name, "").strip()
            try:
                amounts[name] = parse_yuan(text) if text else None
            except ValueError:
                errors[name] = [_("Enter an amount in yuan, such as 1,000,000.")]
        direct_limit = amounts.get("direct_limit")
        if direct_limit is None and "direct_limit" not in errors:
            errors["direct_limit"] = [_("Enter the direct-purchase limit.")]
        window_text = form.get("split_window", "").strip()
        window = int(window_text) if window_text.isascii() and window_text.isdigit() else None
        if window_text and (window is None or window > budget.MAX_SPLIT_WINDOW_DAYS):
            errors["split_window"] = [_("Enter a whole number of days from 0 to 366.")]
        warn = form.get("warn_pct", "").strip()
        if not (warn.isascii() and warn.isdigit()) or not 1 <= int(warn) <= 100:
            errors["warn_pct"] = [_("Enter a whole percentage from 1 to 100.")]
        if not errors and direct_limit is not None:  # no errors: the limit was entered
            current = next((r for r in rows if r.region_code == region), None)
            settlement = (None if form.get("settlement_inherit") else amounts["settlement_max"]
                          if amounts["settlement_max"] is not None
                          else current.settlement_max_fen if current else None)
            # Inherit: the row above decides; empty: the row keeps its threshold.
            open_tender: int | None | budget.Unchanged = (
                None if form.get("open_tender_inherit") else amounts["open_tender"]
                if amounts["open_tender"] is not None else budget.UNCHANGED)
            try:
                budget.set_limits(db.session(), actor, region_code=region,
                                  direct_limit_fen=direct_limit, warn_pct=int(warn),
                                  open_tender_fen=open_tender)
                budget.set_settlement_threshold(db.session(), actor, region_code=region,
                                                amount_fen=settlement)
                budget.set_split_window(
                    db.session(), actor, region_code=region,
                    days=None if form.get("split_window_inherit") else window
                    if window is not None else current.split_window_days if current else None)
                flash(_("Purchase limits saved."), "success")
                return redirect(url_for("admin.purchase_settings"))
            except ValidationFailed as exc:
                discard_changes()
                names = {"direct_limit_fen": "direct_limit", "open_tender_fen": "open_tender",
                         "settlement_max_fen": "settlement_max", "split_window_days": "split_window"}
                errors = {names.get(k, k): [translate_field_message(m, _) for m in v]
                          for k, v in exc.errors.items()}
    return render_template("admin/purchase_settings.html", rows=rows,
                           defaults={"direct_limit": budget.DEFAULT_DIRECT_LIMIT_FEN,
                                     "warn_pct": budget.DEFAULT_WARN_PCT,
                                     "open_tender": budget.DEFAULT_OPEN_TENDER_FEN,
                                     "settlement_max": budget.DEFAULT_SETTLEMENT_MAX_FEN,
                                     "split_window": budget.DEFAULT_SPLIT_WINDOW_DAYS},
                           errors=errors, form=form), (422 if errors else 200)
