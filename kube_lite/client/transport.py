"""Transports for the Client: in-process (the ASGI app called directly) and HTTP (httpx).

Both speak Kubernetes' REST API, so a request takes the same path through authentication,
admission, validation and the registry whichever transport carries it; the in-process one
skips only sockets and TLS.
"""

from __future__ import annotations

import base64
import functools
import ssl
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import anyio
import httpx
import yaml

from kube_lite.store.admission import SYSTEM_USER, UserInfo


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"


class Transport(Protocol):
    async def request(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: bytes | None = None,
        content_type: str = "application/json", accept: str = "application/json",
    ) -> Response: ...

    def stream(self, path: str, *, query: dict[str, str] | None = None) -> Any:
        """An async context manager yielding (status, async iterator of lines)."""
        ...

    async def aclose(self) -> None: ...


_ASGI_VERSION = {"version": "3.0"}
_PEER = ("in-process", 0)


@functools.lru_cache(maxsize=64)
def _headers_cached(content_type: str, accept: str) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"content-type", content_type.encode()), (b"accept", accept.encode()))


def _headers(content_type: str, accept: str) -> list[tuple[bytes, bytes]]:
    """The request headers (a fresh list: an app may keep or change the one it gets)."""
    return list(_headers_cached(content_type, accept))


class _Exchange:
    """One in-process request: the ASGI receive and send callables and what was sent back."""

    __slots__ = ("body", "chunks", "content_type", "sent", "status")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent = False
        self.status = 500
        self.content_type = "application/json"
        self.chunks: list[bytes] = []

    async def receive(self) -> dict[str, Any]:
        if not self.sent:
            self.sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await anyio.sleep_forever()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            body = message.get("body")
            if body:
                self.chunks.append(body)
        elif kind == "http.response.start":
            self.status = message["status"]
            for k, v in message.get("headers", ()):
                if k == b"content-type":
                    self.content_type = v.decode()


class InProcessTransport:
    """Calls the API server's ASGI app in this event loop, as `user`."""

    def __init__(self, app: Any, user: UserInfo = SYSTEM_USER) -> None:
        self.app = app
        self.user = user

    def _scope(self, method: str, path: str, query: dict[str, str] | None, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": _ASGI_VERSION,
            "http_version": "1.1",
            "method": method,
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(query).encode() if query else b"",
            "headers": headers,
            "client": _PEER,
            "server": _PEER,
            "kube_lite.user": self.user,
        }

    async def request(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: bytes | None = None,
        content_type: str = "application/json", accept: str = "application/json",
    ) -> Response:
        exchange = _Exchange(body or b"")
        await self.app(self._scope(method, path, query, _headers(content_type, accept)), exchange.receive, exchange.send)
        return Response(exchange.status, b"".join(exchange.chunks), exchange.content_type)

    @asynccontextmanager
    async def stream(self, path: str, *, query: dict[str, str] | None = None) -> AsyncIterator[tuple[int, AsyncIterator[bytes]]]:
        send_chan, recv_chan = anyio.create_memory_object_stream[bytes](10_000)
        started = anyio.Event()
        status = [500]
        disconnect = anyio.Event()

        async def receive() -> dict[str, Any]:
            await disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                started.set()
            elif message["type"] == "http.response.body":
                try:
                    if message.get("body"):
                        await send_chan.send(message["body"])
                    if not message.get("more_body"):
                        send_chan.close()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    disconnect.set()

        async def run() -> None:
            try:
                await self.app(self._scope("GET", path, query, [(b"accept", b"application/json")]), receive, send)
            finally:
                started.set()
                send_chan.close()

        async def lines() -> AsyncIterator[bytes]:
            # A chunk is usually whole lines (a burst of events); split each once, carrying a
            # partial last line over, rather than re-splitting a growing buffer per line.
            rest = b""
            async for chunk in recv_chan:
                parts = chunk.split(b"\n")
                if rest:
                    parts[0] = rest + parts[0]
                rest = parts.pop()
                for line in parts:
                    if line and not line.isspace():
                        yield line
            if rest.strip():
                yield rest

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(run)
                await started.wait()
                try:
                    yield status[0], lines()
                finally:
                    disconnect.set()
                    tg.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # The body's own exception (e.g. a 410 APIError) must reach the caller as itself.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    async def aclose(self) -> None:
        return None


class HTTPTransport:
    """httpx over HTTPS (or HTTP) with a kubeconfig's credentials."""

    def __init__(
        self, server: str, *, ca_file: str | None = None, cert: tuple[str, str] | None = None,
        token: str | None = None, verify: bool = True, timeout: float = 60.0,
    ) -> None:
        context: ssl.SSLContext | bool = False
        if server.startswith("https"):
            context = ssl.create_default_context(cafile=ca_file) if verify else ssl._create_unverified_context()  # noqa: SLF001
            if cert:
                context.load_cert_chain(*cert)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.AsyncClient(base_url=server, verify=context, headers=headers, timeout=timeout)
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def from_kubeconfig(cls, path: str | Path, context: str | None = None) -> HTTPTransport:
        """Build from a kubeconfig file (embedded or file certificate data, or a token)."""
        config = yaml.safe_load(Path(path).read_text())
        ctx_name = context or config.get("current-context")
        ctx = next(c["context"] for c in config["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == ctx["user"])
        tmp = tempfile.TemporaryDirectory(prefix="kube-lite-client-")

        def materialize(data_key: str, file_key: str, source: dict[str, Any], name: str) -> str | None:
            if source.get(data_key):
                target = Path(tmp.name) / name
                target.write_bytes(base64.b64decode(source[data_key]))
                target.chmod(0o600)
                return str(target)
            return source.get(file_key)

        ca = materialize("certificate-authority-data", "certificate-authority", cluster, "ca.crt")
        crt = materialize("client-certificate-data", "client-certificate", user, "client.crt")
        key = materialize("client-key-data", "client-key", user, "client.key")
        transport = cls(
            cluster["server"], ca_file=ca, cert=(crt, key) if crt and key else None, token=user.get("token"),
            verify=not cluster.get("insecure-skip-tls-verify", False),
        )
        transport._tempdir = tmp
        return transport

    async def request(
        self, method: str, path: str, *, query: dict[str, str] | None = None, body: bytes | None = None,
        content_type: str = "application/json", accept: str = "application/json",
    ) -> Response:
        response = await self.client.request(
            method, path, params=query, content=body, headers={"content-type": content_type, "accept": accept}
        )
        return Response(response.status_code, response.content, response.headers.get("content-type", ""))

    @asynccontextmanager
    async def stream(self, path: str, *, query: dict[str, str] | None = None) -> AsyncIterator[tuple[int, AsyncIterator[bytes]]]:
        async with self.client.stream("GET", path, params=query, timeout=httpx.Timeout(None, connect=10.0)) as response:

            async def lines() -> AsyncIterator[bytes]:
                async for line in response.aiter_lines():
                    if line.strip():
                        yield line.encode()

            if response.status_code >= 400:
                await response.aread()
            yield response.status_code, lines() if response.status_code < 400 else _single(response.content)

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._tempdir is not None:
            self._tempdir.cleanup()


async def _single(content: bytes) -> AsyncIterator[bytes]:
    yield content
