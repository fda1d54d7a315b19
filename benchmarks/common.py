"""What the benchmark scripts share: a fresh PostgreSQL database, a free local port."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit


def fresh_postgres(url: str) -> str:
    """Drop and re-create the database the URL names; returns the URL."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path[1:]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parts.path[1:]}"')
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
