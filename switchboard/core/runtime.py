"""The process-wide parts a request or a job needs: settings, database, vault."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from switchboard.core.config import Settings
from switchboard.core.db import create_engine, create_sessionmaker
from switchboard.core.vault import Keyring, Vault


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    vault: Vault

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            vault=Vault(Keyring.from_settings(settings)),
        )

    async def close(self) -> None:
        await self.engine.dispose()
