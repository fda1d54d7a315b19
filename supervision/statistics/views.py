"""Pages: Statistics of the mall's purchases: aggregates kept by jobs, figures, charts and exports."""

from supervision.pages import blueprint  # noqa: F401
