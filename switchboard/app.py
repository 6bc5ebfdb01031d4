"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from switchboard.channels.endpoints import router as channels_router
from switchboard.channels.service import ChannelAccountService
from switchboard.core.config import Settings, get_settings
from switchboard.core.errors import install_error_handlers
from switchboard.core.health import router as health_router
from switchboard.core.observability import Metrics, RequestContextMiddleware, configure_logging
from switchboard.core.runtime import Runtime
from switchboard.tenancy.endpoints import router as tenancy_router
from switchboard.web import mount_web

DESCRIPTION = """Switchboard lets each tenant of a messaging platform connect its channels, keeps their
credentials safe, and lets platform admins review and provision managed ones.

Authenticate with `Authorization: Bearer <api key>`. Errors share one shape:
`{"error": code, "message": ..., "details": [{"field": ..., "rule": ...}]}`."""


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or Runtime.create(settings)
        app.state.runtime = rt
        app.state.channel_accounts = ChannelAccountService(rt.vault)
        try:
            yield
        finally:
            if runtime is None:
                await rt.close()

    app = FastAPI(title="Switchboard", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(tenancy_router)
    app.include_router(channels_router)
    mount_web(app)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics, max_body=settings.max_body_bytes)
    return app
