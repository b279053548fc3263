"""The agent's own HTTPS endpoint (the kubelet's port 10250), kept minimal.

    GET /healthz                                   "ok" (no authentication, as the kubelet's)
    GET /containerLogs/{namespace}/{pod}/{container}[?tailLines=N&previous=true&timestamps=...]
                                                   the container's log as text/plain

Everything but /healthz needs a client certificate signed by the cluster CA (the API server's,
or an admin's): the TLS layer verifies it, `peer_identity` reads it. Anything else is 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from kube_lite.server.tlsserver import peer_identity

LogReader = Callable[[str, str, str, bool, int | None], Awaitable[list[str] | None]]


async def _respond(send: Any, status: int, body: bytes, content_type: bytes = b"text/plain; charset=utf-8") -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


class AgentApp:
    """The ASGI app. `read_logs(namespace, pod, container, previous, tail_lines)` returns the
    lines, or None when there is no such pod or container."""

    def __init__(self, read_logs: LogReader, *, require_client_cert: bool = True) -> None:
        self.read_logs = read_logs
        self.require_client_cert = require_client_cert

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        method = scope.get("method", "GET")
        path = scope.get("path", "")
        if path == "/healthz":
            await _respond(send, 200, b"ok")
            return
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b"method not allowed")
            return
        if self.require_client_cert and peer_identity(scope) is None:
            await _respond(send, 401, b"Unauthorized")
            return
        parts = [unquote(p) for p in path.split("/") if p]
        if len(parts) == 4 and parts[0] == "containerLogs":
            query = parse_qs((scope.get("query_string") or b"").decode())
            previous = (query.get("previous") or ["false"])[0].lower() in ("1", "true")
            tail: int | None = None
            if query.get("tailLines"):
                try:
                    tail = max(int(query["tailLines"][0]), 0)
                except ValueError:
                    await _respond(send, 400, b"tailLines must be an integer")
                    return
            lines = await self.read_logs(parts[1], parts[2], parts[3], previous, tail)
            if lines is None:
                await _respond(send, 404, f"container {parts[3]} of pod {parts[1]}/{parts[2]} not found".encode())
                return
            await _respond(send, 200, "".join(line + "\n" for line in lines).encode())
            return
        await _respond(send, 404, b"404 page not found")
