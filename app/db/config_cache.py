"""Configuration that every sale reads (programme settings, campaigns, the tier ladder),
kept per process and trusted only while one version number in the database is unchanged.

Triggers on the ``program``, ``campaign`` and ``tier`` tables (see the migration) bump
``config_version.version`` in the same transaction as any change to them, however it is
made, so a worker never earns by a programme that another worker has since changed. A
request reads the version once, at its first cached read, and sees the configuration as
of then; a request that changes the configuration calls ``forget_version`` so that its
own later reads see the change.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from sqlalchemy import BigInteger, CheckConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

T = TypeVar("T")

CONFIG_VERSION_ID = 1
CONFIG_TABLES = ("program", "campaign", "tier")

_CACHE = "config_cache"
_VERSION = "config_version"


class ConfigVersion(Base):
    __tablename__ = "config_version"
    __table_args__ = (CheckConstraint(f"id = {CONFIG_VERSION_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class ConfigCache:
    """The values read at one configuration version; a new version starts afresh."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._values: dict[str, Any] = {}

    def lookup(self, version: int, name: str) -> tuple[bool, Any]:
        if version != self._version or name not in self._values:
            return False, None
        return True, self._values[name]

    def store(self, version: int, name: str, value: Any) -> None:
        if version != self._version:
            self._version, self._values = version, {}
        self._values[name] = value


def session_info(cache: ConfigCache) -> dict[str, Any]:
    """The ``info`` a session factory gives its sessions so that they use ``cache``."""
    return {_CACHE: cache}


async def cached(
    session: AsyncSession, name: str, load: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """``load(session)``, from the process's cache while the configuration is unchanged.

    ``load`` must return a value that outlives the session (no attached ORM objects) and
    that nobody mutates.
    """
    cache: ConfigCache | None = session.info.get(_CACHE)
    if cache is None:
        return await load(session)
    version: int | None = session.info.get(_VERSION)
    if version is None:
        version = await session.scalar(
            select(ConfigVersion.version).where(ConfigVersion.id == CONFIG_VERSION_ID)
        )
        if version is None:  # the row is gone (a database emptied by hand): no caching
            return await load(session)
        session.info[_VERSION] = version
    found, value = cache.lookup(version, name)
    if found:
        return cast(T, value)
    value = await load(session)
    cache.store(version, name, value)
    return value


def forget_version(session: AsyncSession) -> None:
    """Read the version again at the next cached read: this request changed the configuration."""
    session.info.pop(_VERSION, None)
