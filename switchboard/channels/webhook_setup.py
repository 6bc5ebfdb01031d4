"""Where each channel type's webhooks arrive, who gives that URL to the provider, and how the
provider signs them: the channel page's Webhook card and `webhook_url` in the API.

Per-account URLs are `/webhooks/<account id>`; providers that call one URL per developer app (the
platform's Meta, TikTok and LinkedIn apps) post to a platform route and name the account in the
payload. Wire formats: docs/connections.md, "Wire formats and their sources".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from switchboard.connectors.base import ChannelType


class Registration(StrEnum):
    TENANT = "tenant"  # the tenant pastes the URL in the provider's console
    PLATFORM = "platform"  # set once for the platform's own app; the payload names the account
    AUTOMATIC = "automatic"  # the adapter registers it on connect (Test connection)


@dataclass(frozen=True)
class WebhookSetup:
    registration: Registration
    provider_term: str  # what the provider calls the URL
    where: str  # where it is pasted (or how it gets there)
    signature: str  # how deliveries are signed and checked
    app_path: str | None = None  # platform route, e.g. "/webhooks/linkedin"; None: per account
    note: str = ""

    @property
    def manual(self) -> bool:
        return self.registration is not Registration.AUTOMATIC


_META_SIGNATURE = (
    "X-Hub-Signature-256: sha256= + hex HMAC-SHA256 of the raw body, keyed with the Meta app secret."
)
_META_WHERE = (
    "Connecting subscribes {page} to the platform's Meta app (POST /{{page-id}}/subscribed_apps), "
    "and Test connection does it again if it was removed. Meta posts every account's events to the "
    "app's one callback URL and names the {what}; this channel receives those for its own {what}."
)
_META_NOTE = (
    "The URL itself is the platform Meta app's: the platform operator sets it once (App Dashboard → "
    "Webhooks, with the verify token SWITCHBOARD_META_VERIFY_TOKEN)."
)

SETUPS: dict[ChannelType, WebhookSetup] = {
    ChannelType.WHATSAPP_LITE: WebhookSetup(
        Registration.TENANT,
        "Webhook URL (delivery and user-reply webhooks)",
        "In the AppGain dashboard, in the WhatsApp Lite channel's webhook settings of your project.",
        "X-Lite-Signature: sha256= + hex HMAC-SHA256 of the raw body, keyed with the paired "
        "session's token (the gateway contract we assume, to be confirmed with AppGain).",
    ),
    ChannelType.SHOPIFY_INBOX: WebhookSetup(
        Registration.TENANT,
        "Webhook subscription endpoint",
        "Subscribe it from your custom app: in the app's webhook configuration, or with the Admin "
        "API (webhookSubscriptionCreate) using the app's token.",
        "X-Shopify-Hmac-SHA256: base64 HMAC-SHA256 of the raw body, keyed with the app's client "
        "secret; X-Shopify-Webhook-Id is the replay key.",
        note="Not under Settings → Notifications → Webhooks: Shopify signs those with another key, "
        "so they would be refused.",
    ),
    ChannelType.RCS: WebhookSetup(
        Registration.TENANT,
        "Agent webhook (URL and client token)",
        "RCS for Business Developer Console → your agent → Integrations → Webhook (or the RBM "
        "Management API's createWebhookIntegration): this URL, and the webhook client token saved "
        "on this channel.",
        "X-Goog-Signature: base64 HMAC-SHA512 of the decoded message.data, keyed with the client "
        "token. RBM first checks the URL by posting the token and a secret, which this URL answers.",
    ),
    ChannelType.LINKEDIN: WebhookSetup(
        Registration.AUTOMATIC,
        "Webhook (Organization Social Action Notifications)",
        "Connecting (and Test connection) subscribes the organization to LinkedIn's notifications at "
        "this URL, in the name of the administrator who connected it (LinkedIn's eventSubscriptions "
        "API); the health check notices when LinkedIn has dropped the subscription. Notifications "
        "name the organization (organizationalEntity); this channel receives those for its "
        "organization URN.",
        "X-LI-Signature: hex HMAC-SHA256 of “hmacsha256=” + the raw body, keyed with the app's "
        "client secret.",
        app_path="/webhooks/linkedin",
        note="The URL itself is the platform LinkedIn app's: the platform operator registers it once "
        "(Developer Portal → the app → Webhooks), and LinkedIn validates it with a GET carrying "
        "challengeCode, which this URL answers, and again every 2 hours.",
    ),
    ChannelType.TIKTOK: WebhookSetup(
        Registration.PLATFORM,
        "Callback URL (Business Messaging webhook)",
        "Set once for the platform's TikTok for Business app by the platform operator. Events name "
        "the Business Account (user_openid); this channel receives those for its business id.",
        "TikTok-Signature: t=<timestamp>,s=<hex HMAC-SHA256 of “<t>.” + the raw body>, keyed with "
        "the app secret.",
        app_path="/webhooks/tiktok",
    ),
    ChannelType.MESSENGER: WebhookSetup(
        Registration.AUTOMATIC,
        "Callback URL (Page webhooks)",
        _META_WHERE.format(what="Page", page="the Page"),
        _META_SIGNATURE,
        app_path="/webhooks/meta",
        note=_META_NOTE,
    ),
    ChannelType.INSTAGRAM: WebhookSetup(
        Registration.AUTOMATIC,
        "Callback URL (Instagram webhooks)",
        _META_WHERE.format(what="Instagram account", page="its linked Facebook Page"),
        _META_SIGNATURE,
        app_path="/webhooks/meta",
        note=_META_NOTE,
    ),
    ChannelType.WHATSAPP_CLOUD: WebhookSetup(
        Registration.AUTOMATIC,
        "Callback URL (WhatsApp Business Account webhooks)",
        "Connecting subscribes the WhatsApp Business Account to the platform's Meta app, whose "
        "callback URL this is.",
        _META_SIGNATURE,
        app_path="/webhooks/meta",
    ),
    ChannelType.TELEGRAM: WebhookSetup(
        Registration.AUTOMATIC,
        "Webhook (setWebhook)",
        "Test connection registers it with Telegram (setWebhook) with a generated secret token.",
        "X-Telegram-Bot-Api-Secret-Token: the secret token given to setWebhook.",
    ),
    ChannelType.SHRINKIT_PUSH: WebhookSetup(
        Registration.AUTOMATIC,
        "Receipt webhook",
        "Test connection registers it with ShrinkIt with a generated secret.",
        "X-ShrinkIt-Signature: sha256= + hex HMAC-SHA256 of the raw body, keyed with that secret.",
    ),
    ChannelType.SMS: WebhookSetup(
        Registration.AUTOMATIC,
        "Status callback",
        "Every message sent names it as its StatusCallback.",
        "X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted parameters, keyed with the "
        "account's auth token.",
        app_path="/webhooks/twilio/sms",
    ),
}
# Email (IMAP polling) and Web Push (no inbound) receive no webhooks.


def setup_for(channel_type: ChannelType | str) -> WebhookSetup | None:
    return SETUPS.get(ChannelType(channel_type))


def webhook_url(public_base_url: str, channel_type: ChannelType | str, account_id: uuid.UUID) -> str | None:
    """The URL the provider posts this account's webhooks to; None for types that receive none."""
    setup = setup_for(channel_type)
    if setup is None:
        return None
    return public_base_url.rstrip("/") + (setup.app_path or f"/webhooks/{account_id}")
