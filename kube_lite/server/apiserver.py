"""The API server as a component: backend, watch cache, registry, admission and HTTP.

    async with APIServer("sqlite:state.db", data_dir=d, listen=("127.0.0.1", 6443)) as server:
        client = server.client()

Everything runs in the caller's event loop, in a task group the server owns; leaving the
block stops the HTTP listener, the watch cache and the backend, in that order.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import structlog

from kube_lite.api.registry import KindRegistry
from kube_lite.client.client import Client
from kube_lite.client.transport import InProcessTransport
from kube_lite.clock import Clock, RealClock
from kube_lite.server.app import APIServerApp
from kube_lite.store import eventttl
from kube_lite.store.admission import SYSTEM_USER, AdmissionChain, UserInfo
from kube_lite.store.backend import Backend, open_backend
from kube_lite.store.builtin_admission import DefaultingPlugin, PriorityPlugin, ValidationPlugin
from kube_lite.store.cache import WatchCache
from kube_lite.store.registry import Registry

log = structlog.get_logger(__name__)


class APIServer:
    """Backend + watch cache + registry + ASGI app, optionally served over HTTPS."""

    def __init__(
        self,
        backend: str | Backend = "memory:",
        *,
        clock: Clock | None = None,
        data_dir: str | Path | None = None,
        listen: tuple[str, int] | None = None,
        extra_hosts: tuple[str, ...] = (),
    ) -> None:
        self.clock = clock or RealClock()
        self.backend_spec = backend
        self.data_dir = Path(data_dir) if data_dir else None
        self.listen = listen
        self.extra_hosts = extra_hosts
        self.kinds = KindRegistry.with_builtins()
        self.admission = AdmissionChain()
        self.admission.mutating.append(DefaultingPlugin())
        self.admission.validating.append(ValidationPlugin())
        self._stack: AsyncExitStack | None = None
        self.backend: Backend
        self.cache: WatchCache
        self.registry: Registry
        self.app: APIServerApp
        self.url: str | None = None
        self.pki: Any = None
        self._uvicorn: Any = None

    async def __aenter__(self) -> APIServer:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            backend = open_backend(self.backend_spec, clock=self.clock) if isinstance(self.backend_spec, str) else self.backend_spec
            self.backend = await stack.enter_async_context(backend)
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            self.cache = WatchCache(self.backend, clock=self.clock)
            await tg.start(self.cache.run)
            self.registry = Registry(self.backend, self.cache, clock=self.clock, admission=self.admission)
            self.admission.mutating.insert(0, PriorityPlugin(self.registry))
            namespaces = self.kinds.get("", "v1", "namespaces")
            assert namespaces is not None
            await self.registry.ensure_system_namespaces(namespaces)
            events = self.kinds.get("", "v1", "events")
            assert events is not None
            tg.start_soon(eventttl.run, self.registry, events, self.clock)
            authenticate = None
            public = None
            if self.listen is not None:
                from kube_lite.server import auth, certs

                assert self.data_dir is not None, "serving HTTPS needs a data dir for its certificates"
                # Certificates are checked by real clients against real time, whatever the cluster's clock.
                self.pki = certs.ensure_pki(self.data_dir, hosts=[self.listen[0], *self.extra_hosts], clock=RealClock())
                authenticator = auth.Authenticator.from_data_dir(self.data_dir)
                authenticate = authenticator.authenticate
                public = auth.is_public_path
            self.app = APIServerApp(self.registry, self.kinds, clock=self.clock, authenticate=authenticate, public_path=public)
            if self.listen is not None:
                await tg.start(self._serve)
        except BaseException:
            await stack.__aexit__(None, None, None)
            raise
        self._stack = stack
        return self

    async def _serve(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        from kube_lite.server import tlsserver

        assert self.listen is not None
        host, port = self.listen
        server = tlsserver.make_server(self.app, host, port, self.pki)
        self._uvicorn = server
        async with anyio.create_task_group() as tg:
            addresses = await tg.start(tlsserver.serve, server)
            bound = addresses[0][1] if addresses else port
            self.url = f"https://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}"
            task_status.started()

    async def __aexit__(self, *exc: object) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.__aexit__(None, None, None)

    def client(self, user: UserInfo = SYSTEM_USER) -> Client:
        """An in-process client acting as `user` (the system user by default)."""
        return Client(InProcessTransport(self.app, user), self.kinds)
