"""Catalogue API: browse the official categories; operators enable leaves for the mall and mark
the centrally procured items."""

from catalog import services
from catalog.schemas import (
    CategoryCentrallyProcuredSchema,
    CategoryEnableResultSchema,
    CategoryEnableSchema,
    CategoryQuerySchema,
    CategorySchema,
)
from mall.core.auth import Role, Scope
from mall.extensions import db
from mall.web import current_actor
from mall.web.access import access
from mall.web.parsing import Blueprint

blueprint = Blueprint("catalog_api", __name__, description="The procurement category catalogue")


@blueprint.route("/categories")
@access(Scope.CATALOG_READ)
@blueprint.arguments(CategoryQuerySchema, location="query")
@blueprint.response(200, CategorySchema(many=True))
def list_categories(query):
    """Children of ``parent`` (level-1 codes without it), or a text search with ``q``."""
    if query["q"]:
        return services.search_categories(db.session(), text=query["q"],
                                          enabled_only=query["enabled"])
    rows = services.list_children(db.session(), parent_code=query["parent"])
    return [c for c in rows if c.enabled or not query["enabled"] or not c.is_leaf]


@blueprint.route("/categories/<code>")
@access(Scope.CATALOG_READ)
@blueprint.response(200, CategorySchema)
def get_category(code: str):
    """One category by its code."""
    return services.get_category(db.session(), code)


@blueprint.route("/categories/enabled", methods=["PUT"])
@access(Scope.CATALOG_WRITE, Role.OPERATOR)
@blueprint.arguments(CategoryEnableSchema)
@blueprint.response(200, CategoryEnableResultSchema)
def set_enabled(data):
    """Operators: enable or disable leaf categories for sale in the mall."""
    changed = services.set_categories_enabled(db.session(), current_actor(), codes=data["codes"],
                                              enabled=data["enabled"])
    return {"changed": changed}


@blueprint.route("/categories/centrally-procured", methods=["PUT"])
@access(Scope.CATALOG_WRITE, Role.OPERATOR)
@blueprint.arguments(CategoryCentrallyProcuredSchema)
@blueprint.response(200, CategoryEnableResultSchema)
def set_centrally_procured(data):
    """Operators: mark leaf categories as centrally procured items (集中采购目录品目), or clear
    the mark. Orders with such an item are always signed as contracts; small orders without
    one may be settled by a settlement order (结算单)."""
    changed = services.set_centrally_procured(db.session(), current_actor(), codes=data["codes"],
                                              centrally_procured=data["centrally_procured"])
    return {"changed": changed}
