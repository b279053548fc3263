"""A real etcd for tests and benchmarks, and the ``etcd_url`` pytest fixture.

`EtcdServer` runs Debian's ``/usr/bin/etcd`` (etcd-server, 3.4) as a one-member cluster on
loopback, on free ports, with a temporary data directory, and stops it again (terminate, then
kill, then remove the directory). It is synchronous on purpose: it is started before an event
loop exists (a session fixture, a benchmark's setup).

Fixture contract (this module is loaded as a pytest plugin by ``tests/conftest.py``):

- ``etcd_server`` (session scope): one `EtcdServer` for the whole session. When etcd is not
  installed or does not start, every test that uses it is skipped, with the reason printed.
- ``etcd_url`` (function scope): ``etcd://127.0.0.1:PORT/kl-<uuid>``, a fresh key prefix on the
  session's server for every test, so tests are isolated from each other without restarting
  etcd. The key space under the prefix starts empty, but revisions are etcd's and global to the
  server: a test must not assume that the first write has revision 1 (or 2), only that every
  write advances the revision and that ``current_revision()`` of a fresh prefix is the server's
  present revision (>= 1, not 0). Compaction is global too: compacting from one test removes
  history for every prefix (tests run one after another, so this only matters to a test that
  reads history written before it started).

For speed, the test server keeps its data directory on ``/dev/shm`` (tmpfs) when that exists:
fsync is then a no-op, which is acceptable for tests and only for tests. etcd 3.4 has no
``--unsafe-no-fsync``. Benchmarks pass ``data_parent=None`` (a directory on disk) and keep
etcd's default fsync.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

ETCD_BINARY = "/usr/bin/etcd"
DATA_DIR_PREFIX = "kube-lite-etcd-"


class EtcdUnavailable(RuntimeError):
    """etcd is not installed, or did not become healthy."""


def _free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1 (etcd may still lose a race for it,
    which `EtcdServer.start` handles by trying again on other ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM etcd when the process that started it
    dies, so a killed test run or benchmark does not leave etcd behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _sweep_stale(parent: str) -> None:
    """Remove data directories under `parent` left by runs that were killed before `stop()`:
    those whose ``owner.pid`` names a process that no longer exists. Directories of live runs
    (and any without an owner file) are left alone."""
    for path in Path(parent).glob(f"{DATA_DIR_PREFIX}*"):
        try:
            pid = int((path / "owner.pid").read_text())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (OSError, ValueError):
            continue


def find_etcd() -> str | None:
    """The etcd binary's path: ``$KUBE_LITE_ETCD``, ``/usr/bin/etcd``, or ``etcd`` on PATH."""
    for candidate in (os.environ.get("KUBE_LITE_ETCD"), ETCD_BINARY, shutil.which("etcd")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class EtcdServer:
    """One etcd member on loopback with a throw-away data directory.

    ``data_parent`` is where the data directory is made (None: the system temp dir, on disk).
    ``start()`` returns once ``/health`` answers ``{"health":"true"}``; it raises
    `EtcdUnavailable` when the binary is missing or the server does not become healthy within
    ``start_timeout`` seconds (after ``attempts`` tries on fresh ports). ``stop()`` is
    idempotent. Use as a context manager to pair them.
    """

    def __init__(
        self,
        *,
        binary: str | None = None,
        data_parent: str | None = None,
        start_timeout: float = 20.0,
        attempts: int = 3,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.binary = binary or find_etcd()
        self.data_parent = data_parent
        self.start_timeout = start_timeout
        self.attempts = attempts
        self.extra_args = extra_args
        self.client_port = 0
        self.peer_port = 0
        self.data_dir: str | None = None
        self.log_path: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: object | None = None

    # --- addresses

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT`` of the client listener."""
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        """The kube-lite backend URL of this server, without a key prefix."""
        return f"etcd://{self.endpoint}"

    def url_with_prefix(self, prefix: str) -> str:
        """The backend URL with a key prefix (``/`` added in front when missing)."""
        return f"{self.url}/{prefix.lstrip('/')}"

    # --- lifecycle

    def start(self) -> EtcdServer:
        """Start etcd and wait until it is healthy. Raises EtcdUnavailable."""
        if self.binary is None:
            raise EtcdUnavailable(
                "etcd is not installed (apt-get install etcd-server, or scripts/install-system-deps.sh)"
            )
        if self._proc is not None:
            return self
        last_error = "not started"
        for _ in range(max(1, self.attempts)):
            try:
                self._start_once()
                return self
            except EtcdUnavailable as exc:
                last_error = str(exc)
                self.stop()
        raise EtcdUnavailable(last_error)

    def _start_once(self) -> None:
        assert self.binary is not None
        self.client_port, self.peer_port = _free_port(), _free_port()
        while self.peer_port == self.client_port:
            self.peer_port = _free_port()
        _sweep_stale(self.data_parent or tempfile.gettempdir())
        self.data_dir = tempfile.mkdtemp(prefix=DATA_DIR_PREFIX, dir=self.data_parent)
        Path(self.data_dir, "owner.pid").write_text(str(os.getpid()))
        self.log_path = os.path.join(self.data_dir, "etcd.log")
        client = f"http://127.0.0.1:{self.client_port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        args = [
            self.binary,
            "--name=kube-lite",
            f"--data-dir={os.path.join(self.data_dir, 'data')}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=kube-lite={peer}",
            "--initial-cluster-state=new",
            f"--initial-cluster-token=kube-lite-{uuid.uuid4().hex[:8]}",
            "--logger=zap",
            "--log-level=warn",
            "--log-outputs=stderr",
            *self.extra_args,
        ]
        log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log_file = log_file
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EtcdUnavailable(
                    f"etcd exited with code {self._proc.returncode}: {self._log_tail()}"
                )
            if self._healthy():
                return
            time.sleep(0.05)
        raise EtcdUnavailable(
            f"etcd did not become healthy within {self.start_timeout} s: {self._log_tail()}"
        )

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.client_port}/health", timeout=1.0
            ) as resp:
                return b'"true"' in resp.read()
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _log_tail(self, limit: int = 2000) -> str:
        if not self.log_path:
            return ""
        try:
            return Path(self.log_path).read_text(errors="replace")[-limit:].strip()
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop etcd (SIGTERM, then SIGKILL after 5 s) and remove its data directory.

        If the process that started etcd is killed instead, etcd gets SIGTERM from the kernel
        (PR_SET_PDEATHSIG) and the next `start()` sweeps the directory it left."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log_file, self._log_file = self._log_file, None
        if log_file is not None:
            with contextlib.suppress(OSError):
                log_file.close()  # type: ignore[attr-defined]
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> EtcdServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# --- pytest fixtures


def _test_data_parent() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdServer]:
    """One etcd for the test session (data on tmpfs when available); skips when unavailable."""
    server = EtcdServer(data_parent=_test_data_parent())
    try:
        server.start()
    except EtcdUnavailable as exc:
        reason = f"etcd unavailable: {exc}"
        print(f"\n[kube-lite] skipping etcd tests: {reason}", file=sys.stderr)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def etcd_url(etcd_server: EtcdServer) -> str:
    """``etcd://127.0.0.1:PORT/kl-<uuid>``: a fresh, empty key prefix per test (see module doc:
    revisions and compaction are global to the server)."""
    return etcd_server.url_with_prefix(f"kl-{uuid.uuid4().hex[:12]}")
