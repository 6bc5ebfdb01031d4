"""OAuth 2.0 connection flows: start (state bound to the browser session, PKCE where the provider
takes it: LinkedIn), callback (code exchange, long-lived token, permission check, what can be connected),
selection (Page / Instagram account / WhatsApp number / organization), then the channel account is
created or reconnected through ChannelAccountService and verified with a real API call."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.client import OAuth2Client
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.channels.schemas import ChannelAccountCreate, ChannelAccountUpdate
from switchboard.channels.service import ChannelAccountService
from switchboard.connectors.adapter import ErrorKind, ProviderError
from switchboard.connectors.base import ChannelType
from switchboard.connectors.meta_graph import GraphClient, expiry
from switchboard.connectors.oauth2_apis import LINKEDIN_VERSION, LinkedInAdapter, TikTokAdapter, token_request
from switchboard.core.config import Settings
from switchboard.core.permissions import Permission, Principal
from switchboard.core.security import sha256_hex
from switchboard.health.service import health
from switchboard.models import ChannelAccount, OAuthState
from switchboard.oauth import providers

FLOW_OWNER = "oauth_flow"


@dataclass(frozen=True)
class FlowSpec:
    provider: str  # facebook | tiktok | linkedin (the callback path)
    provider_label: str
    scopes: tuple[str, ...]
    required: tuple[str, ...]
    choice_label: str
    pkce: bool = False


SPECS: dict[ChannelType, FlowSpec] = {
    ChannelType.MESSENGER: FlowSpec(
        "facebook",
        "Facebook",
        ("pages_show_list", "pages_messaging", "pages_manage_metadata"),
        # pages_manage_metadata: subscribing the Page to the app's webhooks needs it.
        ("pages_show_list", "pages_messaging", "pages_manage_metadata"),
        "Facebook Page",
    ),
    ChannelType.INSTAGRAM: FlowSpec(
        "facebook",
        "Facebook",
        ("instagram_basic", "instagram_manage_messages", "pages_show_list", "pages_manage_metadata"),
        ("instagram_basic", "instagram_manage_messages", "pages_show_list", "pages_manage_metadata"),
        "Instagram business account",
    ),
    ChannelType.WHATSAPP_CLOUD: FlowSpec(
        "facebook",
        "Facebook",
        ("business_management", "whatsapp_business_management", "whatsapp_business_messaging"),
        ("business_management", "whatsapp_business_management", "whatsapp_business_messaging"),
        "WhatsApp phone number",
    ),
    # TikTok API for Business account-holder scopes: account info plus Business Messaging.
    ChannelType.TIKTOK: FlowSpec(
        "tiktok",
        "TikTok",
        ("user.info.basic", "message.list.read", "message.list.send", "message.list.manage"),
        ("user.info.basic", "message.list.read", "message.list.send"),
        "TikTok business account",
    ),
    # openid: userinfo names the member, whose id keys the organization's webhook subscription;
    # rw_organization_admin: subscribing to the organization's notifications (and listing the
    # organizations the member administers).
    ChannelType.LINKEDIN: FlowSpec(
        "linkedin",
        "LinkedIn",
        ("openid", "profile", "rw_organization_admin", "w_organization_social"),
        ("openid", "rw_organization_admin", "w_organization_social"),
        "LinkedIn organization",
        True,
    ),
}
PROVIDERS = {s.provider for s in SPECS.values()}


class FlowError(Exception):
    """Ends the flow on a page that says what happened and what to do."""

    def __init__(self, title: str, what: str, todo: str, status_code: int = 400) -> None:
        super().__init__(what)
        self.title, self.what, self.todo, self.status_code = title, what, todo, status_code


START_AGAIN = "Start again from Settings → Channels → Add Channel (or Reconnect on the channel)."


def bad_state() -> FlowError:
    return FlowError(
        "This sign-in link is not valid",
        "The authorization answer does not belong to a connection started in this browser session "
        "(it may have been used already, or started elsewhere).",
        START_AGAIN,
    )


def redirect_uri(settings: Settings, provider: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/oauth/callback/{provider}"


@dataclass
class Grant:
    """What the code exchange gave us."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: set[str] = field(default_factory=set)
    subject: str | None = None  # the account the token is for, when the exchange says (TikTok open_id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _provider_failed(exc: ProviderError, spec: FlowSpec, step: str) -> FlowError:
    if exc.kind is ErrorKind.TRANSIENT:
        return FlowError(
            f"{spec.provider_label} is not answering",
            f"{step} failed for a temporary reason: {exc.message}",
            "Wait a minute, then " + START_AGAIN[0].lower() + START_AGAIN[1:],
            502,
        )
    return FlowError(
        f"{spec.provider_label} refused the connection",
        f"{step} failed: {exc.message}",
        "Authorization codes are valid for a few minutes and only once. " + START_AGAIN,
    )


