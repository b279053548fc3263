"""uvicorn serving HTTPS with client certificates, embedded without taking over the process.

uvicorn (0.54) verifies client certificates when told to (ssl_cert_reqs, ssl_ca_certs) but does
not put the peer certificate into the ASGI scope. The protocol classes here do: when a TLS
connection is made (asyncio calls connection_made only after the handshake, so the peer
certificate is known and, if present, already verified against the CA), they compute the ASGI TLS
extension (https://asgi.readthedocs.io/en/latest/extensions.html#tls) and the peer's identity once
per connection, and wrap the connection's ASGI app so that every request scope on that connection
(HTTP and WebSocket alike) carries them in `scope["extensions"]`. `peer_identity(scope)` reads it.

`EmbeddedServer` is a uvicorn.Server that never installs signal handlers (the embedding process
owns its signals), reports readiness through anyio's task_status, turns uvicorn's sys.exit on a
bind failure into OSError, and closes its sockets even when its task is cancelled.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Generator
from typing import Any

import anyio
import uvicorn
from anyio.abc import TaskStatus
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

from kube_lite.server.certs import Pki
from kube_lite.server.protocol import KubeHttpToolsProtocol

# Our own scope extension: (user name, groups) from the verified client certificate.
IDENTITY_EXTENSION = "kube_lite.peer_identity"

PeerIdentity = tuple[str, list[str]]

_TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def peer_identity(scope: dict[str, Any]) -> PeerIdentity | None:
    """(CN, [O, ...]) of the verified client certificate of the request's connection, or None
    when the connection is not TLS, presented no certificate, or its certificate has no CN.

    Only the server sets this (from the TLS layer, never from headers), so it can be trusted."""
    ext = scope.get("extensions")
    if not ext:
        return None
    return ext.get(IDENTITY_EXTENSION)


def connection_tls_info(transport: Any) -> tuple[dict[str, Any], PeerIdentity | None] | None:
    """The ASGI TLS extension dict and the peer identity of `transport`, or None when it is not a
    TLS transport. A certificate counts only when the handshake verified it against the CA
    (getpeercert() returns a non-empty dict only then)."""
    ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    tls: dict[str, Any] = {
        "server_cert": None,
        "client_cert_chain": [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,  # Python exposes the suite's name, not the number the spec wants
    }
    identity: PeerIdentity | None = None
    der = ssl_object.getpeercert(binary_form=True)
    if der and ssl_object.getpeercert():
        cert = x509.load_der_x509_certificate(der)
        tls["client_cert_chain"] = [cert.public_bytes(serialization.Encoding.PEM).decode("ascii")]
        tls["client_cert_name"] = cert.subject.rfc4514_string()
        identity = identity_from_subject(cert.subject)
    elif der:
        # Not reachable with CERT_OPTIONAL/CERT_REQUIRED (an unverifiable certificate fails the
        # handshake); kept so a misconfigured context can never turn into an identity.
        tls["client_cert_error"] = "certificate not verified"
    return tls, identity


def identity_from_subject(subject: x509.Name) -> PeerIdentity | None:
    """Kubernetes' rule: the user is the subject's CN (the last one, as Go's pkix reads it), the
    groups are its O values in order. No CN: no identity."""
    cns = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not cns:
        return None
    cn = cns[-1].value
    if not isinstance(cn, str) or not cn:
        return None
    orgs = [str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return cn, orgs


class _PeerScopeApp:
    """The ASGI app of one TLS connection: adds the connection's TLS facts to every scope."""

    __slots__ = ("app", "identity", "tls")

    def __init__(self, app: Any, tls: dict[str, Any], identity: PeerIdentity | None) -> None:
        self.app = app
        self.tls = tls
        self.identity = identity

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        ext = scope.get("extensions")
        if ext is None:
            ext = scope["extensions"] = {}
        ext["tls"] = self.tls
        ext[IDENTITY_EXTENSION] = self.identity
        await self.app(scope, receive, send)


class _PeerIdentityMixin:
    """Mixed into a uvicorn protocol class: on a TLS connection, wrap `self.app` (which every
    uvicorn protocol calls per request) with the connection's _PeerScopeApp."""

    app: Any

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        info = connection_tls_info(transport)
        if info is not None:
            self.app = _PeerScopeApp(self.app, *info)


class PeerCertHttpToolsProtocol(_PeerIdentityMixin, KubeHttpToolsProtocol):
    """kube-lite's httptools protocol (Kubernetes' 405 for unknown methods, one write per
    response; see kube_lite.server.protocol), with the peer certificate in the scope."""


class PeerCertH11Protocol(_PeerIdentityMixin, H11Protocol):
    """uvicorn's h11 protocol, with the peer certificate in the scope."""


# The WebSocket protocol uvicorn would pick ("auto"), with the peer certificate in the scope.
# httptools hands an upgraded connection's transport to it, so connection_made sees the same TLS.
PeerCertWebSocketProtocol: type[Any] | None = (
    type("PeerCertWebSocketProtocol", (_PeerIdentityMixin, AutoWebSocketsProtocol), {})
    if isinstance(AutoWebSocketsProtocol, type)
    else None
)


def make_uvicorn_config(app: Any, host: str, port: int, pki: Pki, **kw: Any) -> uvicorn.Config:
    """A uvicorn.Config serving `app` over HTTPS on host:port (port 0: any free port; read it
    from `EmbeddedServer.bound_addresses()` after start).

    TLS: the serving certificate of `pki`; client certificates are requested, verified against
    the cluster CA when presented and optional (bearer-token and anonymous clients have none).
    Set up for embedding: httptools with peer identity (and the protocol changes of
    kube_lite.server.protocol), no lifespan, no access log, no
    `server: uvicorn` header, no X-Forwarded-* trust, and no logging configuration of its own
    (log_config=None: uvicorn's loggers propagate to whatever the process configured). A
    graceful shutdown waits at most 5 s for open requests (watches) before cancelling them.
    Any keyword overrides these defaults.
    """
    options: dict[str, Any] = {
        "http": PeerCertHttpToolsProtocol,
        "ws": PeerCertWebSocketProtocol if PeerCertWebSocketProtocol is not None else "none",
        "lifespan": "off",
        "access_log": False,
        "log_level": "warning",
        "log_config": None,
        "proxy_headers": False,
        "server_header": False,
        "timeout_graceful_shutdown": 5,
        "ssl_certfile": str(pki.server_cert_path),
        "ssl_keyfile": str(pki.server_key_path),
        "ssl_ca_certs": str(pki.ca_cert_path),
        "ssl_cert_reqs": ssl.CERT_OPTIONAL,
    }
    options.update(kw)
    return uvicorn.Config(app, host=host, port=port, **options)


class EmbeddedServer(uvicorn.Server):
    """A uvicorn.Server for running inside another program's task group.

    async with anyio.create_task_group() as tg:
        addrs = await tg.start(server.serve_embedded)   # returns once listening
        ...
        server.should_exit = True            # graceful stop; cancelling tg also stops it
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._task_status: TaskStatus[list[tuple[str, int]]] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Leave the process's signal handlers alone: stopping is the owner's decision."""
        yield

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._task_status is not None:
            self._task_status.started(self.bound_addresses())
            self._task_status = None

    def bound_addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every listening socket; empty before start."""
        out: list[tuple[str, int]] = []
        for server in getattr(self, "servers", []):
            for sock in server.sockets or ():
                name = sock.getsockname()
                out.append((str(name[0]), int(name[1])))
        return out

    async def serve_embedded(
        self, *, task_status: TaskStatus[list[tuple[str, int]]] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until `should_exit` is set (then shut down gracefully) or the task is
        cancelled (then close listeners and connections at once). Reports the bound addresses
        through `task_status` once listening. Raises OSError when it cannot listen."""
        self._task_status = task_status
        try:
            await self.serve()
        except SystemExit as exc:
            # uvicorn calls sys.exit when it cannot bind; it has logged the OSError already.
            host, port = self.config.host, self.config.port
            raise OSError(f"the API server could not listen on {host}:{port}") from exc
        finally:
            self._abort()

    def _abort(self) -> None:
        """Close everything at once; a no-op after a graceful shutdown."""
        for server in getattr(self, "servers", []):
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        for task in list(self.server_state.tasks):
            task.cancel()


def make_server(app: Any, host: str, port: int, pki: Pki, **kw: Any) -> EmbeddedServer:
    """An EmbeddedServer for `make_uvicorn_config(app, host, port, pki, **kw)`."""
    return EmbeddedServer(make_uvicorn_config(app, host, port, pki, **kw))


async def serve(
    server: EmbeddedServer, *, task_status: TaskStatus[list[tuple[str, int]]] = anyio.TASK_STATUS_IGNORED
) -> None:
    """`server.serve_embedded`, as a function: `addrs = await tg.start(serve, server)`."""
    await server.serve_embedded(task_status=task_status)


def bound_port(server: EmbeddedServer) -> int | None:
    """The port the server listens on (the first socket's), or None before it has started."""
    addrs = server.bound_addresses()
    return addrs[0][1] if addrs else None
