"""The application factory: the composition root that wires every package together."""

from __future__ import annotations

import logging

from flask import Flask, g, request, session
from flask_login import current_user, logout_user
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError as CSRFValidationError

from mall.config import PROJECT_ROOT, load_settings
from mall.core.clock import now as clock_now
from mall.core.errors import AuthenticationRequired, MallError
from mall.extensions import api, babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = PROJECT_ROOT / "mall" / "migrations"
SUPPORTED_LOCALES = ("zh_Hans_CN", "en")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(config_overrides: dict | None = None) -> Flask:
    """Build the app from environment settings, optionally overridden (tests do)."""
    app = Flask("mall", template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "mall" / "static"))
    app.config.update(load_settings())
    app.config.update(config_overrides or {})
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Asia/Shanghai")
    csrf.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    from mall.web.access import SECURITY_SCHEMES

    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)

    with app.app_context():
        from mall.core.db import configure_sqlite

        configure_sqlite(db.engine)

    _register_models()
    _register_search(app)
    _register_request_hooks(app)
    _register_blueprints(app)
    _register_template_helpers(app)

    from mall.web.errors import register_error_handlers

    register_error_handlers(app)

    from mall.web.security import register_security

    register_security(app)

    from mall.cli import register_commands

    register_commands(app)

    if app.config["SCHEDULER_ENABLED"]:
        from mall.core.jobs import start_scheduler

        start_scheduler(app)
    return app


def _register_models() -> None:
    """Import every package's models so metadata (and Alembic) sees all tables."""
    import bidding_rounds.jobs  # noqa: F401
    import bidding_rounds.models  # noqa: F401
    import catalog.jobs  # noqa: F401
    import catalog.models  # noqa: F401
    import financing.jobs  # noqa: F401
    import financing.models  # noqa: F401
    import mall.accounts.models  # noqa: F401
    import mall.core.audit  # noqa: F401
    import mall.core.audit_jobs  # noqa: F401
    import mall.core.housekeeping_jobs  # noqa: F401
    import mall.core.idempotency  # noqa: F401
    import mall.core.outbox  # noqa: F401
    import mall.purchasing.budget.models  # noqa: F401
    import mall.purchasing.contracts.models  # noqa: F401
    import mall.purchasing.experts.models  # noqa: F401
    import mall.purchasing.orders.jobs  # noqa: F401
    import mall.purchasing.orders.models  # noqa: F401
    import mall.purchasing.payments.models  # noqa: F401
    import supervision.performance.jobs  # noqa: F401
    import supervision.performance.models  # noqa: F401
    import supervision.prices.jobs  # noqa: F401
    import supervision.prices.models  # noqa: F401
    import supervision.splitting.jobs  # noqa: F401
    import supervision.splitting.models  # noqa: F401
    import supervision.statistics.jobs  # noqa: F401
    import supervision.statistics.models  # noqa: F401
    import suppliers.jobs  # noqa: F401
    import suppliers.models  # noqa: F401


def _register_search(app: Flask) -> None:
    """app.extensions["search"]() returns the configured search backend, opened on first use."""
    import threading

    from catalog.search import make_backend

    lock = threading.Lock()
    holder: dict = {}

    def backend():
        with lock:
            if "backend" not in holder:
                holder["backend"] = make_backend(
                    app.config["SEARCH_BACKEND"], var_dir=app.config["MALL_VAR_DIR"],
                    meili_url=app.config["MEILI_URL"], meili_key=app.config["MEILI_KEY"])
                holder["backend"].ensure_index()
            return holder["backend"]

    app.extensions["search"] = backend


def _select_locale() -> str:
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    user = current_user if current_user and current_user.is_authenticated else None
    if user is not None and user.preferred_locale in SUPPORTED_LOCALES:
        return user.preferred_locale
    return "zh_Hans_CN"


def _register_request_hooks(app: Flask) -> None:
    from mall.accounts.models import User
    from mall.accounts.services import actor_for, authenticate_token

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.is_active else None

    @app.before_request
    def identify_actor():
        """Put the acting user (a person's session or a machine's bearer token) on g."""
        g.actor = None
        header = request.headers.get("Authorization", "")
        if request.path.startswith("/api/") and header.lower().startswith("bearer "):
            g.actor = authenticate_token(db.session(), header[7:].strip())
            return None
        if not current_user.is_authenticated:
            return None
        last_seen = session.get("last_seen")
        moment = clock_now().timestamp()
        idle = app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
        if last_seen is not None and moment - last_seen > idle:
            logout_user()
            session.clear()
            session["expired"] = True
            if request.path.startswith("/api/"):
                raise AuthenticationRequired("Your session expired; log in again.",
                                             code="session_expired")
            return None
        session["last_seen"] = moment
        session.permanent = True
        if request.path.startswith("/api/") and request.method not in SAFE_METHODS:
            # The API is exempt from form CSRF; a browser session must still send the token.
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except CSRFValidationError as exc:
                raise MallError("A browser session must send the X-CSRFToken header.",
                                code="csrf_failed") from exc
        g.actor = actor_for(current_user)
        return None

    @app.before_request
    def refuse_nul():
        """No text the database could not store reaches a view (mall.web.parsing)."""
        from mall.web.parsing import refuse_nul_characters

        refuse_nul_characters(request)

    from mall.web import unit_of_work

    unit_of_work.register(app)


