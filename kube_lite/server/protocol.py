"""uvicorn's httptools protocol, with two changes for an API server.

Unknown methods: httptools (llhttp) knows a fixed set of methods and refuses any other one (`FOO
/api HTTP/1.1`) as a parse error, which uvicorn answers with a plain-text 400 before the ASGI app
runs. Kubernetes (Go's net/http accepts any method token; go-restful finds no route for it)
answers 405 MethodNotAllowed with a Status. `KubeHttpToolsProtocol` does the same for a
well-formed request line with an unknown method, then closes the connection (the parser cannot
resynchronise after an error). A request line that is not well-formed (`GARBAGE`) keeps
uvicorn's 400, as Go's net/http also answers 400 there.

Writes: uvicorn writes a response's status line and headers, and then its body, with one
`transport.write` each. Over TLS every write becomes at least one record, so a small response
costs two records (two encryptions, often two TCP segments). The connection's transport is
wrapped in a `CoalescingTransport` that gathers the writes made during one event-loop step and
hands them to the real transport at the end of that step: a response sent as start + one body
message leaves in one write, while a streaming response (a watch) still gets its headers and
each chunk out one loop step after it was sent.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httptools
import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kube_lite.api import errors

# RFC 9112 request-line: method SP request-target SP HTTP-version, with method a token.
_REQUEST_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^\s]+ HTTP/\d\.\d\r?")
# What the start of such a line can be before all of it has arrived.
_REQUEST_LINE_START = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*( [^\x00-\x20\x7f]*( [^\x00-\x20\x7f]*)?)?")
_MAX_REQUEST_LINE = 16 * 1024

_METHOD_NOT_ALLOWED = errors.APIError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def method_not_allowed_response() -> bytes:
    """The whole HTTP/1.1 answer to a request whose method the parser does not know: Kubernetes'
    405 Status (go-restful's 405 through the apiserver's service error handler), closing."""
    body = msgspec.json.encode(_METHOD_NOT_ALLOWED.status)
    head = (
        b"HTTP/1.1 405 Method Not Allowed\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n"
        b"connection: close\r\n\r\n"
    )
    return head + body


class CoalescingTransport:
    """A transport wrapper that passes on, in one `write`, everything written to it during one
    event-loop step. `close` writes what is pending first; once the real transport is closing,
    pending data is dropped (as the real transport would drop it). Everything else is the real
    transport's."""

    __slots__ = ("_loop", "_pending", "_scheduled", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data) if not isinstance(data, bytes) else data)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Hand what is pending to the real transport now."""
        self._scheduled = False
        if not self._pending:
            return
        pending = self._pending
        self._pending = []
        if self.transport.is_closing():
            return
        self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._pending = []
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(len(p) for p in self._pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class KubeHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with Kubernetes' 405 for unknown methods and coalesced writes
    (see the module docstring). Pass it as uvicorn's `http=` class."""

    # The bytes of a request whose method the parser refused, until its request line is in;
    # None while parsing normally.
    _bad_request_line: bytearray | None = None
    _answered_bad_request = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # FlowControl keeps the real transport (pause/resume reading); everything this protocol
        # and its request cycles write goes through the coalescing wrapper.
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._answered_bad_request:
            return  # answered and closing: the rest of the stream means nothing
        if self._bad_request_line is not None:
            self._bad_request_line += data
            self._answer_unknown_method()
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserInvalidMethodError:
            # The request line may not be complete yet: decide once it is.
            self._bad_request_line = bytearray(data)
            self._answer_unknown_method()
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _answer_unknown_method(self) -> None:
        """405 once the request line is in and well-formed; uvicorn's 400 when it is not."""
        buffered = self._bad_request_line
        assert buffered is not None
        end = buffered.find(b"\n")
        if end < 0:
            if len(buffered) <= _MAX_REQUEST_LINE and _REQUEST_LINE_START.fullmatch(buffered):
                return  # wait for the rest of the line
            end = len(buffered)
        line = bytes(buffered[:end])
        self._bad_request_line = None
        self._answered_bad_request = True
        if _REQUEST_LINE.fullmatch(line):
            self.transport.write(method_not_allowed_response())
            self.transport.close()
            return
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)
