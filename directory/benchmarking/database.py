"""The benchmark's own database.

Default: a fresh database next to the configured one, so a benchmark never touches real data.
- PostgreSQL (`DATABASE_URL=postgres://.../NAME`): `NAME_bench` is (re)created through a
  psycopg connection to the `postgres` maintenance database (autocommit), migrated, and
  dropped at the end unless `--keep`; `--skip-seed` reuses a kept one.
- SQLite: a temporary file (kept with `--keep`, path printed).
`--in-place` instead uses the configured database as it is and refuses to run when it holds
organisations the benchmark did not create, unless `--force` (the tests use this mode).
"""

from __future__ import annotations

import os
import tempfile

from django.core.management import call_command
from django.db import connections


def _maintenance_connection(settings_dict):
    import psycopg

    kwargs = {
        "dbname": "postgres",
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "autocommit": True,
    }
    return psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None})


def _switch(alias: str, name: str):
    connection = connections[alias]
    connection.close()
    connection.settings_dict["NAME"] = name


class BenchmarkDatabase:
    """Context manager: point the default connection at the benchmark database and back."""

    def __init__(self, *, keep: bool, reuse: bool, in_place: bool, alias: str = "default"):
        self.keep, self.reuse, self.in_place, self.alias = keep, reuse, in_place, alias
        self.connection = connections[alias]
        self.original_name = self.connection.settings_dict["NAME"]
        self.vendor = self.connection.vendor
        self.name = self.original_name
        self.created = False

    def describe(self) -> str:
        mode = "in place" if self.in_place else ("reused" if self.reuse and not self.created else "fresh")
        return f"{self.vendor} database {self.name!s} ({mode})"

    def __enter__(self):
        if self.in_place:
            return self
        if self.vendor == "postgresql":
            self.name = f"{self.original_name}_bench"[:63]
            with _maintenance_connection(self.connection.settings_dict) as admin:
                exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name]).fetchone()
                if exists and not self.reuse:
                    admin.execute(f'DROP DATABASE "{self.name}" WITH (FORCE)')
                    exists = None
                if not exists:
                    admin.execute(f'CREATE DATABASE "{self.name}"')
                    self.created = True
        elif self.vendor == "sqlite":
            path = os.path.join(tempfile.gettempdir(), "directory_benchmark.sqlite3")
            if os.path.exists(path) and not self.reuse:
                os.remove(path)
            self.created = not os.path.exists(path)
            self.name = path
        else:
            raise RuntimeError(f"Unsupported database vendor {self.vendor!r}; use --in-place.")
        _switch(self.alias, self.name)
        call_command("migrate", verbosity=0, interactive=False, database=self.alias)
        return self

    def __exit__(self, *exc):
        if self.in_place:
            return False
        _switch(self.alias, self.original_name)
        if self.keep:
            return False
        if self.vendor == "postgresql":
            with _maintenance_connection(self.connection.settings_dict) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif os.path.exists(self.name):
            os.remove(self.name)
        return False
