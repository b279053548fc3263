"""Shared helpers of the API benchmarks: a `kube-lite server` child process, and a small raw
HTTP/1.1-over-TLS client that costs the load generator as little CPU as possible.

    with ServerProcess("sqlite") as server:          # temp data dir, free port, bearer token
        server.url, server.token, server.kubeconfig, server.ssl_context()
        conn = await RawConnection.open(server.host, server.port, server.ssl_context())
        status, body = await conn.request("GET", "/api/v1/pods", server.auth_headers())

The server is started exactly as a user would start it (`kube-lite server --backend URL
--data-dir DIR --listen 127.0.0.1:PORT`), with a static token file written into its data dir
before it starts (kube-apiserver's --token-auth-file format; user `admin`, group
system:masters), because wrk speaks TLS but cannot present a client certificate. Clients
authenticate with that token; the server's CA is verified where the client can (the raw client
here does; wrk does not verify certificates at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

BACKENDS = {"memory": "memory:", "sqlite": None}  # None: the server's default, sqlite:DATA_DIR/state.db


def log(*parts: Any) -> None:
    """Progress on stderr (stdout carries the one JSON line)."""
    print(*parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kube_lite_command() -> list[str]:
    """The `kube-lite` entry point of this venv, or `python -m kube_lite` without one."""
    exe = BIN / "kube-lite"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "kube_lite"]


def raise_fd_limit(want: int = 65536) -> int:
    """Raise this process's soft open-files limit towards `want` (children inherit it)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of `values`, nearest-rank; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float | None:
    vals = [v for v in values if v is not None and v == v]
    return round(statistics.median(vals), 3) if vals else None


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds (Linux /proc); nan if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU use over an interval: the server process's (1.0 = one core busy) and the whole
    machine's (fraction of all cores busy, whoever uses them), to tell a slow server from a
    busy machine."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start()

    @staticmethod
    def _machine() -> tuple[int, int]:
        try:
            values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return 0, 0
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values), idle

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._cpu0 = cpu_seconds(self.pid)
        self._m0 = self._machine()

    def read(self) -> dict[str, float]:
        wall = max(1e-9, time.monotonic() - self._t0)
        total, idle = self._machine()
        dt = total - self._m0[0]
        busy = 1 - (idle - self._m0[1]) / dt if dt > 0 else float("nan")
        used = cpu_seconds(self.pid) - self._cpu0
        return {"server_cpu": round(used / wall, 2), "server_cpu_s": round(used, 3), "machine_busy": round(busy, 2)}


class ServerError(RuntimeError):
    pass


