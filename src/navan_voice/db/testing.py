"""Fresh seeded databases, fast: for tests and benchmarks (nothing here runs on import).

Seeding through the ORM takes about a second, so each backend seeds one template once and
clones it per test: SQLite by copying the file, PostgreSQL with ``CREATE DATABASE … TEMPLATE``.
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from navan_voice.db.engine import make_engine, normalize_url
from navan_voice.db.seed import seed_database


class SqliteTemplate:
    """A seeded SQLite file, copied into a new file per test."""

    def __init__(self, folder: Path, *, today: date | None = None) -> None:
        self._folder = folder
        self._template = folder / "template.db"
        self._counter = itertools.count(1)
        seed_database(f"sqlite:///{self._template}", today=today)

    def fresh(self) -> str:
        target = self._folder / f"db{next(self._counter)}.db"
        shutil.copyfile(self._template, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        database = make_url(url).database
        if database:
            Path(database).unlink(missing_ok=True)


class PostgresTemplate:
    """A seeded PostgreSQL database used as the template of one new database per test.

    ``server_url`` names any database on the server (e.g. ``…/postgres``) with a role that
    may create databases.
    """

    def __init__(self, server_url: str, *, today: date | None = None) -> None:
        self._server_url = normalize_url(server_url)
        self._admin = make_engine(self._server_url, isolation_level="AUTOCOMMIT")
        self._prefix = f"navan_test_{os.getpid()}"
        self._template = f"{self._prefix}_template"
        self._counter = itertools.count(1)
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self._template}"'))
            conn.execute(text(f'CREATE DATABASE "{self._template}"'))
        template_url = self._url_for(self._template)
        seed_database(template_url, today=today)
        make_engine(template_url).dispose()

    def _url_for(self, name: str) -> str:
        return make_url(self._server_url).set(database=name).render_as_string(hide_password=False)

    def fresh(self) -> str:
        name = f"{self._prefix}_{next(self._counter)}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"'))
        return self._url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)'))
        self._admin.dispose()
