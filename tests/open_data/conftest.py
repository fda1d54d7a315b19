"""Open data fixtures: the app with the open data API registered."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def app(app):
    """The shared app; registers the open data API if the app factory does not yet (until
    mall/app.py registers ``open_data.api.blueprint``, this keeps the tests self-contained)."""
    if "open_data_api" not in app.blueprints:
        from mall.extensions import api, csrf
        from open_data.api import blueprint

        app._got_first_request = False  # registered late, before this module's requests
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix="/api/v1" + (blueprint.url_prefix or ""))
    return app
