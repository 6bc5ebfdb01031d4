"""The runtime adapters of the OAuth/QR types against the emulators: webhooks for every Meta type
through the platform endpoint (stored, routed to the right account), parsing, and sends in each
provider's wire format."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from fastapi.testclient import TestClient

from switchboard.connectors.adapter import AccountContext, ErrorKind, ProviderError, get_adapter
from switchboard.connectors.base import ChannelType
from switchboard.connectors.meta_graph import graph_error
from switchboard.connectors.oauth2_apis import tiktok_error
from tests.support.oauth_env import Providers, account_by_name, connect, provider_settings
from tests.support.tenants import Tenant
from tests.support.web import Browser, allow_byom
from tests.support.webhook_rows import events


def _post_meta(client: TestClient, providers: Providers, payload: dict[str, Any]) -> int:
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": providers.meta.sign(body)}
    return client.post("/webhooks/meta", content=body, headers=headers).status_code


def test_instagram_and_whatsapp_cloud_webhooks_reach_their_accounts(
    web: Browser, oauth_client: TestClient, tenant: Tenant, providers: Providers, db: Any
) -> None:
    allow_byom(db, tenant.organization_id)
    web.login(tenant)
    connect(web, "instagram", "IG")
    connect(web, "whatsapp_cloud", "WA")
    ig = account_by_name(oauth_client, tenant.headers, "IG")
    wa = account_by_name(oauth_client, tenant.headers, "WA")
    ig_id = ig["settings"]["instagram_business_account_id"]
    assert (
        _post_meta(
            oauth_client,
            providers,
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": ig_id,
                        "time": 1,
                        "messaging": [
                            {
                                "sender": {"id": "9"},
                                "recipient": {"id": ig_id},
                                "message": {"mid": "ig1", "text": "x"},
                            }
                        ],
                    }
                ],
            },
        )
        == 200
    )
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": wa["settings"]["phone_number_id"]},
        "messages": [
            {
                "from": "14155550999",
                "id": "wamid.in1",
                "timestamp": "1700000000",
                "type": "text",
                "text": {"body": "hello"},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "3010000000001", "changes": [{"field": "messages", "value": value}]}],
    }
    assert _post_meta(oauth_client, providers, payload) == 200
    stored = {str(e.channel_account_id) for e in events(db)}
    assert stored == {ig["id"], wa["id"]}
    forged = oauth_client.post(
        "/webhooks/meta",
        content=json.dumps(payload).encode(),
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert forged.status_code == 401


def _ctx(settings: dict[str, Any], secrets: dict[str, str]) -> AccountContext:
    return AccountContext(uuid.uuid4(), uuid.uuid4(), settings, secrets)


def test_sends_use_each_providers_wire_format(providers: Providers) -> None:
    # A portal thread runs the coroutines, so this works whatever event loop the main thread has.
    with start_blocking_portal() as portal:
        portal.call(_sends, providers)


async def _sends(providers: Providers) -> None:
    from switchboard.core.config import get_settings

    settings = provider_settings(get_settings(), providers, "http://testserver")
    wa = get_adapter(ChannelType.WHATSAPP_CLOUD, settings)
    assert wa is not None
    ctx = _ctx({"phone_number_id": "4010000000001"}, {"access_token": providers.meta.system_user_token})
    result = await wa.send(ctx, "+14155550999", {"text": "Hi there"})
    assert result.provider_message_id.startswith("wamid.")
    sent = providers.meta.sent[-1]
    assert sent["messaging_product"] == "whatsapp"
    assert sent["type"] == "text"
    assert sent["text"]["body"] == "Hi there"
    assert sent["to"] == "+14155550999"

    lite = providers.lite
    created = await get_adapter(ChannelType.WHATSAPP_LITE, settings).start_pairing("S1", "+14155550130")  # type: ignore[union-attr]
    lite._pair(created["session_id"])
    lite_ctx = _ctx({}, {"session_token": created["session_token"]})
    out = await get_adapter(ChannelType.WHATSAPP_LITE, settings).send(
        lite_ctx, "+14155550999", {"text": "yo"}
    )  # type: ignore[union-attr]
    assert out.provider_message_id.startswith("wl_")
    assert lite.sent[-1]["text"] == {"body": "yo"}

    tiktok = get_adapter(ChannelType.TIKTOK, settings)
    assert tiktok is not None
    grant = providers.tiktok._mint(["message.list.send"])  # a token as the exchange would issue
    token = json.loads(bytes(grant.body))["data"]["access_token"]
    tt_ctx = _ctx({"business_id": providers.tiktok.subject}, {"access_token": token})
    reply = await tiktok.send(tt_ctx, "conv-42", {"text": "Thanks for asking"})
    assert reply.provider_message_id.startswith("ttm_")
    assert providers.tiktok.sent[-1] == {
        "business_id": providers.tiktok.subject,
        "recipient_type": "CONVERSATION",
        "recipient": "conv-42",
        "message_type": "TEXT",
        "text": {"body": "Thanks for asking"},
    }
    with pytest.raises(ProviderError) as refused:
        await tiktok.send(
            _ctx({"business_id": providers.tiktok.subject}, {"access_token": "x"}), "c", {"text": "t"}
        )
    assert refused.value.kind is ErrorKind.NEEDS_ACTION  # code 40105: invalid access token


def test_whatsapp_and_messenger_webhooks_parse_messages_and_receipts(providers: Providers) -> None:
    from switchboard.core.config import get_settings

    settings = provider_settings(get_settings(), providers, "http://testserver")
    wa = get_adapter(ChannelType.WHATSAPP_CLOUD, settings)
    ms = get_adapter(ChannelType.MESSENGER, settings)
    assert wa is not None
    assert ms is not None
    ctx = _ctx({}, {})
    value = {
        "messages": [{"from": "1415", "id": "wamid.a", "timestamp": "1700000000", "text": {"body": "hi"}}],
        "statuses": [
            {"id": "wamid.b", "status": "delivered", "recipient_id": "1415", "timestamp": "1700000001"}
        ],
    }
    parsed = wa.parse_webhook(ctx, {"entry": [{"changes": [{"value": value}]}]})
    assert [(e.kind, e.provider_message_id, e.text) for e in parsed] == [
        ("message", "wamid.a", "hi"),
        ("delivery", "wamid.b", None),
    ]
    messaging = [
        {"sender": {"id": "7"}, "timestamp": 1700000000000, "message": {"mid": "m1", "text": "yo"}},
        {"sender": {"id": "7"}, "timestamp": 1700000000000, "read": {"watermark": 1}},
    ]
    parsed = ms.parse_webhook(ctx, {"entry": [{"messaging": messaging}]})
    assert [(e.kind, e.sender, e.text) for e in parsed] == [("message", "7", "yo"), ("read", "7", None)]


def test_tiktok_business_messaging_webhooks_parse(providers: Providers) -> None:
    from switchboard.core.config import get_settings

    tiktok = get_adapter(
        ChannelType.TIKTOK, provider_settings(get_settings(), providers, "http://testserver")
    )
    assert tiktok is not None
    ctx = _ctx({}, {})
    parsed = []
    for event in ("im_receive_msg", "im_send_msg"):
        body, _ = providers.tiktok.message_event("hello", "conv-42", event=event)
        parsed += tiktok.parse_webhook(ctx, json.loads(body))
    content = {"conversation_id": "conv-42", "read": {"last_read_timestamp": 1700000000123}}
    read = {"event": "im_mark_read_msg", "create_time": 1700000000, "content": json.dumps(content)}
    parsed += tiktok.parse_webhook(ctx, read)
    assert [(e.kind, e.sender, e.text, e.raw["thread_key"]) for e in parsed] == [
        ("message", "conv-42", "hello", "conv-42"),  # replies go to the conversation
        ("other", "conv-42", "hello", "conv-42"),  # our own send, echoed: not stored
        ("read", "conv-42", None, "conv-42"),
    ]
    assert parsed[0].provider_message_id.startswith("ttm_")
    assert parsed[2].occurred_at is not None
    assert parsed[2].occurred_at.year == 2023


@pytest.mark.parametrize(
    ("code", "kind"),
    [(40105, ErrorKind.NEEDS_ACTION), (40107, ErrorKind.NEEDS_ACTION), (40100, ErrorKind.TRANSIENT),
     (51000, ErrorKind.TRANSIENT), (40002, ErrorKind.PERMANENT)],
)  # fmt: skip
def test_tiktok_return_codes_are_classified(code: int, kind: ErrorKind) -> None:
    assert tiktok_error(code, "m").kind is kind


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, 190, ErrorKind.NEEDS_ACTION),
        (403, 200, ErrorKind.NEEDS_ACTION),
        (400, 4, ErrorKind.TRANSIENT),
        (500, 2, ErrorKind.TRANSIENT),
        (400, 100, ErrorKind.PERMANENT),
    ],
)
def test_graph_errors_are_classified_so_blips_never_disconnect(
    status: int, code: int, kind: ErrorKind
) -> None:
    err = graph_error(status, {"error": {"message": "m", "code": code}})
    assert isinstance(err, ProviderError)
    assert err.kind is kind


@pytest.mark.parametrize(("code", "subcode"), [(10, 2018278), (100, 2018001), (551, None), (200, 1545041)])
def test_a_refusal_for_one_recipient_fails_the_send_not_the_channel(code: int, subcode: int | None) -> None:
    """Outside the 24-hour window or an unreachable person: permanent, never "reauthorize"."""
    err = graph_error(400, {"error": {"message": "m", "code": code, "error_subcode": subcode}})
    assert err.kind is ErrorKind.PERMANENT
