"""The government online mall (政府采购电子卖场).

Importing this package imports nothing else: ``create_app`` loads the application
lazily so that ``mall.core`` stays cheap to import from every layer.
"""


def create_app(config_overrides=None):
    """Build the Flask application (see ``mall.app.create_app``)."""
    from mall.app import create_app as _create_app

    return _create_app(config_overrides)
