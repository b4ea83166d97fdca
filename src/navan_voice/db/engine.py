"""Engines, sessions and migrations for the travel database.

SQLite (a file, the default) and PostgreSQL (by URL) are both supported. Nothing here runs on
import: callers build an engine with ``make_engine`` and upgrade the schema with
``upgrade_database``, which runs the Alembic migrations in ``db/migrations`` programmatically.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from navan_voice.domain.errors import ConflictError, DataUnavailableError, SetupError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SessionFactory = sessionmaker[Session]


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs (psycopg2 is not installed)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout for concurrency."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": 15}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(url_or_engine: str | Engine) -> SessionFactory:
    """A session factory; sessions keep loaded values after commit (``expire_on_commit=False``)."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close.

    A stale version (two simultaneous changes of one row) becomes ``ConflictError``; any other
    database failure becomes ``DataUnavailableError``. Both messages are safe to speak; the
    original is chained for the logs.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as e:
        session.rollback()
        _raise_unavailable(e)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _raise_unavailable(e: SQLAlchemyError) -> None:
    if isinstance(e, StaleDataError):
        # optimistic locking: the row's version moved between our read and our write
        raise ConflictError(
            "Someone changed this booking a moment ago, so I did not apply the change; "
            "let me read the booking again and check the options with you."
        ) from e
    logger.error("database error: %s", e)
    raise DataUnavailableError(
        "The trip system is not answering right now; please try again in a few minutes, "
        "or ask for a support case so a colleague follows up."
    ) from e


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates '%'; URL-encoded passwords need it doubled
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` up to ``revision`` (default: the newest) with Alembic."""
    from alembic import command

    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_alembic_config(url), revision)
    logger.info(
        "database at %s upgraded to %s",
        make_url(normalize_url(url)).render_as_string(hide_password=True),
        revision,
    )


def require_current_schema(url: str) -> None:
    """Refuse (``SetupError``) a database whose schema is not the newest, with the command that
    brings it up to date; for commands that should not change a schema themselves."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    parsed = make_url(normalize_url(url))
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        # connecting would create an empty file where the path was mistyped
        raise SetupError(
            f"there is no database at {file}; check NAVAN_DATABASE_URL, or run "
            "`navan-voice db seed` to create one"
        )
    head = ScriptDirectory.from_config(_alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        shown = make_url(normalize_url(url)).render_as_string(hide_password=True)
        raise SetupError(
            f"the database at {shown} is at schema {current or 'none'}, not the newest ({head}); "
            "run `navan-voice db upgrade` (or `navan-voice db seed` for the demo data) first"
        )


def downgrade_database(url: str, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` (default: an empty database)."""
    from alembic import command

    command.downgrade(_alembic_config(url), revision)