def _register_blueprints(app: Flask) -> None:
    from admin.anchors import blueprint as audit_anchor_pages
    from admin.suppliers import blueprint as admin_supplier_pages
    from admin.views import blueprint as admin_pages
    from bidding_rounds.api import blueprint as rounds_api
    from bidding_rounds.api import supplier_blueprint as supplier_rounds_api
    from bidding_rounds.pages import blueprint as round_pages
    from catalog.api import blueprint as catalog_api
    from catalog.search_api import blueprint as search_api
    from catalog.views import blueprint as shopping_pages
    from financing.api import blueprint as finance_api
    from financing.pages import blueprint as financing_pages
    from financing.supplier_api import blueprint as supplier_finance_api
    from financing.webhook_api import blueprint as finance_webhooks_api
    from mall.accounts.api import blueprint as accounts_api
    from mall.accounts.views import blueprint as accounts_pages
    from mall.purchasing.budget.api import blueprint as budget_api
    from mall.purchasing.contracts.api import blueprint as contracts_api
    from mall.purchasing.orders.api import blueprint as orders_api
    from mall.purchasing.pages import blueprint as purchasing_pages
    from mall.purchasing.payments.api import blueprint as payments_api
    from open_data.api import blueprint as open_data_api
    from supervision.pages import blueprint as supervision_pages
    from supervision.statistics.api import blueprint as statistics_api
    from suppliers.api import blueprint as supplier_api
    from suppliers.import_views import blueprint as import_pages
    from suppliers.registration_views import blueprint as registration_pages
    from suppliers.views import blueprint as supplier_pages

    _import_purchasing_pages()
    app.register_blueprint(accounts_pages)
    app.register_blueprint(admin_pages)
    app.register_blueprint(audit_anchor_pages)
    app.register_blueprint(admin_supplier_pages)
    app.register_blueprint(supplier_pages)
    app.register_blueprint(registration_pages)
    app.register_blueprint(shopping_pages)
    app.register_blueprint(import_pages)
    app.register_blueprint(purchasing_pages)
    _import_round_pages()
    app.register_blueprint(round_pages)
    import financing.views  # noqa: F401  (the financing pages register on their blueprint)

    app.register_blueprint(financing_pages)
    _import_supervision_pages()
    app.register_blueprint(supervision_pages)
    for blueprint in (accounts_api, catalog_api, supplier_api, search_api, orders_api, payments_api,
                      budget_api, contracts_api, rounds_api, supplier_rounds_api, finance_api,
                      supplier_finance_api, finance_webhooks_api, open_data_api, statistics_api):
        csrf.exempt(blueprint)
        # Flask replaces a blueprint's own prefix with the one given here: keep both.
        api.register_blueprint(blueprint, url_prefix="/api/v1" + (blueprint.url_prefix or ""))


def _import_purchasing_pages() -> None:
    """The purchasing sub-packages' pages register on one blueprint (mall.purchasing.pages)."""
    import mall.purchasing.budget.views  # noqa: F401
    import mall.purchasing.contracts.views  # noqa: F401
    import mall.purchasing.experts.views  # noqa: F401
    import mall.purchasing.orders.cart_views  # noqa: F401
    import mall.purchasing.orders.views  # noqa: F401


def _import_round_pages() -> None:
    """The bidding pages of each role register on one blueprint (bidding_rounds.pages)."""
    import bidding_rounds.challenge_views  # noqa: F401
    import bidding_rounds.complaint_views  # noqa: F401
    import bidding_rounds.views  # noqa: F401


def _import_supervision_pages() -> None:
    """Each part of supervision registers its pages on one blueprint (supervision.pages)."""
    import supervision.hub  # noqa: F401
    import supervision.performance.views  # noqa: F401
    import supervision.prices.views  # noqa: F401
    import supervision.splitting.views  # noqa: F401
    import supervision.statistics.views  # noqa: F401


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import gettext

    from mall.core.auth import ROLES_BY_KIND
    from mall.core.clock import format_local
    from mall.core.money import fen_to_capital, format_fen, yuan_text

    app.jinja_env.filters["fen"] = format_fen
    app.jinja_env.filters["capital"] = fen_to_capital
    app.jinja_env.filters["yuan_text"] = yuan_text
    app.jinja_env.filters["local_time"] = format_local
    app.jinja_env.filters["roles_text"] = lambda roles: "、".join(
        gettext(r.value) for r in sorted(roles))

    @app.context_processor
    def inject_globals():
        from flask_babel import get_locale

        return {"actor": g.get("actor"), "current_locale": str(get_locale()),
                "role_choices": lambda kind: sorted(r.value for r in ROLES_BY_KIND[kind])}
