"""The API server's HTTP side: a thin ASGI application over the registry.

Paths, verbs, query parameters, content types and errors are Kubernetes' own, so kubectl and
the kubernetes client work unchanged. Every error is a `Status`; nothing here lets a traceback
out (an unexpected exception is logged and answered as a 500 Status).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import anyio
import msgspec
import structlog
import yaml

from kube_lite.api import errors
from kube_lite.api.registry import KindInfo, KindRegistry
from kube_lite.clock import Clock, RealClock
from kube_lite.server import handlers
from kube_lite.store.admission import SYSTEM_USER, UserInfo
from kube_lite.store.registry import Registry

log = structlog.get_logger(__name__)

MAX_BODY = 3 * 1024 * 1024
KUBE_VERSION = {
    "major": "1",
    "minor": "37",
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.1+kube-lite",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Authenticator = Callable[[Scope], UserInfo | None]

_JSON = b"application/json"


@dataclass(slots=True)
class Request:
    """What a handler needs of one HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    user: UserInfo
    receive: Receive
    send: Send
    body: bytes = b""
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, default)

    def flag(self, name: str) -> bool:
        return (self.query.get(name) or "").lower() in ("true", "1")

    def int_param(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        try:
            return int(raw)  # type: ignore[arg-type]
        except ValueError:
            raise errors.bad_request(f'invalid value for {name}: "{raw}": must be an integer') from None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/json").split(";")[0].strip().lower()

    @property
    def accept(self) -> str:
        return self.headers.get("accept", "")

    def warn(self, text: str) -> None:
        self.response_headers.append((b"warning", f'299 - "{text}"'.encode()))


def decode_body(req: Request) -> Any:
    """The request body as JSON data; YAML when the content type says so. 400 on bad input."""
    if not req.body.strip():
        raise errors.bad_request("the body of the request was empty")
    if "yaml" in req.content_type:
        try:
            return yaml.load(req.body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {str(exc).splitlines()[0]}") from None
    try:
        return msgspec.json.decode(req.body)
    except msgspec.DecodeError as exc:
        raise errors.bad_request(f"the body of the request was in an unknown format: {exc}") from None


class APIServerApp:
    """The ASGI application. `authenticate` turns a scope into a user (None: anonymous); when
    it is not given, every request acts as the system user (plain in-process serving)."""

    def __init__(
        self,
        registry: Registry,
        kinds: KindRegistry,
        *,
        clock: Clock | None = None,
        authenticate: Authenticator | None = None,
        public_path: Callable[[str], bool] | None = None,
    ) -> None:
        self.registry = registry
        self.kinds = kinds
        self.clock = clock or RealClock()
        self.authenticate = authenticate
        self.public_path = public_path or (lambda p: p.split("/")[1] in ("healthz", "livez", "readyz", "version"))
        self.ready = True
        self.stopping = anyio.Event()
        self.resources = handlers.ResourceHandlers(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True).items()}
        path = scope["path"]
        req = Request(scope["method"], path, query, headers, SYSTEM_USER, receive, send)
        try:
            if "kube_lite.user" in scope:
                req.user = scope["kube_lite.user"]
            elif self.authenticate is not None:
                user = self.authenticate(scope)
                if user is None and not self.public_path(path):
                    raise errors.unauthorized()
                req.user = user or UserInfo("system:anonymous", ("system:unauthenticated",))
            if req.method in ("POST", "PUT", "PATCH", "DELETE"):
                req.body = await self._read_body(receive, headers)
            await self.route(req)
        except errors.APIError as exc:
            await self.respond_status(req, exc)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: answer, never crash
            log.exception("request failed", method=req.method, path=path)
            await self.respond_status(req, errors.internal_error(type(exc).__name__))

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            raise errors.too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise errors.too_large()
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    # ------------------------------------------------------------------ responses

    async def respond(
        self,
        req: Request,
        code: int,
        body: bytes,
        content_type: bytes = _JSON,
    ) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *req.response_headers]
        await req.send({"type": "http.response.start", "status": code, "headers": headers})
        await req.send({"type": "http.response.body", "body": body})

    async def respond_json(self, req: Request, code: int, data: Any) -> None:
        if "application/yaml" in req.accept and "json" not in req.accept.split("application/yaml")[0]:
            await self.respond(req, code, yaml.safe_dump(msgspec.to_builtins(data), sort_keys=False).encode(), b"application/yaml")
            return
        await self.respond(req, code, msgspec.json.encode(data))

    async def respond_status(self, req: Request, exc: errors.APIError) -> None:
        with contextlib.suppress(Exception):
            await self.respond(req, exc.code, msgspec.json.encode(exc.status))

    # ------------------------------------------------------------------ routing

    async def route(self, req: Request) -> None:
        path = req.path
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        if not parts:
            await self.respond_json(req, 200, {"paths": sorted(self._root_paths())})
            return
        head = parts[0]
        if head in ("healthz", "livez", "readyz"):
            healthy = self.ready or head == "livez"
            await self.respond(req, 200 if healthy else 503, b"ok" if healthy else b"not ready", b"text/plain; charset=utf-8")
            return
        if head == "version":
            await self.respond_json(req, 200, KUBE_VERSION)
            return
        if head == "kube-lite" and parts[1:] == ["snapshot"] and req.method == "GET":
            if "system:masters" not in req.user.groups:
                raise errors.APIError(403, "Forbidden", f'forbidden: User "{req.user.name}" cannot get path "{path}"')
            data = await self.registry.backend.snapshot()
            await self.respond(req, 200, data, b"application/octet-stream")
            return
        if head == "openapi":
            await handlers.openapi(self, req, parts)
            return
        if head == "api":
            if len(parts) == 1:
                await handlers.discovery_api(self, req)
                return
            if parts[1] != "v1":
                raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
            if len(parts) == 2:
                await handlers.discovery_group_version(self, req, "", "v1")
                return
            await self.resources.dispatch(req, "", "v1", parts[2:])
            return
        if head == "apis":
            if len(parts) == 1:
                await handlers.discovery_apis(self, req)
                return
            if len(parts) == 2:
                await handlers.discovery_group(self, req, parts[1])
                return
            if len(parts) == 3:
                await handlers.discovery_group_version(self, req, parts[1], parts[2])
                return
            await self.resources.dispatch(req, parts[1], parts[2], parts[3:])
            return
        raise errors.APIError(404, "NotFound", "the server could not find the requested resource")

    def _root_paths(self) -> list[str]:
        paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version", "/openapi/v2", "/openapi/v3"]
        for gv in self.kinds.group_versions():
            if gv.group:
                paths += [f"/apis/{gv.group}", f"/apis/{gv.group}/{gv.version}"]
        return paths

    def kind_for(self, group: str, version: str, resource: str) -> KindInfo:
        info = self.kinds.get(group, version, resource)
        if info is None:
            raise errors.APIError(404, "NotFound", "the server could not find the requested resource")
        return info
