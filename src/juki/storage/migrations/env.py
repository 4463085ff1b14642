"""Alembic environment: always runs on a connection handed in by `juki.storage.migrate`."""

from __future__ import annotations

from alembic import context

from juki.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through juki.storage.migrate.upgrade (or `juki db upgrade`)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
