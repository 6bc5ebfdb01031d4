"""The Twilio sandbox over real HTTP: accounts learnt on first use, Twilio's 401/20003, numbers an
account claims, Messages.json, status callbacks and inbound messages signed as Twilio signs them,
and nothing posted outside the platform."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.sandbox.twilio import TwilioSandbox, new_sid
from switchboard.webhooks.signatures import twilio_signature_ok
from tests.support.emulator_server import serve

NUMBER = "+14155550100"
CUSTOMER = "+14155550999"


@dataclass
class Platform:
    """Stands in for Switchboard: records every webhook it is sent."""

    url: str = ""
    received: list[tuple[str, dict[str, list[str]], str]] = field(default_factory=list)

    async def hook(self, request: Request) -> Response:
        body = (await request.body()).decode()
        signature = request.headers.get("x-twilio-signature", "")
        self.received.append((str(request.url), parse_qs(body, keep_blank_values=True), signature))
        return Response("<Response/>", media_type="text/xml")


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[TwilioSandbox, str, Platform]]:
    platform = Platform()
    receiver = Starlette(routes=[Route("/{path:path}", platform.hook, methods=["POST"])])
    with serve(receiver) as platform_url:
        platform.url = platform_url
        sandbox = TwilioSandbox(platform_url=platform_url)
        with serve(sandbox.app) as url:
            yield sandbox, url, platform


@pytest.fixture
def twilio(_servers: tuple[TwilioSandbox, str, Platform]) -> tuple[TwilioSandbox, str, Platform]:
    sandbox, url, platform = _servers
    sandbox.reset()
    sandbox.accounts.clear()
    platform.received.clear()
    return sandbox, url, platform


def _api(url: str, sid: str, token: str) -> httpx2.Client:
    return httpx2.Client(base_url=f"{url}/2010-04-01/Accounts/{sid}", auth=(sid, token), timeout=10)


def _wait_for(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_account_is_learnt_on_first_use_and_then_needs_the_same_token(
    twilio: tuple[TwilioSandbox, str, Platform],
) -> None:
    sandbox, url, _ = twilio
    sid = new_sid("AC")
    with _api(url, sid, "first-token") as api:
        r = api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER})
    assert r.status_code == 200
    [number] = r.json()["incoming_phone_numbers"]
    assert (number["phone_number"], number["account_sid"]) == (NUMBER, sid)
    assert number["sid"].startswith("PN")
    assert number["sms_url"] == f"{sandbox.platform_url}/webhooks/twilio/sms"

    with _api(url, sid, "another-token") as api:
        refused = api.get("/IncomingPhoneNumbers.json")
    assert refused.status_code == 401
    assert refused.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert refused.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"not-a-sid:token").decode(),
        "Basic " + base64.b64encode(f"{'AC' + 'a' * 32}:".encode()).decode(),  # no token
    ],
)
def test_malformed_credentials_are_20003(
    twilio: tuple[TwilioSandbox, str, Platform], authorization: str
) -> None:
    sandbox, url, _ = twilio
    headers = {"Authorization": authorization} if authorization else {}
    r = httpx2.get(f"{url}/2010-04-01/Accounts/AC{'a' * 32}.json", headers=headers, timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, 20003)
    assert sandbox.accounts == {}


def test_strict_mode_knows_only_the_accounts_it_was_given() -> None:
    sandbox = TwilioSandbox(open_mode=False)
    known = sandbox.add_account()
    with serve(sandbox.app) as url:
        stranger = new_sid("AC")
        refused = httpx2.get(f"{url}/2010-04-01/Accounts/{stranger}.json", auth=(stranger, "t"), timeout=10)
        assert refused.status_code == 401
        with _api(url, known.sid, known.auth_token) as api:
            assert api.get(f"{url}/2010-04-01/Accounts/{known.sid}.json").json()["sid"] == known.sid
            # Asking about a number does not claim it outside open mode.
            listed = api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER}).json()
    assert listed["incoming_phone_numbers"] == []


def test_a_number_held_by_another_account_is_not_yours(twilio: tuple[TwilioSandbox, str, Platform]) -> None:
    _, url, _ = twilio
    first, second = new_sid("AC"), new_sid("AC")
    with _api(url, first, "one") as api:
        api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER})
    with _api(url, second, "two") as api:
        listed = api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER}).json()
        sent = api.post("/Messages.json", data={"To": CUSTOMER, "From": NUMBER, "Body": "hi"})
    other_account = httpx2.get(
        f"{url}/2010-04-01/Accounts/{first}/IncomingPhoneNumbers.json", auth=(second, "two"), timeout=10
    )
    assert listed["incoming_phone_numbers"] == []
    assert (sent.status_code, sent.json()["code"]) == (400, 21606)
    assert (other_account.status_code, other_account.json()["code"]) == (404, 20404)


def test_a_message_is_queued_then_sent_and_delivered_with_signed_callbacks(
    twilio: tuple[TwilioSandbox, str, Platform],
) -> None:
    sandbox, url, platform = twilio
    sid, token = new_sid("AC"), "the-token"
    callback = f"{platform.url}/webhooks/twilio/sms"
    with _api(url, sid, token) as api:
        r = api.post(
            "/Messages.json",
            data={"To": CUSTOMER, "From": NUMBER, "Body": "Your table is ready", "StatusCallback": callback},
        )
        assert r.status_code == 201
        message = r.json()
        assert message["sid"].startswith("SM")
        assert (message["status"], message["from"], message["to"]) == ("queued", NUMBER, CUSTOMER)
        assert (message["direction"], message["num_segments"]) == ("outbound-api", "1")
        assert "status_callback" not in message
        _wait_for(lambda: len(platform.received) == 2)
        fetched = api.get(f"/Messages/{message['sid']}.json").json()
    assert fetched["status"] == "delivered"
    assert [params["MessageStatus"] for _, params, _ in platform.received] == [["sent"], ["delivered"]]
    for signed_url, params, signature in platform.received:
        assert signed_url == callback
        assert params["MessageSid"] == [message["sid"]]
        assert (params["AccountSid"], params["From"], params["To"]) == ([sid], [NUMBER], [CUSTOMER])
        assert twilio_signature_ok(token, callback, params, signature)
        assert not twilio_signature_ok("another-token", callback, params, signature)
    assert all(d.ok for d in sandbox.deliveries)


def test_a_messaging_service_send_is_accepted_then_queued(
    twilio: tuple[TwilioSandbox, str, Platform],
) -> None:
    _, url, platform = twilio
    service = "MG" + "b" * 32
    with _api(url, new_sid("AC"), "t") as api:
        r = api.post(
            "/Messages.json",
            data={
                "To": CUSTOMER,
                "MessagingServiceSid": service,
                "Body": "hi",
                "StatusCallback": f"{platform.url}/webhooks/twilio/sms",
            },
        )
    assert (r.status_code, r.json()["status"], r.json()["messaging_service_sid"]) == (
        201,
        "accepted",
        service,
    )
    _wait_for(lambda: len(platform.received) == 3)
    statuses = [params["MessageStatus"][0] for _, params, _ in platform.received]
    assert statuses == ["queued", "sent", "delivered"]
    assert all(params["MessagingServiceSid"] == [service] for _, params, _ in platform.received)


def test_callbacks_outside_the_platform_are_never_posted(twilio: tuple[TwilioSandbox, str, Platform]) -> None:
    sandbox, url, platform = twilio
    with _api(url, new_sid("AC"), "t") as api:
        r = api.post(
            "/Messages.json",
            data={"To": CUSTOMER, "From": NUMBER, "Body": "hi", "StatusCallback": "https://example.com/cb"},
        )
    assert r.status_code == 201
    _wait_for(lambda: len(sandbox.deliveries) == 2)
    assert platform.received == []
    assert {(d.url, d.status_code) for d in sandbox.deliveries} == {("https://example.com/cb", None)}
    assert all(d.error == "Webhooks only go to this Switchboard's own address." for d in sandbox.deliveries)


def test_a_customer_texts_a_number_and_the_platform_gets_a_signed_inbound_webhook(
    twilio: tuple[TwilioSandbox, str, Platform],
) -> None:
    _, url, platform = twilio
    sid, token = new_sid("AC"), "the-token"
    with _api(url, sid, token) as api:
        api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER})
    index = httpx2.get(f"{url}/", timeout=10)
    assert 'data-testid="sandbox-banner"' in index.text
    assert NUMBER in index.text
    assert token not in index.text
    r = httpx2.post(
        f"{url}/simulate/inbound", data={"to": NUMBER, "from": CUSTOMER, "body": "Table for two?"}, timeout=10
    )
    assert r.status_code == 200
    assert 'data-testid="delivered"' in r.text
    [(signed_url, params, signature)] = platform.received
    assert signed_url == f"{platform.url}/webhooks/twilio/sms"
    assert (params["From"], params["To"], params["Body"]) == ([CUSTOMER], [NUMBER], ["Table for two?"])
    assert (params["SmsStatus"], params["AccountSid"]) == (["received"], [sid])
    assert params["MessageSid"][0].startswith("SM")
    assert twilio_signature_ok(token, signed_url, params, signature)


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"to": "+14155550111", "from": CUSTOMER, "body": "hi"}, 404),  # nobody holds it
        ({"to": NUMBER, "from": "me", "body": "hi"}, 422),
        ({"to": NUMBER, "from": CUSTOMER, "body": ""}, 422),
    ],
)
def test_inbound_needs_a_held_number_and_a_real_message(
    twilio: tuple[TwilioSandbox, str, Platform], form: dict[str, Any], status: int
) -> None:
    _, url, platform = twilio
    with _api(url, new_sid("AC"), "t") as api:
        api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER})
    assert httpx2.post(f"{url}/simulate/inbound", data=form, timeout=10).status_code == status
    assert platform.received == []


def test_a_number_can_point_its_sms_url_elsewhere_on_the_platform(
    twilio: tuple[TwilioSandbox, str, Platform],
) -> None:
    _, url, platform = twilio
    with _api(url, new_sid("AC"), "t") as api:
        [number] = api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER}).json()[
            "incoming_phone_numbers"
        ]
        updated = api.post(
            f"/IncomingPhoneNumbers/{number['sid']}.json", data={"SmsUrl": f"{platform.url}/other"}
        )
    assert updated.json()["sms_url"] == f"{platform.url}/other"
    httpx2.post(f"{url}/simulate/inbound", data={"to": NUMBER, "from": CUSTOMER, "body": "x"}, timeout=10)
    assert [u for u, _, _ in platform.received] == [f"{platform.url}/other"]


def test_inbound_takes_json_and_answers_in_json(twilio: tuple[TwilioSandbox, str, Platform]) -> None:
    _, url, platform = twilio
    with _api(url, new_sid("AC"), "t") as api:
        api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER})
    r = httpx2.post(
        f"{url}/simulate/inbound", json={"to": NUMBER, "from": CUSTOMER, "body": "Open today?"}, timeout=10
    )
    assert r.status_code == 200
    assert (r.json()["delivered"], r.json()["webhook_status"]) == (True, 200)
    assert r.json()["message_sid"].startswith("SM")
    assert r.json()["url"] == f"{platform.url}/webhooks/twilio/sms"
    [(_, params, _)] = platform.received
    assert params["Body"] == ["Open today?"]
    bad = httpx2.post(f"{url}/simulate/inbound", json={"to": NUMBER, "from": "x", "body": "y"}, timeout=10)
    assert (bad.status_code, bad.json()["delivered"], bad.json()["field"]) == (422, False, "from")
    assert httpx2.post(f"{url}/simulate/inbound", json=["x"], timeout=10).status_code == 400


def test_inbound_to_a_number_pointing_outside_the_platform_is_not_sent(
    twilio: tuple[TwilioSandbox, str, Platform],
) -> None:
    sandbox, url, platform = twilio
    with _api(url, new_sid("AC"), "t") as api:
        [number] = api.get("/IncomingPhoneNumbers.json", params={"PhoneNumber": NUMBER}).json()[
            "incoming_phone_numbers"
        ]
        api.post(f"/IncomingPhoneNumbers/{number['sid']}.json", data={"SmsUrl": "https://example.com/sms"})
    r = httpx2.post(
        f"{url}/simulate/inbound", json={"to": NUMBER, "from": CUSTOMER, "body": "hi"}, timeout=10
    )
    assert (r.status_code, r.json()["delivered"]) == (409, False)
    assert platform.received == []
    assert [d.url for d in sandbox.deliveries] == ["https://example.com/sms"]
