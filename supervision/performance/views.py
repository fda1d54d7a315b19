"""Pages: Supplier performance scores and sanctions."""

from supervision.pages import blueprint  # noqa: F401
