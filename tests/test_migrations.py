"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from extensions import db
from tests.conftest import ON_POSTGRES


def _empty_database_url(database_url: str, tmp_path) -> str:
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    base, query = database_url.split("?", 1)
    server = base.rsplit("/", 1)[0]
    admin = f"postgresql://postgres@/postgres?{query}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS portail_migrations")
        conn.execute("CREATE DATABASE portail_migrations")
    return f"{server}/portail_migrations?{query}"


def test_migrations_match_the_models(database_url, tmp_path):
    app = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": _empty_database_url(database_url, tmp_path),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    with app.app_context():
        upgrade(directory="migrations")
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(directory="migrations", revision="base")
        db.engine.dispose()
