"""Pages: Price monitoring: the daily inspection of listed offers, price cases and monthly reports."""

from supervision.pages import blueprint  # noqa: F401
