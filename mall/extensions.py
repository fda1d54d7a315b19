"""Flask extensions, created without an app and bound in ``create_app``."""

import http

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from mall.core.db import Base
from mall.web.openapi import ProblemResponses, ProblemSchema, problem_response
from mall.web.parsing import IdConverter


class MallApi(Api):
    """flask-smorest's Api without its app-wide error handlers (ours speak problem+json), with
    bounded ids in paths and the problem+json error answers in the OpenAPI document."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists its statuses (ProblemResponses)

    def init_app(self, app, *, spec_kwargs=None):
        app.url_map.converters["int"] = IdConverter  # before any blueprint adds its rules
        spec_kwargs = {"extra_plugins": [ProblemResponses()], **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=spec_kwargs)

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        """The response components flask-smorest refers to (422 of ``arguments``) as problems."""
        self.spec.components.schema("Problem", schema=ProblemSchema)
        for status in http.HTTPStatus:
            if status >= 400:
                self.spec.components.response(status.name, problem_response(status), lazy=True)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = MallApi()
