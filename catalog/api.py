"""Catalogue API: browse the official categories; operators enable leaves for the mall."""

from flask_smorest import Blueprint

from catalog import services
from catalog.schemas import (
    CategoryEnableResultSchema,
    CategoryEnableSchema,
    CategoryQuerySchema,
    CategorySchema,
)
from mall.core.auth import Scope
from mall.extensions import db
from mall.web import current_actor

blueprint = Blueprint("catalog_api", __name__, description="The procurement category catalogue")


@blueprint.route("/categories")
@blueprint.arguments(CategoryQuerySchema, location="query")
@blueprint.response(200, CategorySchema(many=True))
def list_categories(query):
    """Children of ``parent`` (level-1 codes without it), or a text search with ``q``."""
    current_actor().require_scope(Scope.CATALOG_READ)
    if query["q"]:
        return services.search_categories(db.session, text=query["q"],
                                          enabled_only=query["enabled"])
    rows = services.list_children(db.session, parent_code=query["parent"])
    return [c for c in rows if c.enabled or not query["enabled"] or not c.is_leaf]


@blueprint.route("/categories/<code>")
@blueprint.response(200, CategorySchema)
def get_category(code: str):
    """One category by its code."""
    current_actor().require_scope(Scope.CATALOG_READ)
    return services.get_category(db.session, code)


@blueprint.route("/categories/enabled", methods=["PUT"])
@blueprint.arguments(CategoryEnableSchema)
@blueprint.response(200, CategoryEnableResultSchema)
def set_enabled(data):
    """Operators: enable or disable leaf categories for sale in the mall."""
    changed = services.set_categories_enabled(db.session, current_actor(), codes=data["codes"],
                                              enabled=data["enabled"])
    return {"changed": changed}
