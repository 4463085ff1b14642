"""Alembic environment: always runs on a connection handed in by `juki.storage.migrate`.

Migrations are written by hand (no autogenerate), so no metadata is needed here; a test
compares what they build with every feature's declared tables."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through juki.storage.migrate.upgrade (or `juki db upgrade`)")

context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
