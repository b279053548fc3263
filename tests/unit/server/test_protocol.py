"""kube_lite.server.protocol: uvicorn's httptools protocol with Kubernetes' 405 for unknown
methods and one transport write per response, driven through a fake transport (no sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from kube_lite.server.protocol import CoalescingTransport, KubeHttpToolsProtocol

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class FakeTransport(asyncio.Transport):
    """Records every write; closing is remembered."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 6443), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def connect(app: ASGIApp) -> tuple[KubeHttpToolsProtocol, FakeTransport]:
    config = uvicorn.Config(app, http=KubeHttpToolsProtocol, lifespan="off", log_config=None)
    config.load()
    protocol = KubeHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def small_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def test_a_whole_response_leaves_in_one_write() -> None:
    protocol, transport = connect(small_app)
    protocol.data_received(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
    await settle()
    assert len(transport.writes) == 1, transport.writes
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and transport.writes[0].endswith(b"\r\n\r\n{}")
    # The connection stays open for the next request, which is answered the same way.
    protocol.data_received(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
    await settle()
    assert len(transport.writes) == 2 and not transport.closed


async def test_a_streaming_response_sends_its_headers_before_any_event() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def watch_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        started.set()
        await release.wait()
        await send({"type": "http.response.body", "body": b'{"type":"ADDED"}\n', "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    protocol, transport = connect(watch_app)
    protocol.data_received(b"GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n")
    await started.wait()
    await settle()
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n"), transport.writes
    assert b"transfer-encoding: chunked" in transport.writes[0]
    release.set()
    await settle()
    assert transport.data.endswith(b'11\r\n{"type":"ADDED"}\n\r\n0\r\n\r\n'), transport.data


async def test_close_sends_what_is_pending_first() -> None:
    transport = FakeTransport()
    wrapper = CoalescingTransport(transport, asyncio.get_running_loop())
    wrapper.write(b"a")
    wrapper.write(bytearray(b"b"))
    wrapper.close()
    assert transport.writes == [b"ab"] and transport.closed
    wrapper.write(b"late")
    await settle()
    assert transport.writes == [b"ab"], "nothing is written once the transport is closing"


@pytest.mark.parametrize("chunks", [[b"FOO /api/v1/pods HTTP/1.1\r\nHost: x\r\n\r\n"], [b"FOO /api/v1/po", b"ds HTTP/1.1\r\n", b"Host: x\r\n\r\n"]])
async def test_unknown_method_is_405_status(chunks: list[bytes]) -> None:
    protocol, transport = connect(small_app)
    for chunk in chunks:
        protocol.data_received(chunk)
    await settle()
    head, _, body = transport.data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n") and b"connection: close" in head, head
    status = json.loads(body)
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server does not allow this method on the requested resource", "reason": "MethodNotAllowed", "code": 405,
    }
    assert transport.closed


@pytest.mark.parametrize("data", [b"GARBAGE\r\n\r\n", b"\x00\x01\x02\x03", b"FOO /a b c\r\n\r\n"])
async def test_a_malformed_request_line_stays_400(data: bytes) -> None:
    protocol, transport = connect(small_app)
    protocol.data_received(data)
    await settle()
    assert transport.data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), transport.data
    assert transport.closed
