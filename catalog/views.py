"""Shopping pages: search with facets and live suggestions, and the product page comparing every
supplier's offer. Its add-to-cart form posts to the cart of direct purchase (mall.purchasing,
a higher layer), which also puts ``cart_count`` and ``supplier_ratings`` into every template."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from marshmallow import ValidationError as SchemaValidationError

from catalog import products
from catalog.search_forms import SearchPageSchema, search_query
from mall.core.auth import OVERSIGHT_STAFF, UNIT_STAFF
from mall.extensions import db
from mall.web import flatten_messages, form_dict, page

blueprint = Blueprint("catalog", __name__)
BROWSERS = (*UNIT_STAFF, *OVERSIGHT_STAFF)
LIST_FIELDS = ("brand", "supplier")


def _search_backend():
    return current_app.extensions["search"]()


def _page_arguments() -> dict:
    data = form_dict(request.args, LIST_FIELDS)
    groups = request.args.getlist("group")  # a hidden "0" precedes the checkbox's "1"
    if groups:
        data["group"] = groups[-1]
    return data


def load_search_page(raw: dict) -> tuple[dict, dict[str, list[str]]]:
    """Load the page's arguments; bad fields are reported and left out, the rest still apply."""
    schema = SearchPageSchema()
    try:
        return schema.load(raw), {}
    except SchemaValidationError as exc:
        errors = flatten_messages(exc.messages)
        cleaned = {k: v for k, v in raw.items() if k not in errors}
        try:
            return schema.load(cleaned), errors
        except SchemaValidationError:  # e.g. an unknown parameter: show the defaults
            return schema.load({}), errors


@blueprint.route("/search")
@page(*BROWSERS)
def search():
    """Search offers: text, facet sidebar, sort, grouping by product, pagination."""
    raw = _page_arguments()
    data, errors = load_search_page(raw)
    query = search_query(data)
    result = _search_backend().search(query)
    counts = {f.value: f.count for f in result.facets.get("category", [])}
    tree = products.category_facet_tree(db.session(), counts, data["category"])
    supplier_labels = products.supplier_names(
        db.session(), [int(f.value) for f in result.facets.get("supplier", [])])
    pages = max(1, -(-result.total // query.page_size))
    return render_template("catalog/search.html", raw=raw, data=data, errors=errors,
                           result=result, tree=tree, supplier_labels=supplier_labels,
                           flags={name: _flag_count(result, name)
                                  for name in ("sme", "energy_saving", "green")},
                           page=query.page, pages=pages, search_url=search_url)


def search_url(**changes) -> str:
    """This search's URL with some parameters changed (None removes one); page resets to 1."""
    args: dict[str, Any] = {key: [v for v in values if v != ""]
                            for key, values in request.args.to_dict(flat=False).items()}
    if args.get("group"):
        args["group"] = args["group"][-1:]
    args.pop("page", None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for("catalog.search", **{k: v for k, v in args.items() if v not in ([], "")})


def _flag_count(result, name: str) -> int:
    return next((f.count for f in result.facets.get(name, []) if f.value == "true"), 0)


@blueprint.route("/search/suggest")
@page(*BROWSERS)
def suggest():
    """Completions of what the buyer is typing, as a JSON list of strings."""
    prefix = request.args.get("q", "")[:100]
    return jsonify(_search_backend().suggest(prefix) if prefix.strip() else [])


@blueprint.route("/products/<int:product_id>")
@page(*BROWSERS)
def product(product_id: int):
    """A product with every supplier's visible offer side by side, cheapest first."""
    return render_template("catalog/product.html",
                           product=products.product_with_offers(db.session(), product_id))
