"""Alembic's entry point for the centre's catalog: run on the connection the centre opened
(station.centre.catalog.open_centre), inside its transaction."""
from alembic import context

from station.centre.catalog import CentreBase

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=CentreBase.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
