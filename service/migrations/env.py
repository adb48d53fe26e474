"""Alembic environment for the feedback store.

Run programmatically by ``service.db.upgrade`` (``disposisi db upgrade``), which hands over an open
connection in ``config.attributes["connection"]``; no alembic.ini and no manual SQL.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise RuntimeError("run migrations with `disposisi db upgrade` (service.db.upgrade(url))")

context.configure(connection=connection, target_metadata=None, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
