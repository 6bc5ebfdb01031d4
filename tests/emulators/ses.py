"""A small Amazon SES v2 emulator for tests, served over real HTTP on 127.0.0.1.

moto's server implements identities, configuration sets and dedicated IP pools,
so those requests are forwarded to moto's in-process WSGI app. What moto lacks
(checked against the installed moto, see PROVIDERS.md section 1) is added here:

- DKIM tokens on Create/GetEmailIdentity (moto returns none) and a PENDING
  verification state that tests can flip with ``set_identity_status``;
- PutEmailIdentityMailFromAttributes and MailFromAttributes on GetEmailIdentity;
- PutConfigurationSetDeliveryOptions (overlaid on GetConfigurationSet);
- the tenant operations (Create/Get/Delete/ListTenants, tenant resource
  associations and their listings);
- SES's errors where moto diverges: AlreadyExistsException on duplicate
  identities and pools (moto accepts them silently), on duplicate
  configuration sets (moto answers with the SES v1 code), NotFoundException on
  deleting a missing identity (moto answers 200) or configuration set (moto
  answers 500), and on a configuration set naming a missing sending pool;
- fault injection (5xx / throttling) and a request log.

Errors use the rest-json shape botocore parses: body
``{"__type": ..., "message": ...}`` plus an ``x-amzn-ErrorType`` header, with
the status codes from the service model (AlreadyExistsException is 400 there,
NotFoundException 404, TooManyRequestsException 429).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

JsonDict = dict[str, Any]

_TENANT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_AUTH_REGION = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")
_MAIL_FROM_BEHAVIOURS = {"USE_DEFAULT_VALUE", "REJECT_MESSAGE"}


class EmulatorError(Exception):
    """An AWS-style error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _not_found(message: str) -> EmulatorError:
    return EmulatorError(404, "NotFoundException", message)


def _already_exists(message: str) -> EmulatorError:
    return EmulatorError(400, "AlreadyExistsException", message)


def _bad_request(message: str) -> EmulatorError:
    return EmulatorError(400, "BadRequestException", message)


def _dkim_token() -> str:
    # Same shape as SES's tokens: 32 lowercase base32 characters.
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()


@dataclass
class EmulatedIdentity:
    name: str
    region: str
    dkim_tokens: list[str]
    dkim_status: str = "PENDING"
    verification_status: str = "PENDING"
    mail_from_domain: str | None = None
    mail_from_status: str = "PENDING"
    behavior_on_mx_failure: str = "USE_DEFAULT_VALUE"

    @property
    def is_domain(self) -> bool:
        return "@" not in self.name


@dataclass
class EmulatedConfigurationSet:
    name: str
    sending_pool_name: str | None
    tls_policy: str | None = None
    max_delivery_seconds: int | None = None


@dataclass
class EmulatedTenant:
    name: str
    tenant_id: str
    arn: str
    created: float
    tags: list[JsonDict]
    sending_status: str = "ENABLED"
    # resource ARN -> association time
    resources: dict[str, float] = field(default_factory=dict)


@dataclass
class Fault:
    status: int
    code: str
    remaining: int
    method: str | None
    path_prefix: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    status: int


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


Route = Callable[[Request, re.Match[str], bytes], Response]


