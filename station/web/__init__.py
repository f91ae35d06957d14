"""Web: the dashboard's HTTP API and the page it serves (static/)."""
