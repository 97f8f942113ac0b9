"""An engine for long reads that write nothing (exports)."""

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.config import Settings


def create_read_engine(settings: Settings) -> AsyncEngine:
    """One connection for a read that may run for minutes.

    On SQLite its transactions start deferred, not with ``BEGIN IMMEDIATE`` as the service's
    do (``app.db.engine``): such a read never holds the write lock, and in WAL mode each
    statement reads the database as it was when the statement began while writers carry on.
    On PostgreSQL it runs without the statement timeout, which is meant for requests.
    """
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        return create_async_engine(
            settings.database_url,
            pool_size=1,
            max_overflow=0,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        )
    return create_async_engine(
        settings.database_url,
        pool_size=1,
        max_overflow=0,
        connect_args={"server_settings": {"application_name": "stammkunde-export"}},
    )