class SesEmulator:
    """SES v2 over HTTP: own handlers for what moto lacks, moto for the rest."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # One lock for the whole request: the tests need consistency, not throughput.
        self._lock = threading.RLock()
        self._moto = create_backend_app("sesv2")
        self.account_id = ""
        self.tenants: dict[str, EmulatedTenant] = {}
        self.identities: dict[str, EmulatedIdentity] = {}
        self.configuration_sets: dict[str, EmulatedConfigurationSet] = {}
        self.pools: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self.reset()
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("POST", re.compile(r"^/v2/email/tenants$"), self._create_tenant),
            ("POST", re.compile(r"^/v2/email/tenants/get$"), self._get_tenant),
            ("POST", re.compile(r"^/v2/email/tenants/delete$"), self._delete_tenant),
            ("POST", re.compile(r"^/v2/email/tenants/list$"), self._list_tenants),
            ("POST", re.compile(r"^/v2/email/tenants/resources$"), self._create_association),
            ("POST", re.compile(r"^/v2/email/tenants/resources/delete$"), self._delete_association),
            ("POST", re.compile(r"^/v2/email/tenants/resources/list$"), self._list_tenant_resources),
            ("POST", re.compile(r"^/v2/email/resources/tenants/list$"), self._list_resource_tenants),
            ("POST", re.compile(r"^/v2/email/identities$"), self._create_identity),
            ("GET", re.compile(r"^/v2/email/identities/(?P<name>[^/]+)$"), self._get_identity),
            ("DELETE", re.compile(r"^/v2/email/identities/(?P<name>[^/]+)$"), self._delete_identity),
            ("PUT", re.compile(r"^/v2/email/identities/(?P<name>[^/]+)/mail-from$"), self._put_mail_from),
            ("POST", re.compile(r"^/v2/email/configuration-sets$"), self._create_configuration_set),
            (
                "GET",
                re.compile(r"^/v2/email/configuration-sets/(?P<name>[^/]+)$"),
                self._get_configuration_set,
            ),
            (
                "DELETE",
                re.compile(r"^/v2/email/configuration-sets/(?P<name>[^/]+)$"),
                self._delete_configuration_set,
            ),
            (
                "PUT",
                re.compile(r"^/v2/email/configuration-sets/(?P<name>[^/]+)/delivery-options$"),
                self._put_delivery_options,
            ),
            ("POST", re.compile(r"^/v2/email/dedicated-ip-pools$"), self._create_pool),
            ("DELETE", re.compile(r"^/v2/email/dedicated-ip-pools/(?P<name>[^/]+)$"), self._delete_pool),
        ]

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> SesEmulator:
        self._server = make_server(
            self._host, self._port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="ses-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SesEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ test controls

    def reset(self) -> None:
        """Forget everything, moto's side included.

        moto keeps its state per account in process-global backends, so a fresh
        random account id gives an empty moto without touching other tests' mocks.
        """
        with self._lock:
            self.account_id = f"{secrets.randbelow(10**12):012d}"
            self.tenants.clear()
            self.identities.clear()
            self.configuration_sets.clear()
            self.pools.clear()
            self.requests.clear()
            self._faults.clear()

    def inject_fault(
        self,
        status: int = 500,
        code: str = "InternalFailure",
        times: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with an error instead of handling them."""
        with self._lock:
            self._faults.append(Fault(status, code, times, method, path_prefix))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @contextmanager
    def fault(self, status: int = 500, code: str = "InternalFailure", times: int = 1_000) -> Iterator[None]:
        self.inject_fault(status, code, times)
        try:
            yield
        finally:
            self.clear_faults()

    def set_identity_status(
        self,
        name: str,
        *,
        dkim: str | None = None,
        mail_from: str | None = None,
        verification: str | None = None,
    ) -> None:
        """Simulate SES finishing (or failing) its DNS checks."""
        with self._lock:
            identity = self.identities[name]
            if dkim is not None:
                identity.dkim_status = dkim
            if mail_from is not None:
                identity.mail_from_status = mail_from
            if verification is not None:
                identity.verification_status = verification

    def identity_arn(self, name: str, region: str = "us-east-1") -> str:
        return f"arn:aws:ses:{region}:{self.account_id}:identity/{name}"

    def configuration_set_arn(self, name: str, region: str = "us-east-1") -> str:
        return f"arn:aws:ses:{region}:{self.account_id}:configuration-set/{name}"

    # ------------------------------------------------------------------ WSGI plumbing

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        with self._lock:
            try:
                response = self._dispatch(request, body)
            except _Passthrough as exc:
                response = exc.response
            except EmulatorError as exc:
                response = self._error(exc)
            self.requests.append(RecordedRequest(request.method, request.path, response.status_code))
        return response(environ, start_response)

    def _dispatch(self, request: Request, body: bytes) -> Response:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(request.method, request.path):
                fault.remaining -= 1
                raise EmulatorError(fault.status, fault.code, "injected fault")
        for method, pattern, handler in self._routes:
            if method == request.method and (match := pattern.match(request.path)):
                return handler(request, match, body)
        return self._forward(request, body)

    def _forward(self, request: Request, body: bytes) -> Response:
        environ = dict(request.environ)
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = self.account_id
        return Response.from_app(self._moto, environ, buffered=True)

    def _forward_ok(self, request: Request, body: bytes) -> tuple[Response, JsonDict]:
        """Forward to moto; raise its error as-is, or return its response and JSON body."""
        response = self._forward(request, body)
        if response.status_code >= 300:
            raise _Passthrough(response)
        data = response.get_data()
        return response, (json.loads(data) if data else {})

    @staticmethod
    def _json(data: JsonDict, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    @staticmethod
    def _error(exc: EmulatorError) -> Response:
        response = Response(
            json.dumps({"__type": exc.code, "message": exc.message}),
            status=exc.status,
            content_type="application/json",
        )
        response.headers["x-amzn-ErrorType"] = exc.code
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response

    @staticmethod
    def _body(body: bytes) -> JsonDict:
        if not body:
            return {}
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _bad_request("request body is not JSON") from exc
        if not isinstance(data, dict):
            raise _bad_request("request body must be a JSON object")
        return data

    @staticmethod
    def _region(request: Request) -> str:
        match = _AUTH_REGION.search(request.headers.get("Authorization", ""))
        return match.group(1) if match else "us-east-1"

    # ------------------------------------------------------------------ tenants

    def _tenant(self, data: JsonDict) -> EmulatedTenant:
        name = data.get("TenantName")
        if not isinstance(name, str) or not name:
            raise _bad_request("TenantName is required")
        tenant = self.tenants.get(name)
        if tenant is None:
            raise _not_found(f"Tenant {name} does not exist.")
        return tenant

    def _tenant_json(self, tenant: EmulatedTenant) -> JsonDict:
        return {
            "TenantName": tenant.name,
            "TenantId": tenant.tenant_id,
            "TenantArn": tenant.arn,
            "CreatedTimestamp": tenant.created,
            "Tags": tenant.tags,
            "SendingStatus": tenant.sending_status,
        }

    def _create_tenant(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        data = self._body(body)
        name = data.get("TenantName")
        if not isinstance(name, str) or not _TENANT_NAME.match(name):
            raise _bad_request("TenantName must be 1-64 letters, digits, hyphens or underscores.")
        if name in self.tenants:
            raise _already_exists(f"Tenant {name} already exists.")
        tenant_id = f"tn-{secrets.token_hex(12)}"
        tenant = EmulatedTenant(
            name=name,
            tenant_id=tenant_id,
            arn=f"arn:aws:ses:{self._region(request)}:{self.account_id}:tenant/{name}/{tenant_id}",
            created=time.time(),
            tags=list(data.get("Tags") or []),
        )
        self.tenants[name] = tenant
        return self._json(self._tenant_json(tenant))

    def _get_tenant(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        return self._json({"Tenant": self._tenant_json(self._tenant(self._body(body)))})

    def _delete_tenant(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        tenant = self._tenant(self._body(body))
        del self.tenants[tenant.name]
        return self._json({})

    def _list_tenants(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        items = [
            {
                "TenantName": t.name,
                "TenantId": t.tenant_id,
                "TenantArn": t.arn,
                "CreatedTimestamp": t.created,
                "SendingStatus": t.sending_status,
            }
            for t in self.tenants.values()
        ]
        return self._json({"Tenants": items})

    def _resource_type(self, arn: str) -> str:
        """Validate a resource ARN of this account and return its SES resource type."""
        match = re.match(r"^arn:aws:ses:[^:]+:(\d{12}):(identity|configuration-set|template)/(.+)$", arn)
        if match is None:
            raise _bad_request(f"Invalid resource ARN: {arn}")
        account, kind, name = match.groups()
        if account != self.account_id:
            raise _not_found(f"Resource {arn} does not exist.")
        if kind == "identity":
            if name not in self.identities:
                raise _not_found(f"Email identity {name} does not exist.")
            return "EMAIL_IDENTITY"
        if kind == "configuration-set":
            if name not in self.configuration_sets:
                raise _not_found(f"Configuration set {name} does not exist.")
            return "CONFIGURATION_SET"
        return "EMAIL_TEMPLATE"

    def _create_association(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        data = self._body(body)
        tenant = self._tenant(data)
        arn = str(data.get("ResourceArn") or "")
        self._resource_type(arn)
        if arn in tenant.resources:
            raise _already_exists(f"Resource {arn} is already associated with tenant {tenant.name}.")
        tenant.resources[arn] = time.time()
        return self._json({})

    def _delete_association(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        data = self._body(body)
        tenant = self._tenant(data)
        arn = str(data.get("ResourceArn") or "")
        if arn not in tenant.resources:
            raise _not_found(f"Resource {arn} is not associated with tenant {tenant.name}.")
        del tenant.resources[arn]
        return self._json({})

    def _list_tenant_resources(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        data = self._body(body)
        tenant = self._tenant(data)
        wanted = (data.get("Filter") or {}).get("RESOURCE_TYPE")
        items = []
        for arn in tenant.resources:
            kind = arn.split(":", 5)[5].split("/", 1)[0]
            resource_type = {"identity": "EMAIL_IDENTITY", "configuration-set": "CONFIGURATION_SET"}.get(
                kind, "EMAIL_TEMPLATE"
            )
            if wanted is None or wanted == resource_type:
                items.append({"ResourceType": resource_type, "ResourceArn": arn})
        return self._json({"TenantResources": items})

    def _list_resource_tenants(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        arn = str(self._body(body).get("ResourceArn") or "")
        items = [
            {
                "TenantName": t.name,
                "TenantId": t.tenant_id,
                "ResourceArn": arn,
                "AssociatedTimestamp": t.resources[arn],
            }
            for t in self.tenants.values()
            if arn in t.resources
        ]
        return self._json({"ResourceTenants": items})

    def _drop_associations(self, arn: str) -> None:
        # A deleted resource cannot stay associated with a tenant.
        for tenant in self.tenants.values():
            tenant.resources.pop(arn, None)

    # ------------------------------------------------------------------ identities

    def _identity(self, name: str) -> EmulatedIdentity:
        identity = self.identities.get(name)
        if identity is None:
            raise _not_found(f"Email identity {name} does not exist.")
        return identity

    def _dkim_json(self, identity: EmulatedIdentity) -> JsonDict:
        if not identity.is_domain:
            return {"SigningEnabled": False, "Status": "NOT_STARTED"}
        return {
            "SigningEnabled": True,
            "Status": identity.dkim_status,
            "Tokens": list(identity.dkim_tokens),
            "SigningAttributesOrigin": "AWS_SES",
            "NextSigningKeyLength": "RSA_2048_BIT",
            "CurrentSigningKeyLength": "RSA_2048_BIT",
            "LastKeyGenerationTimestamp": time.time(),
        }

    def _create_identity(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        name = self._body(body).get("EmailIdentity")
        if not isinstance(name, str) or not name:
            raise _bad_request("EmailIdentity is required")
        if name in self.identities:
            raise _already_exists(f"Email identity {name} already exist.")
        _, data = self._forward_ok(request, body)
        identity = EmulatedIdentity(
            name=name,
            region=self._region(request),
            dkim_tokens=[_dkim_token() for _ in range(3)] if "@" not in name else [],
        )
        self.identities[name] = identity
        data["DkimAttributes"] = self._dkim_json(identity)
        data["VerifiedForSendingStatus"] = False
        return self._json(data)

    def _get_identity(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        identity = self._identity(match["name"])
        _, data = self._forward_ok(request, body)
        data["DkimAttributes"] = self._dkim_json(identity)
        data["VerificationStatus"] = identity.verification_status
        data["VerifiedForSendingStatus"] = identity.verification_status == "SUCCESS"
        if identity.mail_from_domain is not None:
            data["MailFromAttributes"] = {
                "MailFromDomain": identity.mail_from_domain,
                "MailFromDomainStatus": identity.mail_from_status,
                "BehaviorOnMxFailure": identity.behavior_on_mx_failure,
            }
        return self._json(data)

    def _delete_identity(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        identity = self._identity(match["name"])
        response, _ = self._forward_ok(request, body)
        del self.identities[identity.name]
        self._drop_associations(self.identity_arn(identity.name, identity.region))
        return response

    def _put_mail_from(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        identity = self._identity(match["name"])
        data = self._body(body)
        domain = data.get("MailFromDomain")
        behaviour = data.get("BehaviorOnMxFailure") or "USE_DEFAULT_VALUE"
        if behaviour not in _MAIL_FROM_BEHAVIOURS:
            raise _bad_request(f"Invalid BehaviorOnMxFailure: {behaviour}")
        if domain:
            if not identity.is_domain or not str(domain).endswith("." + identity.name):
                raise _bad_request(f"MAIL FROM domain {domain} must be a subdomain of {identity.name}.")
            identity.mail_from_domain = str(domain)
            identity.mail_from_status = "PENDING"
        else:
            # SES turns the custom MAIL FROM domain off when none is given.
            identity.mail_from_domain = None
        identity.behavior_on_mx_failure = behaviour
        return self._json({})

    # ------------------------------------------------------------------ configuration sets and pools

    def _configuration_set(self, name: str) -> EmulatedConfigurationSet:
        config = self.configuration_sets.get(name)
        if config is None:
            raise _not_found(f"Configuration set {name} does not exist.")
        return config

    def _require_pool(self, pool: object) -> None:
        if pool is not None and pool not in self.pools:
            raise _not_found(f"Dedicated IP pool {pool} does not exist.")

    def _create_configuration_set(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        data = self._body(body)
        name = data.get("ConfigurationSetName")
        if not isinstance(name, str) or not name:
            raise _bad_request("ConfigurationSetName is required")
        if name in self.configuration_sets:
            raise _already_exists(f"Configuration set {name} already exists.")
        delivery = data.get("DeliveryOptions") or {}
        self._require_pool(delivery.get("SendingPoolName"))
        response, _ = self._forward_ok(request, body)
        self.configuration_sets[name] = EmulatedConfigurationSet(
            name=name,
            sending_pool_name=delivery.get("SendingPoolName"),
            tls_policy=delivery.get("TlsPolicy"),
            max_delivery_seconds=delivery.get("MaxDeliverySeconds"),
        )
        return response

    def _get_configuration_set(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        config = self._configuration_set(match["name"])
        _, data = self._forward_ok(request, body)
        delivery: JsonDict = {}
        if config.tls_policy is not None:
            delivery["TlsPolicy"] = config.tls_policy
        if config.sending_pool_name is not None:
            delivery["SendingPoolName"] = config.sending_pool_name
        if config.max_delivery_seconds is not None:
            delivery["MaxDeliverySeconds"] = config.max_delivery_seconds
        data["DeliveryOptions"] = delivery
        return self._json(data)

    def _delete_configuration_set(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        config = self._configuration_set(match["name"])
        response, _ = self._forward_ok(request, body)
        del self.configuration_sets[config.name]
        self._drop_associations(self.configuration_set_arn(config.name, self._region(request)))
        return response

    def _put_delivery_options(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        config = self._configuration_set(match["name"])
        data = self._body(body)
        self._require_pool(data.get("SendingPoolName"))
        # A PUT replaces the delivery options as a whole, as in SES.
        config.sending_pool_name = data.get("SendingPoolName")
        config.tls_policy = data.get("TlsPolicy")
        config.max_delivery_seconds = data.get("MaxDeliverySeconds")
        return self._json({})

    def _create_pool(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        name = self._body(body).get("PoolName")
        if not isinstance(name, str) or not name:
            raise _bad_request("PoolName is required")
        if name in self.pools:
            raise _already_exists(f"Dedicated IP pool {name} already exists.")
        response, _ = self._forward_ok(request, body)
        self.pools.add(name)
        return response

    def _delete_pool(self, request: Request, match: re.Match[str], body: bytes) -> Response:
        name = match["name"]
        if name not in self.pools:
            raise _not_found(f"Dedicated IP pool {name} does not exist.")
        response, _ = self._forward_ok(request, body)
        self.pools.discard(name)
        return response


class _Passthrough(EmulatorError):
    """moto answered with an error: hand its response back unchanged."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code, "", "moto error")
        self.response = response