class OAuthService:
    def __init__(self, accounts: ChannelAccountService) -> None:
        self.accounts = accounts
        self.vault = accounts.vault

    # --- start -----------------------------------------------------------------------------------

    async def start(
        self,
        session: AsyncSession,
        principal: Principal,
        web_session_id: uuid.UUID,
        settings: Settings,
        channel_type: ChannelType,
        *,
        name: str | None = None,
        account_id: uuid.UUID | None = None,
    ) -> str:
        """Record the flow and return the provider's authorization URL."""
        spec = SPECS[channel_type]
        if account_id is not None:
            principal.require(Permission.CHANNELS_MANAGE)
            account = await self.accounts.get(session, principal, account_id)
            if account.type != channel_type.value:
                raise FlowError("Wrong channel type", "This channel is not of that type.", START_AGAIN, 404)
            org_id = account.organization_id
        else:
            principal.require(Permission.CHANNELS_CONNECT)
            org_id = principal.owning_org(None)
        state = secrets.token_urlsafe(32)
        flow = OAuthState(
            id=uuid.uuid4(),
            organization_id=org_id,
            user_id=principal.user_id,
            web_session_id=web_session_id,
            state_hash=sha256_hex(state),
            provider=spec.provider,
            channel_type=channel_type.value,
            channel_account_id=account_id,
            pending_name=name,
            status="authorizing",
            choices={},
            expires_at=datetime.now(UTC) + timedelta(seconds=settings.oauth_state_ttl_seconds),
        )
        session.add(flow)
        await session.flush()
        if spec.provider == "facebook":
            cfg = providers.meta(settings)
            client = OAuth2Client(
                None,
                client_id=cfg.app_id,
                scope=",".join(spec.scopes),
                redirect_uri=redirect_uri(settings, "facebook"),
            )
            url, _ = client.create_authorization_url(cfg.dialog_url, state=state)
            return str(url)
        if spec.provider == "tiktok":
            # TikTok names the client id `client_key` and separates scopes with commas; its Business
            # API token exchange takes no PKCE verifier.
            ep = providers.tiktok(settings)
            query = {
                "client_key": ep.client_id,
                "response_type": "code",
                "scope": ",".join(spec.scopes),
                "redirect_uri": redirect_uri(settings, "tiktok"),
                "state": state,
            }
            return f"{ep.authorize_url}?{urlencode(query)}"
        ep = providers.linkedin(settings)
        verifier = secrets.token_urlsafe(64)
        await self.vault.put(session, FLOW_OWNER, flow.id, "code_verifier", verifier, org_id)
        # Authlib builds the URL (and the S256 challenge); no HTTP session is needed for that.
        client = OAuth2Client(
            None,
            client_id=ep.client_id,
            scope=" ".join(spec.scopes),
            redirect_uri=redirect_uri(settings, spec.provider),
            code_challenge_method="S256",
        )
        url, _ = client.create_authorization_url(ep.authorize_url, state=state, code_verifier=verifier)
        return str(url)

    # --- callback ---------------------------------------------------------------------------------

    async def _flow_for(
        self, session: AsyncSession, principal: Principal, web_session_id: uuid.UUID, flow: OAuthState | None
    ) -> OAuthState:
        if flow is None or flow.web_session_id != web_session_id or flow.user_id != principal.user_id:
            raise bad_state()
        return flow

    async def callback(
        self,
        session: AsyncSession,
        principal: Principal,
        web_session_id: uuid.UUID,
        settings: Settings,
        provider: str,
        params: dict[str, str],
    ) -> OAuthState:
        state = params.get("state", "")
        found = (
            await session.scalar(select(OAuthState).where(OAuthState.state_hash == sha256_hex(state)))
            if state
            else None
        )
        if found is not None and found.provider != provider:
            found = None
        flow = await self._flow_for(session, principal, web_session_id, found)
        spec = SPECS[ChannelType(flow.channel_type)]
        now = datetime.now(UTC)
        if flow.used_at is not None:
            raise bad_state()
        flow.used_at = now
        if flow.expires_at <= now:
            flow.status = "failed"
            raise FlowError(
                "The connection took too long",
                f"More than {settings.oauth_state_ttl_seconds // 60} minutes passed between Connect and "
                f"the answer from {spec.provider_label}.",
                START_AGAIN,
            )
        if params.get("error"):
            flow.status = "failed"
            denied = params["error"] in ("access_denied", "user_cancelled_authorize", "user_cancelled_login")
            if denied:
                raise FlowError(
                    "Connection cancelled",
                    f"You declined the request on {spec.provider_label}, so Switchboard received no access.",
                    f"To connect, start again and choose Continue on the {spec.provider_label} page. "
                    + START_AGAIN,
                )
            raise FlowError(
                f"{spec.provider_label} reported an error",
                f"{spec.provider_label} answered: {params.get('error_description') or params['error']}.",
                START_AGAIN,
            )
        code = params.get("code", "")
        if not code:
            raise bad_state()
        grant = await self._exchange(session, settings, flow, spec, code)
        missing = [s for s in spec.required if s not in grant.scopes]
        if missing:
            flow.status = "failed"
            raise FlowError(
                "A permission is missing",
                f"{spec.provider_label} did not grant: {', '.join(missing)}. Switchboard needs "
                f"{'it' if len(missing) == 1 else 'them'} to connect this channel.",
                f"Start again and leave {', '.join(missing)} allowed on the {spec.provider_label} page.",
            )
        items = await self._choices(settings, ChannelType(flow.channel_type), grant)
        if not items:
            flow.status = "failed"
            raise FlowError(
                f"No {spec.choice_label} to connect",
                f"The {spec.provider_label} account you signed in with shared no {spec.choice_label}.",
                f"Check that you manage a {spec.choice_label} and allow access to it on the "
                f"{spec.provider_label} page. " + START_AGAIN,
            )
        org = flow.organization_id
        await self.vault.put(session, FLOW_OWNER, flow.id, "access_token", grant.access_token, org)
        if grant.refresh_token:
            await self.vault.put(session, FLOW_OWNER, flow.id, "refresh_token", grant.refresh_token, org)
        await self.vault.remove(session, FLOW_OWNER, flow.id, "code_verifier")
        flow.choices = {"items": items, "expires_at": _iso(grant.expires_at)}
        flow.status = "selecting"
        flow.expires_at = now + timedelta(seconds=settings.oauth_state_ttl_seconds)
        await session.flush()
        return flow

    async def _exchange(
        self, session: AsyncSession, settings: Settings, flow: OAuthState, spec: FlowSpec, code: str
    ) -> Grant:
        uri = redirect_uri(settings, spec.provider)
        try:
            if spec.provider == "facebook":
                graph = GraphClient(providers.meta(settings))
                short = await graph.exchange_code(code, uri)
                long = await graph.long_lived(str(short["access_token"]))
                token = str(long["access_token"])
                perms = await graph.get("me/permissions", token)
                granted = {
                    str(p.get("permission")) for p in perms.get("data") or [] if p.get("status") == "granted"
                }
                return Grant(token, None, expiry(long), granted)
            if spec.provider == "tiktok":
                body = await TikTokAdapter(settings).exchange_code(code, uri)
            else:
                verifier = await self.vault.get(session, FLOW_OWNER, flow.id, "code_verifier") or ""
                body = await token_request(
                    providers.linkedin(settings),
                    "client_id",
                    {
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": uri,
                        "code_verifier": verifier,
                    },
                )
            if not body.get("access_token"):
                raise ProviderError("The token answer has no access token.", kind=ErrorKind.PERMANENT)
        except ProviderError as exc:
            flow.status = "failed"
            raise _provider_failed(exc, spec, "Exchanging the authorization code") from exc
        scopes = {s for s in str(body.get("scope", "")).replace(" ", ",").split(",") if s}
        subject = str(body["open_id"]) if body.get("open_id") else None
        return Grant(str(body["access_token"]), body.get("refresh_token"), expiry(body), scopes, subject)

    async def _choices(
        self, settings: Settings, channel_type: ChannelType, grant: Grant
    ) -> list[dict[str, Any]]:
        spec = SPECS[channel_type]
        try:
            return await self._list(settings, channel_type, grant.access_token, grant.subject)
        except ProviderError as exc:
            raise _provider_failed(exc, spec, f"Listing your {spec.choice_label}s") from exc

    async def _list(
        self, settings: Settings, channel_type: ChannelType, token: str, subject: str | None = None
    ) -> list[dict[str, Any]]:
        if channel_type in (ChannelType.MESSENGER, ChannelType.INSTAGRAM, ChannelType.WHATSAPP_CLOUD):
            graph = GraphClient(providers.meta(settings))
            if channel_type is ChannelType.MESSENGER:
                pages = await graph.get("me/accounts", token, fields="name,access_token")
                return [
                    {"id": str(p["id"]), "label": str(p.get("name") or p["id"])}
                    for p in pages.get("data") or []
                ]
            if channel_type is ChannelType.INSTAGRAM:
                pages = await graph.get(
                    "me/accounts", token, fields="name,access_token,instagram_business_account"
                )
                items = []
                for p in pages.get("data") or []:
                    ig = (p.get("instagram_business_account") or {}).get("id")
                    if ig:
                        node = await graph.get(str(ig), str(p["access_token"]), fields="username")
                        label = f"@{node.get('username')} (Page {p.get('name')})"
                        items.append(
                            {
                                "id": str(ig),
                                "label": label,
                                "page_id": str(p["id"]),
                                "username": node.get("username"),
                            }
                        )
                return items
            items = []
            for biz in (await graph.get("me/businesses", token)).get("data") or []:
                wabas = await graph.get(f"{biz['id']}/owned_whatsapp_business_accounts", token)
                for waba in wabas.get("data") or []:
                    numbers = await graph.get(f"{waba['id']}/phone_numbers", token)
                    for n in numbers.get("data") or []:
                        label = (
                            f"{n.get('display_phone_number')} — {n.get('verified_name')} ({waba.get('name')})"
                        )
                        items.append(
                            {
                                "id": str(n["id"]),
                                "label": label,
                                "waba_id": str(waba["id"]),
                                "display_phone_number": str(n.get("display_phone_number") or ""),
                            }
                        )
            return items
        if channel_type is ChannelType.TIKTOK:
            if not subject:  # the token exchange names the Business Account (open_id)
                return []
            account = await TikTokAdapter(settings).business_account(token, subject)
            label = account.get("display_name") or account.get("username") or subject
            return [{"id": subject, "label": str(label)}]
        li = LinkedInAdapter(settings)
        acls = await li.get(
            "/rest/organizationAcls",
            token,
            {"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"},
        )
        items = []
        for el in acls.get("elements") or []:
            urn = str(el.get("organization", ""))
            org = await li.get(f"/rest/organizations/{urn.rsplit(':', 1)[-1]}", token)
            items.append({"id": urn, "label": str(org.get("localizedName") or urn)})
        return items

    # --- selection --------------------------------------------------------------------------------

    async def pending(
        self, session: AsyncSession, principal: Principal, web_session_id: uuid.UUID, flow_id: uuid.UUID
    ) -> OAuthState:
        flow = await self._flow_for(
            session, principal, web_session_id, await session.get(OAuthState, flow_id)
        )
        if flow.status != "selecting":
            raise bad_state()
        if flow.expires_at <= datetime.now(UTC):
            raise FlowError("The connection took too long", "The selection step expired.", START_AGAIN)
        return flow

    async def select(
        self,
        session: AsyncSession,
        principal: Principal,
        web_session_id: uuid.UUID,
        settings: Settings,
        flow_id: uuid.UUID,
        choice_id: str,
    ) -> ChannelAccount:
        """Create (or reconnect) the channel with the chosen item, then verify it with an API call."""
        flow = await self.pending(session, principal, web_session_id, flow_id)
        channel_type = ChannelType(flow.channel_type)
        spec = SPECS[channel_type]
        item = next((i for i in flow.choices.get("items", []) if i["id"] == choice_id), None)
        if item is None:
            raise FlowError(
                f"Choose a {spec.choice_label}",
                f"Pick one of the listed {spec.choice_label}s.",
                "Go back and choose one.",
                422,
            )
        token = await self.vault.get(session, FLOW_OWNER, flow.id, "access_token") or ""
        refresh = await self.vault.get(session, FLOW_OWNER, flow.id, "refresh_token")
        expires = flow.choices.get("expires_at")
        try:
            plain, creds = await self._credentials(settings, channel_type, item, token, refresh, expires)
        except ProviderError as exc:
            raise _provider_failed(exc, spec, f"Reading the {spec.choice_label}") from exc
        if flow.channel_account_id is None:
            data = ChannelAccountCreate(
                name=flow.pending_name or item["label"][:100],
                type=channel_type,
                settings=plain,
                credentials=creds,
            )
            account = await self.accounts.create(session, principal, data)
            action = "connect"
        else:
            account = await self.accounts.update(
                session,
                principal,
                flow.channel_account_id,
                ChannelAccountUpdate(settings=plain, credentials=creds),
            )
            action = "reconnect"
        attempt = await health.run(session, self.vault, settings, account, action, actor=principal)
        if not attempt.ok:
            raise FlowError(
                "The connection could not be verified",
                f"{spec.provider_label} did not accept the new credentials: {attempt.message}",
                START_AGAIN,
                502,
            )
        flow.status = "done"
        flow.channel_account_id = account.id
        await self.vault.remove(session, FLOW_OWNER, flow.id)
        await session.flush()
        return account

    async def _credentials(
        self,
        settings: Settings,
        channel_type: ChannelType,
        item: dict[str, Any],
        token: str,
        refresh: str | None,
        expires: str | None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        if channel_type in (ChannelType.MESSENGER, ChannelType.INSTAGRAM):
            graph = GraphClient(providers.meta(settings))
            pages = await graph.get(
                "me/accounts", token, fields="name,access_token,instagram_business_account"
            )
            page_id = item["id"] if channel_type is ChannelType.MESSENGER else item["page_id"]
            page = next((p for p in pages.get("data") or [] if str(p["id"]) == page_id), None)
            if page is None:
                raise ProviderError(
                    "the Page is no longer shared with Switchboard", kind=ErrorKind.NEEDS_ACTION
                )
            if channel_type is ChannelType.MESSENGER:
                return {"page_id": page_id, "page_name": str(page.get("name") or "")[:200]}, {
                    "page_access_token": str(page["access_token"])
                }
            return (
                {
                    "instagram_business_account_id": item["id"],
                    "username": item.get("username"),
                    "page_id": page_id,
                },
                {"access_token": str(page["access_token"])},
            )
        if channel_type is ChannelType.WHATSAPP_CLOUD:
            display = "+" + "".join(c for c in item.get("display_phone_number", "") if c.isdigit())
            plain = {
                "waba_id": item["waba_id"],
                "phone_number_id": item["id"],
                "display_phone_number": display if len(display) > 1 else None,
                "access_token_expires_at": expires,
            }
            return plain, {"access_token": token}
        creds = {"access_token": token, **({"refresh_token": refresh} if refresh else {})}
        if channel_type is ChannelType.TIKTOK:
            return {
                "business_id": item["id"],
                "display_name": item["label"][:100],
                "access_token_expires_at": expires,
            }, creds
        return {"organization_urn": item["id"], "access_token_expires_at": expires}, creds


__all__ = ["FLOW_OWNER", "LINKEDIN_VERSION", "PROVIDERS", "SPECS", "FlowError", "OAuthService"]
