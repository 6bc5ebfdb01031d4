"""The `switchboard` command."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from switchboard.core.config import get_settings
from switchboard.core.db import session_scope
from switchboard.core.runtime import Runtime

app = typer.Typer(help="Switchboard: channel management for messaging platforms.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
admin_app = typer.Typer(help="Platform admins.", no_args_is_help=True)
vault_app = typer.Typer(help="The credential vault.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(admin_app, name="admin")
app.add_typer(vault_app, name="vault")

T = TypeVar("T")


def _run(fn: Callable[[Runtime], Awaitable[T]]) -> T:
    async def main() -> T:
        rt = Runtime.create(get_settings())
        try:
            return await fn(rt)
        finally:
            await rt.close()

    return asyncio.run(main())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Serve the API and the pages."""
    import uvicorn

    from switchboard.app import create_app

    uvicorn.run(create_app(), host=host, port=port, proxy_headers=True, log_config=None)


@app.command()
def worker(threads: Annotated[int, typer.Option(help="Worker threads")] = 2) -> None:
    """Run the job worker (Huey consumer)."""
    import switchboard.jobs  # noqa: F401  (registers every task)
    from switchboard.core.observability import configure_logging
    from switchboard.core.queue import huey

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)

    # Locks of a worker that died would otherwise block their periodic job forever (SQLite storage).
    consumer = huey.create_consumer(
        workers=threads, worker_type="thread", periodic=True, backoff=1.15, flush_locks=True
    )
    consumer.run()


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from switchboard.core.migrate import upgrade

    upgrade()
    typer.echo("database is up to date")


def _print_created(data: dict[str, str | None], as_json: bool, what: str) -> None:
    if as_json:
        typer.echo(json.dumps(data))
    else:
        typer.echo(f"{what} created.")
        for k, v in data.items():
            typer.echo(f"  {k}: {v}")
        typer.echo("The API key is shown only once: store it now.")


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Option("--name", help="Organization name")],
    admin_email: Annotated[str, typer.Option("--admin-email", help="First admin's email")],
    password: Annotated[str | None, typer.Option("--password", help="Web login password")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create an organization with its first workspace admin and an API key."""
    from switchboard.tenancy.service import tenancy

    async def go(rt: Runtime) -> dict[str, str | None]:
        async for session in session_scope(rt.sessionmaker):
            created = await tenancy.create_organization(session, name, admin_email, password)
        return {
            "organization_id": str(created.organization_id),
            "user_id": str(created.user_id),
            "api_key": created.api_key,
        }

    _print_created(_run(go), as_json, "Organization")


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Option("--email", help="Admin email")],
    password: Annotated[str | None, typer.Option("--password", help="Web login password")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create a platform admin and an API key."""
    from switchboard.tenancy.service import tenancy

    async def go(rt: Runtime) -> dict[str, str | None]:
        async for session in session_scope(rt.sessionmaker):
            created = await tenancy.create_platform_admin(session, email, password)
        return {"organization_id": None, "user_id": str(created.user_id), "api_key": created.api_key}

    _print_created(_run(go), as_json, "Platform admin")


@vault_app.command("rotate-key")
def vault_rotate_key() -> None:
    """Add a new vault key and re-encrypt every secret under it, in batches, while the service runs."""

    async def go(rt: Runtime) -> tuple[str, int]:
        kid = rt.vault.keyring.add_active_key()
        total = 0
        while True:
            async for session in session_scope(rt.sessionmaker):
                n = await rt.vault.reencrypt_batch(session)
            total += n
            if n == 0:
                return kid, total

    kid, total = _run(go)
    typer.echo(f"active vault key is now {kid}; re-encrypted {total} secrets")


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when users exist")] = False,
) -> None:
    """Create a demo platform admin and a demo tenant you can log in with."""
    from sqlalchemy import func, select

    from switchboard.core.permissions import Principal, Role
    from switchboard.models import User
    from switchboard.tenancy.byom import GATED, byom
    from switchboard.tenancy.service import tenancy

    password = "switchboard-demo"

    async def go(rt: Runtime) -> dict[str, str] | None:
        async for session in session_scope(rt.sessionmaker):
            if if_empty and (await session.scalar(select(func.count()).select_from(User)) or 0) > 0:
                return None
            admin = await tenancy.create_platform_admin(session, "admin@demo.switchboard", password)
            org = await tenancy.create_organization(
                session, "Demo Tenant", "owner@demo.switchboard", password
            )
            if rt.settings.provider_mode == "sandbox" and org.organization_id is not None:
                # Offline, every channel type can be connected against the sandbox providers,
                # so the demo tenant may bring its own of each gated family.
                acting = Principal(admin.user_id, "admin@demo.switchboard", Role.PLATFORM_ADMIN, None, "cli")
                await byom.set_flags(session, acting, org.organization_id, dict.fromkeys(GATED, True))
        return {"admin_key": admin.api_key, "tenant_key": org.api_key}

    result = _run(go)
    if result is None:
        typer.echo("Users exist already; demo data not created.")
        return
    typer.echo("Demo data created. Log in at /login with:")
    typer.echo(f"  platform admin  admin@demo.switchboard / {password}")
    typer.echo(f"  tenant admin    owner@demo.switchboard / {password}")
    typer.echo(f"  tenant API key  {result['tenant_key']}")
    typer.echo(f"  admin API key   {result['admin_key']}")


if __name__ == "__main__":
    app()
