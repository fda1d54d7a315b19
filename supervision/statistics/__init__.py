"""Statistics of the mall's purchases: aggregates kept by jobs, figures, charts and exports."""
