"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from switchboard.admin.pages import router as admin_pages
from switchboard.channels.endpoints import router as channels_router
from switchboard.channels.service import ChannelAccountService
from switchboard.core.config import Settings, get_settings
from switchboard.core.errors import install_error_handlers
from switchboard.core.health import router as health_router
from switchboard.core.observability import Metrics, RequestContextMiddleware, configure_logging
from switchboard.core.runtime import Runtime
from switchboard.destinations.endpoints import router as destinations_router
from switchboard.email.endpoints import router as ses_setup_router
from switchboard.email.service import SesSetupService
from switchboard.health.endpoints import router as channel_health_router
from switchboard.messages.endpoints import router as messages_router
from switchboard.notifications.endpoints import router as notifications_router
from switchboard.oauth.endpoints import router as oauth_router
from switchboard.oauth.pages import router as oauth_pages
from switchboard.onboarding.endpoints import admin_router as onboarding_admin_router
from switchboard.onboarding.endpoints import router as onboarding_router
from switchboard.onboarding.pages import router as onboarding_pages
from switchboard.onboarding.service import OnboardingService
from switchboard.push.endpoints import api as push_api_router
from switchboard.push.endpoints import router as push_router
from switchboard.sandbox import mount_sandboxes, sandbox_servers
from switchboard.sms.endpoints import public_router as sms_public_router
from switchboard.sms.endpoints import router as sms_router
from switchboard.sms.pages import router as sms_pages
from switchboard.sms.provider import build_number_provider
from switchboard.sms.service import SmsService
from switchboard.tenancy.byom_endpoints import router as byom_router
from switchboard.tenancy.endpoints import router as tenancy_router
from switchboard.tenancy.outlet_endpoints import router as outlets_router
from switchboard.tenancy.outlet_pages import router as outlet_pages
from switchboard.usecases.endpoints import events_router as ses_events_router
from switchboard.usecases.endpoints import router as use_case_router
from switchboard.usecases.events import SesEventService
from switchboard.usecases.service import UseCaseService
from switchboard.voice.endpoints import callbacks_router as twilio_callbacks_router
from switchboard.voice.endpoints import numbers_router as phone_number_router
from switchboard.voice.endpoints import setups_router as twilio_setup_router
from switchboard.voice.service import PhoneNumberService, TwilioSetupService
from switchboard.web import mount_web
from switchboard.webhooks.endpoints import router as webhooks_router

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
        app.state.channel_accounts = ChannelAccountService(rt.vault, rt.settings.public_base_url, rt.settings)
        app.state.onboarding = OnboardingService(rt.vault, rt.settings)
        app.state.ses_setups = SesSetupService(rt.settings)
        app.state.twilio_setups = TwilioSetupService(rt.vault, rt.settings)
        app.state.phone_numbers = PhoneNumberService(app.state.twilio_setups)
        app.state.use_cases = UseCaseService(rt.settings)
        app.state.ses_events = SesEventService(rt.settings, app.state.use_cases)
        app.state.sms = SmsService(
            rt.vault, build_number_provider(rt.settings), app.state.channel_accounts, rt.settings
        )
        try:
            async with sandbox_servers(app):  # sandbox mode: the SMTP and IMAP servers of /sandbox/mail
                yield
        finally:
            if runtime is None:
                await rt.close()

    app = FastAPI(title="Switchboard", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = Metrics()
    install_error_handlers(app)
    app.include_router(health_router)
    # Provider webhooks are the hot path: matched first, before the long list of API and page routes.
    app.include_router(webhooks_router)
    app.include_router(tenancy_router)
    app.include_router(channels_router)
    app.include_router(messages_router)
    app.include_router(onboarding_router)
    app.include_router(onboarding_admin_router)
    app.include_router(byom_router)
    app.include_router(outlets_router)
    app.include_router(notifications_router)
    app.include_router(ses_setup_router)
    app.include_router(twilio_setup_router)
    app.include_router(phone_number_router)
    app.include_router(twilio_callbacks_router)
    app.include_router(use_case_router)
    app.include_router(ses_events_router)
    app.include_router(channel_health_router)
    app.include_router(push_router)
    app.include_router(push_api_router)
    app.include_router(destinations_router)
    app.include_router(sms_router)
    app.include_router(sms_public_router)
    app.include_router(sms_pages)
    app.include_router(oauth_router)
    app.include_router(oauth_pages)
    # Before mount_web: /settings/channels/managed must not fall to the channel pages' /{account_id}.
    app.include_router(onboarding_pages)
    app.include_router(outlet_pages)
    app.include_router(admin_pages)
    if settings.provider_mode == "sandbox":
        mount_sandboxes(app)
    mount_web(app)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics, max_body=settings.max_body_bytes)
    return app
