"""Alembic environment: runs on the connection handed over by ``engine.upgrade``."""

from __future__ import annotations

from alembic import context

from gateway.adapters.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `edigate db upgrade` (gateway.adapters.store.engine.upgrade)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