class ServerProcess:
    """`kube-lite server` as a child process on a free loopback port with a temp data dir.

    `start()` returns once /readyz answers 200 and the kubeconfig exists; `stop()` sends SIGTERM,
    waits (then SIGKILL) and removes the temp data dir unless `keep` is set. The server's stderr
    goes to DATA_DIR/server.log; its last lines are put into the error when it fails to start.
    """

    def __init__(
        self,
        backend: str = "sqlite",
        *,
        data_dir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        keep: bool = False,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.backend_name = backend
        self.backend_url = BACKENDS.get(backend, backend)
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="kube-lite-bench-"))
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.keep = keep
        self.extra_args = list(extra_args)
        self.env = env
        self.token = secrets.token_urlsafe(32)
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    @property
    def ca_path(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def write_token_file(self) -> None:
        """DATA_DIR/tokens.csv: token,user,uid,"groups" (kube-apiserver's --token-auth-file)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "tokens.csv"
        path.write_text(f'{self.token},admin,bench-admin,"system:masters"\n')
        path.chmod(0o600)

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.write_token_file()
        cmd = [*kube_lite_command(), "server", "--data-dir", str(self.data_dir), "--listen", f"{self.host}:{self.port}"]
        if self.backend_url is not None:
            cmd += ["--backend", self.backend_url]
        cmd += self.extra_args
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ, **(self.env or {}))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=self._log_file, env=env)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"kube-lite server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self._ready():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"kube-lite server not ready after {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def _ready(self) -> bool:
        if not self.kubeconfig.exists() or not self.ca_path.exists():
            return False
        try:
            status, _ = asyncio.run(_simple_get(self.host, self.port, self.ssl_context(), "/readyz", {}))
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, ValueError):
            return False
        return status == 200

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, SIGKILL if needed. Returns the exit code."""
        code = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"kube-lite server {self.proc.pid} ignored SIGTERM for {timeout:.0f}s; killing it")
                self.proc.kill()
                code = self.proc.wait()
        elif self.proc is not None:
            code = self.proc.returncode
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._own_dir and not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return code

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- clients

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that verifies the server against the cluster CA."""
        ctx = ssl.create_default_context(cafile=str(self.ca_path))
        ctx.check_hostname = False  # the serving certificate names 127.0.0.1 as an IP SAN; be lenient
        return ctx

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def connect(self) -> RawConnection:
        return await RawConnection.open(self.host, self.port, self.ssl_context())

    def profile(
        self, seconds: float, out: str | os.PathLike[str], fmt: str = "raw", rate: int = 250, idle: bool = False
    ) -> subprocess.Popen[bytes] | None:
        """Start `py-spy record` on the server for `seconds` (None when py-spy is missing).
        fmt: raw (collapsed stacks), flamegraph (svg) or speedscope; `idle` also samples
        threads that wait (wall-clock view). Wait on the returned process."""
        pyspy = shutil.which("py-spy") or (str(BIN / "py-spy") if (BIN / "py-spy").exists() else None)
        if pyspy is None:
            log("py-spy not found (pip install py-spy into the venv); not profiling")
            return None
        cmd = [pyspy, "record", "--pid", str(self.pid), "--duration", str(max(1, int(seconds))),
               "--rate", str(rate), "--format", fmt, "--output", str(out), "--nonblocking"]
        if idle:
            cmd.append("--idle")
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# -------------------------------------------------------------------- raw HTTP/1.1 client


class HTTPError(RuntimeError):
    pass


class RawConnection:
    """One keep-alive HTTP/1.1 connection over TLS on asyncio streams: just enough HTTP for
    the benchmarks (Content-Length and chunked bodies, no redirects, no compression), at a
    fraction of a general client's CPU cost per request. Not safe for concurrent requests:
    one request at a time per connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int) -> None:
        self.reader = reader
        self.writer = writer
        self.hostport = f"{host}:{port}".encode()

    @classmethod
    async def open(cls, host: str, port: int, ctx: ssl.SSLContext | None) -> RawConnection:
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx, limit=1 << 22)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, host, port)

    def send_request(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> None:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.hostport]
        lines += [f"{k}: {v}".encode() for k, v in headers.items()]
        if body is not None:
            lines.append(b"Content-Length: %d" % len(body))
        self.writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))

    async def read_head(self) -> tuple[int, dict[str, str]]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        first, _, rest = head.partition(b"\r\n")
        parts = first.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HTTPError(f"bad status line {first!r}")
        headers: dict[str, str] = {}
        for line in rest.split(b"\r\n"):
            if line:
                k, _, v = line.partition(b":")
                headers[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
        return int(parts[1]), headers

    async def read_body(self, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return await self.reader.readexactly(int(headers["content-length"]))
        if "chunked" in headers.get("transfer-encoding", ""):
            chunks = [c async for c in self.chunks()]
            return b"".join(chunks)
        return await self.reader.read()  # until close

    async def chunks(self) -> AsyncIterator[bytes]:
        """The chunks of a chunked body, until the last (empty) chunk."""
        reader = self.reader
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # (no trailers expected)
                return
            data = await reader.readexactly(size + 2)
            yield data[:-2]

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, bytes]:
        """Send one request and read its whole response: (status, body)."""
        self.send_request(method, path, headers, body)
        status, resp_headers = await self.read_head()
        data = await self.read_body(resp_headers)
        return status, data

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def _simple_get(host: str, port: int, ctx: ssl.SSLContext, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = await asyncio.wait_for(RawConnection.open(host, port, ctx), 5)
    try:
        return await asyncio.wait_for(conn.request("GET", path, headers), 10)
    finally:
        await conn.close()


# -------------------------------------------------------------------- objects


def pod_body(name: str, namespace: str = "default", annotations: dict[str, str] | None = None) -> bytes:
    """A small but realistic pod (one container with requests, labels), as JSON bytes. Its
    shape matches bench/wrk_create.lua's template."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"app": "bench", "tier": "backend"}}
    if annotations:
        meta["annotations"] = annotations
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "containers": [
                {"name": "app", "image": "registry.example/bench/app:1.0",
                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
            ]
        },
    }
    return json.dumps(doc, separators=(",", ":")).encode()


async def create_pods(
    server: ServerProcess, namespace: str, count: int, prefix: str, concurrency: int = 32
) -> int:
    """Create `count` pods named PREFIX-N in `namespace` over `concurrency` connections.
    Returns how many were created (201); raises HTTPError on any other status."""
    path = f"/api/v1/namespaces/{urllib.parse.quote(namespace)}/pods"
    headers = {**server.auth_headers(), "Content-Type": "application/json"}
    next_index = iter(range(count))
    created = 0
    if namespace not in ("default", "kube-system", "kube-public"):
        conn = await server.connect()
        try:
            await create_namespace(conn, server, namespace)
        finally:
            await conn.close()

    async def worker() -> None:
        nonlocal created
        conn = await server.connect()
        try:
            for i in next_index:
                status, body = await conn.request("POST", path, headers, pod_body(f"{prefix}-{i}", namespace))
                if status != 201:
                    raise HTTPError(f"create pod {prefix}-{i}: HTTP {status}: {body[:300]!r}")
                created += 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, count)))))
    return created


async def create_namespace(conn: RawConnection, server: ServerProcess, name: str) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}).encode()
    status, data = await conn.request(
        "POST", "/api/v1/namespaces", {**server.auth_headers(), "Content-Type": "application/json"}, body
    )
    if status not in (201, 409):
        raise HTTPError(f"create namespace {name}: HTTP {status}: {data[:300]!r}")


def machine() -> dict[str, Any]:
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        # Other work on the machine competes with the server for the same cores.
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
    }
