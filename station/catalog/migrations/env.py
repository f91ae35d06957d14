"""Alembic's entry point for the station's catalog: run on the connection the station opened
(station.catalog.models.open_catalog); SQLite alters tables in batch mode (copy and move)."""
from alembic import context

from station.catalog.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
