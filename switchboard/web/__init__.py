"""Server-rendered pages. Bootstrap's CSS and JS are served from the installed package."""

from __future__ import annotations

from pathlib import Path

import bootstrap
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def mount_web(app: FastAPI) -> None:
    # Imported here: domain page modules import switchboard.web.*, so a top-level import would cycle.
    from switchboard.channels.pages import router as channel_pages
    from switchboard.email.pages import router as email_pages
    from switchboard.usecases.pages import router as use_case_pages
    from switchboard.voice.pages import router as voice_pages
    from switchboard.web.endpoints import router as web_router

    app.mount(
        "/static/bootstrap", StaticFiles(directory=Path(next(iter(bootstrap.__path__)))), name="bootstrap"
    )
    app.mount("/static/app", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(web_router)
    app.include_router(channel_pages)
    app.include_router(email_pages)
    app.include_router(use_case_pages)
    app.include_router(voice_pages)
