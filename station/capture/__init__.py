"""Capture: pages coming in (hot folders, scan jobs), processed in worker processes and assigned to entries."""
