"""Session factory bound to the process's engine."""

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay usable after commit: responses are built from them after the unit of
    # work has committed.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
