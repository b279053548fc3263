"""The API server's HTTP side: a thin ASGI application over the registry.

Paths, verbs, query parameters, content types and errors are Kubernetes' own, so kubectl and
the kubernetes client work unchanged. Every error is a `Status`; nothing here lets a traceback
out (an unexpected exception is logged and answered as a 500 Status).
"""

from __future__ import annotations

import contextlib
import re
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
from kube_lite.server.protobuf import PROTOBUF, decode_protobuf
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
    # Every value of every query parameter, in order (`query` keeps the last of each).
    query_lists: dict[str, list[str]] = field(default_factory=dict)

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, default)

    def values(self, name: str) -> list[str]:
        """Every value of a repeated query parameter (`?dryRun=All&dryRun=All`), as Kubernetes
        reads list options; a parameter given only in `query` counts once."""
        found = self.query_lists.get(name)
        if found is not None:
            return found
        value = self.query.get(name)
        return [] if value is None else [value]

    def flag(self, name: str) -> bool:
        """A boolean query parameter as Kubernetes reads it: present and not "0"/"false"."""
        value = self.query.get(name)
        return value is not None and value.lower() not in ("0", "false")

    def int_param(self, name: str) -> int | None:
        """An int64 query parameter as Go's strconv.ParseInt reads it (an optional sign and
        decimal digits); 400 BadRequest naming the parameter otherwise."""
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        assert raw is not None
        if _INT64.fullmatch(raw) and -(2**63) <= int(raw) < 2**63:
            return int(raw)
        raise errors.bad_request(f'invalid value for {name}: "{raw}": must be an integer')

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/json").split(";")[0].strip().lower()

    @property
    def accept(self) -> str:
        return self.headers.get("accept", "")

    def warn(self, text: str) -> None:
        # RFC 7234 warn-text is a quoted-string: client-go drops a warning whose inner quotes
        # are not escaped, so `unknown field "spec.x"` must go out as `unknown field \"spec.x\"`.
        # Control characters cannot go into a header at all (they would end it): escaped.
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        quoted = "".join(c if c >= " " and c != "\x7f" else f"\\x{ord(c):02x}" for c in quoted)
        header = (b"warning", f'299 - "{quoted}"'.encode())
        if header not in self.response_headers:  # Kubernetes' warning recorder drops repeats
            self.response_headers.append(header)


_INT64 = re.compile(r"[+-]?[0-9]+")

MAX_DEPTH = 100  # nesting of a request body; Kubernetes' objects need far less
MAX_YAML_ALIASES = 100
_BODY_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "application/vnd.kubernetes.protobuf")


class _BoundedYAMLLoader(yaml.SafeLoader):
    """A safe loader that refuses alias bombs (a few hundred bytes expanding to gigabytes) and
    reads YAML 1.1 timestamps as the strings they are in Kubernetes (sigs.k8s.io/yaml). Pure
    Python: the C loader composes nodes without calling back, so it could not count aliases."""

    aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"document uses more than {MAX_YAML_ALIASES} aliases")
        return super().compose_node(parent, index)


_BoundedYAMLLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


MAX_NODES = 500_000  # values in one body, counting what YAML aliases repeat


def _too_deep(data: Any) -> bool:
    """Whether a decoded body nests deeper than MAX_DEPTH or holds more than MAX_NODES values
    (YAML aliases share one object among many places; counted per place, as JSON would be)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH or nodes > MAX_NODES:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def check_body_media_type(req: Request) -> None:
    """415 UnsupportedMediaType for a request body in a format this server cannot read."""
    ctype = req.content_type
    if ctype != PROTOBUF and ctype not in _BODY_TYPES and not ctype.endswith("+json") and not ctype.endswith("+yaml"):
        raise errors.unsupported_media_type(
            f'the body of the request was in an unknown format - accepted media types include: '
            f'application/json, application/yaml, {PROTOBUF}'
        )


def decode_body(req: Request) -> Any:
    """The request body as JSON data; YAML or Kubernetes protobuf when the content type says
    so. 400 on bad input (malformed, nested deeper than MAX_DEPTH, a YAML alias bomb), 415 for
    a content type or protobuf kind this server cannot read."""
    if not req.body.strip():
        raise errors.bad_request("the body of the request was empty")
    ctype = req.content_type
    if ctype == PROTOBUF:
        return decode_protobuf(req.body)
    check_body_media_type(req)
    try:
        if "yaml" in ctype:
            try:
                data = yaml.load(req.body, Loader=_BoundedYAMLLoader)
            except yaml.YAMLError as exc:
                raise errors.bad_request(f"error converting YAML to JSON: {str(exc).splitlines()[0]}") from None
            except ValueError as exc:
                raise errors.bad_request(f"error converting YAML to JSON: {exc}") from None
            if isinstance(data, dict):
                data = _string_keys(data)
        else:
            try:
                data = msgspec.json.decode(req.body)
            except msgspec.DecodeError as exc:
                raise errors.bad_request(f"the body of the request was in an unknown format: {exc}") from None
    except RecursionError:
        raise errors.bad_request("the body of the request is nested too deeply") from None
    # Fewer brackets than MAX_DEPTH in a JSON body cannot nest that deep, nor hold MAX_NODES
    # values shared through aliases (YAML only): skip the walk for ordinary objects.
    shallow = "yaml" not in ctype and req.body.count(b"{") + req.body.count(b"[") <= MAX_DEPTH
    if not shallow and isinstance(data, (dict, list)) and _too_deep(data):
        raise errors.bad_request(
            f"the body of the request is nested more than {MAX_DEPTH} levels deep or holds more than {MAX_NODES} values"
        )
    return data


_ACCEPTED = ("application/json", "application/yaml", "application/*", "*/*", "text/plain", "application/vnd.kubernetes.protobuf",
             "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "application/octet-stream")


def _acceptable(accept: str) -> bool:
    """Whether an Accept header admits something this server answers with (no header: yes)."""
    if not accept.strip():
        return True
    for clause in accept.split(","):
        media = clause.split(";")[0].strip().lower()
        if media in _ACCEPTED or media.endswith("+json"):
            return True
    return False


def _string_keys(value: Any) -> Any:
    """YAML allows non-string keys (`1: b`); JSON objects, and so Kubernetes, have strings."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k).lower() if isinstance(k, bool) else str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


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
        query_lists = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        query = {k: v[-1] for k, v in query_lists.items()}
        path = scope["path"]
        req = Request(scope["method"], path, query, headers, SYSTEM_USER, receive, send, query_lists=query_lists)
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
        resource_path = (head == "api" and len(parts) > 2) or (head == "apis" and len(parts) > 3)
        if not resource_path and req.method not in ("GET", "HEAD"):
            raise errors.method_not_allowed(req.method, path)
        if not _acceptable(req.accept):
            raise errors.not_acceptable(
                f"only the following media types are accepted: application/json, application/yaml, {PROTOBUF}"
            )
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
