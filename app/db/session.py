"""Session factory bound to the process's engine."""

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.config_cache import ConfigCache, session_info


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay usable after commit: responses are built from them after the unit of
    # work has committed. The sessions of one factory share one configuration cache.
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, info=session_info(ConfigCache())
    )


def is_postgresql(session: AsyncSession) -> bool:
    """Whether the session talks to PostgreSQL (else to SQLite, the embedded default)."""
    return session.get_bind().dialect.name == "postgresql"
