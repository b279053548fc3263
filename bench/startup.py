"""Startup, footprint and pod startup latency: how fast a cluster comes up, what it costs idle,
and how fast a pod goes from created to Running.

    python bench/startup.py [--runs 5] [--idle 5] [--up-backends sqlite,memory]
                            [--pods 1000] [--rate 100] [--latency-nodes 10] [--latency-runs 3]
                            [--latency-gc default|tuned|both] [--via-up]
                            [--big] [--big-nodes 1000] [--big-pods 30000] [--big-timeout 900]
                            [--big-gc default|tuned|both] [--gc-tuned]
                            [--phases up,embedded,latency] [--profile DIR]

Phases (each run in a fresh child process, so one phase's heap or warm caches never count in
another's figures):

up        `kube-lite up --nodes 3 --data-dir TMP --listen 127.0.0.1:PORT` started as a user
          starts it (a fresh data dir each run, so the cluster CA and certificates are generated:
          a first start). The clock starts just before the exec. The bench polls GET
          /api/v1/nodes over HTTPS with the admin client certificate the process writes
          (TMP/pki/admin.crt, admin.key, ca.crt) every --poll-ms: `api_reachable_s` is the first
          200, `ready_s` the first answer with every node (control-plane + 3 workers) Ready with
          a podCIDR. The stderr lines "API server" and "ready:" are timestamped too. The process
          then idles --idle seconds: `rss_idle_mb` is VmRSS from /proc/PID/status, `idle_cpu`
          its CPU time over that wall time (1.0 = one core). Then SIGTERM: `stop_s` until it
          exits, `stop_tracebacks` counts tracebacks it printed while stopping (should be 0).
          `cli_version_s` is `kube-lite --version` (interpreter + CLI import: the floor of any
          command). The default backend of `up` is SQLite (durable); `memory:` is run too.
embedded  A child Python imports what an embedding program imports (`import_cluster_s`), then
          every other kube_lite module and the plugins a Cluster loads (`import_s`, both
          excluded from the figure), then times `async with Cluster(nodes=3, runtime="fake",
          backend="memory:")` + `await cluster.wait_ready()`: `ready_s` is the first Cluster of
          the process (what an embedding test suite pays once), `warm_ready_s` further Clusters
          in the same process (what each later test pays); `stop_s` is leaving the block.
          `interpreter_s` is `python -c pass`; `import_top_self_ms` the modules whose own import
          code costs most (-X importtime).
latency   A child process runs Cluster(nodes=--latency-nodes, runtime="fake",
          backend="memory:"), opens a watch on pods, and creates --pods pods at a steady
          --rate (open loop: creation i is issued at t0 + i/rate, whether or not earlier ones
          have returned, so a stall shows as latency, not as a slower rate). A pod's latency is
          from the client-side time its create was issued to the time the watch delivers it
          with status.phase Running and every containerStatuses[].state.running set
          (creationTimestamp has second resolution only). Default 10 nodes: 1,000 pods at 110
          pods/node (the kubelet's maxPods) need 10; pods stay (a density run, as Kubernetes'
          pod-startup SLO is measured). Run with CPython's default GC (`gc_default`, as an
          embedding program runs) and with kube_lite.gctune applied once Ready (`gc_tuned`, as
          `kube-lite up` does); `gc_*` report the collector's pauses during the run (the loop
          stands still meanwhile), `cpu_ms_per_pod` the process's CPU per pod started,
          `idle_cpu_after` its CPU over --idle seconds once all pods run (the steady cost of
          running pods). `--via-up` repeats it through `kube-lite up --backend memory:` over
          HTTPS (the bench is the client, in its own process).
big       (--big) One child process runs Cluster(nodes=--big-nodes, backend="memory:",
          cluster_cidr="10.0.0.0/8") and creates --big-pods pods (--big-creators concurrent
          creators) until all are Running (watch with fieldSelector status.phase=Running);
          reports each stage's duration, VmRSS at each stage and after --idle more seconds,
          the asyncio tasks alive once nodes are Ready and when idle (`tasks`), the CPU used
          and the GC pauses. If --big-timeout passes first, it reports how far it
          got (`reached_pods_running`, `timed_out`). Run with CPython's default GC
          (`gc_default`, as an embedding program runs by default) and with
          Cluster(tune_gc=True) (`gc_tuned`: kube_lite.gctune, as `kube-lite up` runs), each in
          its own child (--big-gc; `--gc-tuned` alone means --big-gc tuned).

Medians over runs. `headline` has the five figures, each with its goal and an anchor (what the
well-known tools take). `machine_busy` is the fraction of all cores busy during a phase,
whoever used them: on a shared machine other work slows every figure here. `--profile DIR`
writes py-spy collapsed stacks (extra, unmeasured runs): up-start.txt (the `up` process from
exec to Ready; py-spy launching it slows it), latency.txt, big.txt. Prints ONE JSON line on
stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (  # noqa: E402
    BIN,
    RawConnection,
    cpu_seconds,
    free_port,
    kube_lite_command,
    log,
    machine,
    median,
    percentile,
    raise_fd_limit,
)

HERE = Path(__file__).resolve()
PYSPY = shutil.which("py-spy") or (str(BIN / "py-spy") if (BIN / "py-spy").exists() else None)

GOALS: dict[str, dict[str, str]] = {
    "up_ready_s": {"goal": "< 1 s", "anchor": "kind 12-17 s; k3s tens of seconds"},
    "embedded_ready_s": {"goal": "< 0.05 s (imports excluded)", "anchor": "envtest 5-7 s"},
    "up_rss_idle_mb": {"goal": "< 150 MB", "anchor": "idle k3s server ~535 MB"},
    "pod_startup_p99_ms": {"goal": "< 100 ms", "anchor": "Kubernetes SLO: p99 <= 5 s"},
    "big_rss_mb": {"goal": "< 2048 MB (1,000 nodes, 30,000 running pods)",
                   "anchor": "kwok: 1,000 nodes and 100,000 pods on a laptop"},
}


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) and the like from /proc/PID/status, in kB."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.startswith("Vm") or key.startswith("Rss"):
                out[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return out


def rss_mb(pid: int) -> float | None:
    kb = proc_status(pid).get("VmRSS")
    return round(kb / 1024, 1) if kb is not None else None


def hwm_mb(pid: int) -> float | None:
    kb = proc_status(pid).get("VmHWM")
    return round(kb / 1024, 1) if kb is not None else None


class MachineMeter:
    """The fraction of all the machine's cores busy since creation, whoever used them (other
    work on a shared machine slows every figure here)."""

    def __init__(self) -> None:
        self._t0 = self._read()

    @staticmethod
    def _read() -> tuple[int, int]:
        try:
            values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return 0, 0
        return sum(values), values[3] + (values[4] if len(values) > 4 else 0)

    def busy(self) -> float | None:
        total, idle = self._read()
        dt = total - self._t0[0]
        return round(1 - (idle - self._t0[1]) / dt, 2) if dt > 0 else None


def ms(seconds: float | None) -> float | None:
    return None if seconds is None or seconds != seconds else round(seconds * 1000, 1)


def pyspy_record(pid: int, out: Path, seconds: float, rate: int = 200) -> subprocess.Popen[bytes] | None:
    if PYSPY is None:
        log("py-spy not found; not profiling")
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [PYSPY, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", str(rate),
           "--format", "raw", "--output", str(out), "--nonblocking"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ==================================================================== phase: kube-lite up


def client_context(data_dir: Path) -> ssl.SSLContext:
    pki = data_dir / "pki"
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.check_hostname = False  # the serving certificate names 127.0.0.1 as an IP SAN
    ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return ctx


def all_ready(body: bytes, want: int) -> bool:
    items = json.loads(body).get("items") or []
    ready = 0
    for node in items:
        if not (node.get("spec") or {}).get("podCIDR"):
            continue
        conds = (node.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            ready += 1
    return ready >= want


class UpProcess:
    """`kube-lite up` as a child: its stderr lines timestamped, the API polled with the admin
    certificate."""

    def __init__(self, nodes: int, backend: str | None, data_dir: Path, profile: Path | None = None) -> None:
        self.nodes = nodes
        self.backend = backend
        self.data_dir = data_dir
        self.port = free_port()
        self.profile = profile
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[tuple[float, str]] = []
        self.t0 = 0.0
        self._reader: asyncio.Task[None] | None = None
        self._pyspy: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        cmd = [*kube_lite_command(), "up", "--nodes", str(self.nodes), "--data-dir", str(self.data_dir),
               "--listen", f"127.0.0.1:{self.port}"]
        if self.backend:
            cmd += ["--backend", self.backend]
        if self.profile is not None and PYSPY is not None:
            # py-spy launches the command itself so the profile covers the interpreter's start.
            self.profile.parent.mkdir(parents=True, exist_ok=True)
            cmd = [PYSPY, "record", "--rate", "1000", "--format", "raw", "--output", str(self.profile), "--", *cmd]
        self.t0 = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self._reader = asyncio.ensure_future(self._read_stderr())

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                return
            self.lines.append((time.perf_counter() - self.t0, line.decode(errors="replace").rstrip()))

    def line_time(self, needle: str) -> float | None:
        return next((t for t, text in self.lines if needle in text), None)

    def target_pid(self) -> int:
        """The kube-lite process (py-spy's child when profiling)."""
        if self.profile is None or PYSPY is None:
            return self.pid
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            children = []
        return int(children[0]) if children else self.pid

    async def wait_api(self, poll: float, limit_s: float) -> dict[str, float | None]:
        """Poll GET /api/v1/nodes until every node is Ready: (api_reachable_s, ready_s)."""
        want = self.nodes + 1  # + the control-plane node
        api_at: float | None = None
        conn: RawConnection | None = None
        ctx: ssl.SSLContext | None = None
        deadline = self.t0 + limit_s
        assert self.proc is not None
        try:
            while time.perf_counter() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"kube-lite up exited with {self.proc.returncode}:\n" + self.tail())
                try:
                    if ctx is None:
                        ctx = client_context(self.data_dir)
                    if conn is None:
                        conn = await asyncio.wait_for(RawConnection.open("127.0.0.1", self.port, ctx), 5)
                    status, body = await asyncio.wait_for(conn.request("GET", "/api/v1/nodes", {}), 5)
                    now = time.perf_counter() - self.t0
                    if status == 200:
                        if api_at is None:
                            api_at = now
                        if all_ready(body, want):
                            return {"api_reachable_s": api_at, "ready_s": now}
                except (OSError, ssl.SSLError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    # Not listening yet, certificates half written, or the connection dropped.
                    if conn is not None:
                        await conn.close()
                    conn = None
                    if not (self.data_dir / "pki" / "admin.key").exists():
                        ctx = None
                await asyncio.sleep(poll)
            raise RuntimeError(f"kube-lite up: nodes not Ready after {limit_s:.0f}s:\n" + self.tail())
        finally:
            if conn is not None:
                await conn.close()

    def tail(self, n: int = 25) -> str:
        return "\n".join(text for _, text in self.lines[-n:])

    async def stop(self, limit_s: float = 20.0) -> float | None:
        """SIGTERM to kube-lite (to py-spy's child when profiling), wait; the seconds it took
        to exit."""
        if self.proc is None or self.proc.returncode is not None:
            return None
        target = self.target_pid()
        t = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGTERM)
        stopped: float | None = None
        try:
            await asyncio.wait_for(self.proc.wait(), limit_s)
            stopped = time.perf_counter() - t
        except TimeoutError:
            log(f"kube-lite up {target} ignored SIGTERM for {limit_s:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(target, signal.SIGKILL)
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reader, 5)
        return stopped


async def up_run(args: argparse.Namespace, backend: str | None, profile: Path | None) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="kube-lite-startup-"))
    up = UpProcess(3, backend, data_dir, profile)
    try:
        await up.start()
        times = await up.wait_api(args.poll_ms / 1000, args.timeout)
        out: dict[str, Any] = dict(times)
        ready_line = None
        for _ in range(100):  # the line is written right after wait_ready returns
            ready_line = up.line_time("ready:")
            if ready_line is not None:
                break
            await asyncio.sleep(0.01)
        out["ready_line_s"] = ready_line
        out["api_line_s"] = up.line_time("API server")
        pid = up.target_pid()
        out["rss_at_ready_mb"] = rss_mb(pid)
        cpu0, w0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(args.idle)
        out["idle_cpu"] = round((cpu_seconds(pid) - cpu0) / (time.perf_counter() - w0), 3)
        status = proc_status(pid)
        out["rss_idle_mb"] = round(status.get("VmRSS", 0) / 1024, 1)
        out["hwm_mb"] = round(status.get("VmHWM", 0) / 1024, 1)
        before = len(up.lines)
        out["stop_s"] = await up.stop()
        out["stop_tracebacks"] = sum("Traceback" in text for _, text in up.lines[before:])
        return out
    finally:
        await up.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def cli_version_time() -> float:
    t = time.perf_counter()
    subprocess.run([*kube_lite_command(), "--version"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def phase_up(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"cli_version_s": median([cli_version_time() for _ in range(args.runs)])}
    for name in args.up_backends:
        backend = None if name == "sqlite" else name if ":" in name else f"{name}:"
        runs = []
        for i in range(args.runs):
            meter = MachineMeter()
            run = asyncio.run(up_run(args, backend, None))
            run["machine_busy"] = meter.busy()
            log(f"  up [{name}] run {i + 1}: api {run['api_reachable_s']:.3f} s, ready {run['ready_s']:.3f} s, "
                f"rss idle {run['rss_idle_mb']} MB, idle cpu {run['idle_cpu']}, stop {run['stop_s']}")
            runs.append(run)
        keys = ["api_reachable_s", "ready_s", "ready_line_s", "api_line_s", "rss_at_ready_mb", "rss_idle_mb",
                "hwm_mb", "idle_cpu", "stop_s", "machine_busy"]
        summary: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys}
        summary["ready_s_all"] = [round(r["ready_s"], 3) for r in runs]
        summary["stop_tracebacks"] = sum(r["stop_tracebacks"] for r in runs)
        result[name] = summary
    if args.profile:
        path = Path(args.profile) / "up-start.txt"
        asyncio.run(up_run(argparse.Namespace(**{**vars(args), "idle": 0.0}), None, path))
        result["profile"] = str(path)
    return result


# ==================================================================== children


def run_child(mode: str, args: argparse.Namespace, profile: Path | None = None, profile_seconds: float = 0.0,
              extra: list[str] | None = None) -> dict[str, Any]:
    """Run this script as `--child MODE` in a fresh interpreter; its last stdout line is JSON."""
    cmd = [sys.executable, str(HERE), "--child", mode, *child_args(args), *(extra or [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=None, text=True)
    spy = None
    if profile is not None:
        time.sleep(0.5)  # let it import before sampling
        spy = pyspy_record(proc.pid, profile, profile_seconds)
    out, _ = proc.communicate()
    if spy is not None:
        spy.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"child {mode} failed with {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def child_args(args: argparse.Namespace) -> list[str]:
    return [
        "--idle", str(args.idle), "--pods", str(args.pods), "--rate", str(args.rate),
        "--latency-nodes", str(args.latency_nodes), "--warmup", str(args.warmup),
        "--big-nodes", str(args.big_nodes), "--big-pods", str(args.big_pods),
        "--big-creators", str(args.big_creators), "--big-timeout", str(args.big_timeout),
        "--embedded-warm", str(args.embedded_warm), "--timeout", str(args.timeout),
    ]


EMBED_IMPORTS = "import kube_lite.cluster, kube_lite.agent, kube_lite.controllers.manager, kube_lite.scheduler"


def import_everything() -> None:
    """Import every kube_lite module but the CLI's, and the plugins a Cluster loads by entry
    point: a Cluster imports some of them on first use, and the figure excludes imports."""
    import importlib
    import pkgutil

    import kube_lite
    from kube_lite.cluster import load_plugin

    for info in pkgutil.walk_packages(kube_lite.__path__, "kube_lite."):
        if not info.name.startswith("kube_lite.cli"):
            with contextlib.suppress(Exception):  # an optional dependency missing
                importlib.import_module(info.name)
    load_plugin("kube_lite.runtimes", "fake")
    load_plugin("kube_lite.cni", "hostlocal")
    load_plugin("kube_lite.backends", "memory")


def child_embedded(args: argparse.Namespace) -> dict[str, Any]:
    t = time.perf_counter()
    import anyio

    exec(EMBED_IMPORTS)  # what an embedding program imports
    import_cluster_s = time.perf_counter() - t
    import_everything()
    import_s = time.perf_counter() - t

    from kube_lite.cluster import Cluster

    async def main() -> dict[str, Any]:
        ready: list[float] = []
        enter: list[float] = []
        stop: list[float] = []
        for _ in range(1 + args.embedded_warm):
            t0 = time.perf_counter()
            cluster = Cluster(nodes=3, runtime="fake", backend="memory:")
            async with cluster:
                enter.append(time.perf_counter() - t0)
                with anyio.fail_after(args.timeout):
                    await cluster.wait_ready()
                ready.append(time.perf_counter() - t0)
                t1 = time.perf_counter()
            stop.append(time.perf_counter() - t1)
        return {
            "import_s": import_s, "import_cluster_s": import_cluster_s, "ready_s": ready[0], "enter_s": enter[0], "stop_s": stop[0],
            "warm_ready_s": median(ready[1:]), "warm_enter_s": median(enter[1:]), "warm_stop_s": median(stop[1:]),
            "rss_mb": rss_mb(os.getpid()),
        }

    return anyio.run(main)


def is_running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    containers = status.get("containerStatuses") or []
    return bool(containers) and all("running" in (c.get("state") or {}) for c in containers)


def pod_manifest(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "registry.example/bench/app:1.0"}]}}


async def measure_latency(client: Any, pods: int, rate: float, warmup: int, limit_s: float) -> dict[str, Any]:
    """Create pods at `rate`/s (open loop) while one watch times each pod's Running."""
    import anyio

    issued: dict[str, float] = {}
    acked: dict[str, float] = {}
    running: dict[str, float] = {}
    errors: list[str] = []
    names = [f"warm-{i:05d}" for i in range(warmup)] + [f"lat-{i:05d}" for i in range(pods)]

    async def create(name: str) -> None:
        issued[name] = time.perf_counter()
        try:
            await client.create("pods", pod_manifest(name), namespace="default")
        except Exception as exc:  # noqa: BLE001 - counted, reported
            errors.append(f"{name}: {exc}")
        acked[name] = time.perf_counter()

    async def creator(tg: Any) -> None:
        t0 = time.perf_counter()
        for i, name in enumerate(names):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await anyio.sleep(delay)
            tg.start_soon(create, name)

    t_start = time.perf_counter()
    with anyio.move_on_after(limit_s) as scope:
        async with client.watch("pods", namespace="default") as events, anyio.create_task_group() as tg:
            tg.start_soon(creator, tg)
            async for ev in events:
                name = ev.object["metadata"]["name"]
                if name not in running and ev.type != "DELETED" and is_running(ev.object):
                    running[name] = time.perf_counter()
                    if len(running) == len(names):
                        break
            tg.cancel_scope.cancel()
    elapsed = time.perf_counter() - t_start
    lat = [running[n] - issued[n] for n in names[warmup:] if n in running and n in issued]
    create_rtt = [acked[n] - issued[n] for n in names[warmup:] if n in acked]
    issue_span = max(issued.values()) - min(issued.values()) if len(issued) > 1 else 0.0
    return {
        "pods": pods, "warmup": warmup, "running": len(lat), "errors": len(errors), "first_errors": errors[:3],
        "timed_out": scope.cancelled_caught,
        "rate_target": rate, "rate_achieved": round((len(issued) - 1) / issue_span, 1) if issue_span else None,
        "p50_ms": ms(percentile(lat, 50)), "p90_ms": ms(percentile(lat, 90)), "p99_ms": ms(percentile(lat, 99)),
        "max_ms": ms(max(lat) if lat else None),
        "create_p50_ms": ms(percentile(create_rtt, 50)), "create_p99_ms": ms(percentile(create_rtt, 99)),
        "elapsed_s": round(elapsed, 2),
    }


class GCPauses:
    """Garbage-collector pauses of this process (gc.callbacks): the event loop stands still
    while CPython collects, so every pause adds to the latency of whatever is in flight."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._t = 0.0

    def __enter__(self) -> GCPauses:
        import gc

        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        import gc

        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.pauses.append((info.get("generation", -1), time.perf_counter() - self._t))

    def summary(self) -> dict[str, Any]:
        full = [d for g, d in self.pauses if g == 2]
        return {"gc_collections": len(self.pauses), "gc_full": len(full),
                "gc_max_pause_ms": ms(max((d for _, d in self.pauses), default=0.0)),
                "gc_full_max_pause_ms": ms(max(full, default=0.0)),
                "gc_total_pause_ms": ms(sum(d for _, d in self.pauses))}


def child_latency(args: argparse.Namespace) -> dict[str, Any]:
    import anyio

    from kube_lite.cluster import Cluster

    async def main() -> dict[str, Any]:
        async with Cluster(nodes=args.latency_nodes, runtime="fake", backend="memory:") as cluster:
            with anyio.fail_after(args.timeout):
                await cluster.wait_ready()
            if args.gc_tuned:
                from kube_lite.gctune import tune_gc

                tune_gc()  # what `kube-lite up` and `server` do once ready
            cpu0, w0 = time.process_time(), time.perf_counter()
            with GCPauses() as gc_pauses:
                out = await measure_latency(cluster.client, args.pods, args.rate, args.warmup,
                                            args.pods / args.rate + 60)
            cpu = time.process_time() - cpu0
            out["cpu_per_wall"] = round(cpu / (time.perf_counter() - w0), 2)
            out["cpu_ms_per_pod"] = round(cpu * 1000 / max(1, out["running"]), 2)
            out.update(gc_pauses.summary())
            out["rss_mb"] = rss_mb(os.getpid())
            # The steady cost of the pods once they run (pod workers' relists, status resyncs).
            cpu0, w0 = time.process_time(), time.perf_counter()
            await anyio.sleep(args.idle)
            out["idle_cpu_after"] = round((time.process_time() - cpu0) / (time.perf_counter() - w0), 3)
            return out

    return anyio.run(main)


async def latency_via_up(args: argparse.Namespace) -> dict[str, Any]:
    from kube_lite.client.client import Client
    from kube_lite.client.transport import HTTPTransport

    data_dir = Path(tempfile.mkdtemp(prefix="kube-lite-startup-"))
    up = UpProcess(args.latency_nodes, "memory:", data_dir)
    try:
        await up.start()
        await up.wait_api(args.poll_ms / 1000, args.timeout)
        pid = up.target_pid()
        cpu0, w0 = cpu_seconds(pid), time.perf_counter()
        async with Client(HTTPTransport.from_kubeconfig(data_dir / "kubeconfig")) as client:
            out = await measure_latency(client, args.pods, args.rate, args.warmup, args.pods / args.rate + 60)
        out["server_cpu"] = round((cpu_seconds(pid) - cpu0) / (time.perf_counter() - w0), 2)
        out["server_rss_mb"] = rss_mb(pid)
        return out
    finally:
        await up.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def phase_latency(args: argparse.Namespace) -> dict[str, Any]:
    keys = ["p50_ms", "p90_ms", "p99_ms", "max_ms", "create_p50_ms", "create_p99_ms", "rate_achieved", "cpu_per_wall",
            "cpu_ms_per_pod", "idle_cpu_after", "gc_full", "gc_full_max_pause_ms", "gc_max_pause_ms",
            "gc_total_pause_ms", "rss_mb", "machine_busy"]
    result: dict[str, Any] = {"nodes": args.latency_nodes, "pods": args.pods, "rate_target": args.rate,
                              "warmup": args.warmup}
    variants = {"default": ["default"], "tuned": ["tuned"], "both": ["default", "tuned"]}[args.latency_gc]
    for variant in variants:
        runs = []
        for i in range(args.latency_runs):
            meter = MachineMeter()
            run = run_child("latency", args, extra=["--gc-tuned"] if variant == "tuned" else [])
            run["machine_busy"] = meter.busy()
            log(f"  latency [gc {variant}] run {i + 1}: p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
                f"max {run['max_ms']} ms, running {run['running']}/{run['pods']}, rate {run['rate_achieved']}/s, "
                f"cpu {run['cpu_per_wall']} ({run['cpu_ms_per_pod']} ms/pod), full gc max "
                f"{run['gc_full_max_pause_ms']} ms, machine busy {run['machine_busy']}")
            runs.append(run)
        summary: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys}
        summary.update(runs=len(runs), p99_ms_all=[r["p99_ms"] for r in runs],
                       not_running=sum(r["pods"] - r["running"] for r in runs), errors=sum(r["errors"] for r in runs))
        result["gc_" + variant] = summary
    if args.via_up:
        vruns = []
        for i in range(args.latency_runs):
            run = asyncio.run(latency_via_up(args))
            log(f"  latency via up run {i + 1}: p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
                f"running {run['running']}/{run['pods']}, server cpu {run['server_cpu']}")
            vruns.append(run)
        vkeys = ["p50_ms", "p90_ms", "p99_ms", "max_ms", "create_p50_ms", "create_p99_ms", "rate_achieved",
                 "server_cpu", "server_rss_mb"]
        result["via_up"] = {k: median([r[k] for r in vruns]) for k in vkeys}
        result["via_up"]["not_running"] = sum(r["pods"] - r["running"] for r in vruns)
    if args.profile:
        args = argparse.Namespace(**{**vars(args), "idle": 0.0})
        path = Path(args.profile) / "latency.txt"
        run_child("latency", args, path, args.pods / args.rate + 5)
        result["profile"] = str(path)
    return result


def child_big(args: argparse.Namespace) -> dict[str, Any]:
    import anyio

    from kube_lite.cluster import Cluster

    pid = os.getpid()
    stages: dict[str, Any] = {}
    rss: dict[str, Any] = {}
    tasks: dict[str, int] = {}  # asyncio tasks alive (a node agent's footprint is mostly its tasks)

    async def main() -> None:
        t0 = time.perf_counter()
        stages["reached_pods_running"] = 0
        # The embedding opt-in: kube_lite.gctune from the end of the start to the end of the block.
        cluster = Cluster(nodes=args.big_nodes, runtime="fake", backend="memory:", cluster_cidr="10.0.0.0/8",
                          tune_gc=args.gc_tuned)
        async with cluster:
            stages["enter_s"] = round(time.perf_counter() - t0, 2)
            rss["entered_mb"] = rss_mb(pid)
            with anyio.fail_after(args.big_timeout):
                await cluster.wait_ready()
            stages["nodes_ready_s"] = round(time.perf_counter() - t0, 2)
            rss["nodes_ready_mb"] = rss_mb(pid)
            tasks["nodes_ready"] = len(asyncio.all_tasks())
            log(f"  big: {args.big_nodes} nodes Ready in {stages['nodes_ready_s']} s, rss {rss['nodes_ready_mb']} MB")
            client = cluster.client
            names = [f"big-{i:06d}" for i in range(args.big_pods)]
            created = 0
            running: set[str] = set()
            t1 = time.perf_counter()
            deadline = t0 + args.big_timeout

            async def creator(share: list[str]) -> None:
                nonlocal created
                for name in share:
                    await client.create("pods", pod_manifest(name), namespace="default")
                    created += 1
                if created == len(names):
                    stages["pods_created_s"] = round(time.perf_counter() - t1, 2)
                    rss["pods_created_mb"] = rss_mb(pid)

            async def progress() -> None:
                while True:
                    await anyio.sleep(10)
                    log(f"  big: t+{time.perf_counter() - t1:.0f} s: created {created}, running {len(running)}, "
                        f"rss {rss_mb(pid)} MB")

            with anyio.move_on_after(max(1.0, deadline - time.perf_counter())) as scope:
                async with anyio.create_task_group() as tg, client.watch(
                    "pods", namespace="default", field_selector="status.phase=Running"
                ) as events:
                    tg.start_soon(progress)
                    for k in range(args.big_creators):
                        tg.start_soon(creator, names[k::args.big_creators])
                    async for ev in events:
                        if ev.type != "DELETED":
                            running.add(ev.object["metadata"]["name"])
                            if len(running) == len(names):
                                break
                    tg.cancel_scope.cancel()
            stages["timed_out"] = scope.cancelled_caught
            stages["reached_pods_created"] = created
            stages["reached_pods_running"] = len(running)
            stages["pods_running_s"] = round(time.perf_counter() - t1, 2)
            rss["pods_running_mb"] = rss_mb(pid)
            log(f"  big: {len(running)} pods Running {stages['pods_running_s']} s after the first create, "
                f"rss {rss['pods_running_mb']} MB")
            cpu0, w0 = time.process_time(), time.perf_counter()
            await anyio.sleep(args.idle)
            stages["idle_cpu"] = round((time.process_time() - cpu0) / (time.perf_counter() - w0), 3)
            rss["idle_mb"] = rss_mb(pid)
            tasks["idle"] = len(asyncio.all_tasks())
            rss["hwm_mb"] = hwm_mb(pid)
            t2 = time.perf_counter()
        stages["stop_s"] = round(time.perf_counter() - t2, 2)

    t = time.perf_counter()
    cpu = time.process_time()
    with GCPauses() as gc_pauses:
        anyio.run(main)
    stages["total_s"] = round(time.perf_counter() - t, 2)
    stages["cpu_s"] = round(time.process_time() - cpu, 1)
    return {"nodes": args.big_nodes, "pods": args.big_pods, "creators": args.big_creators, "gc_tuned": args.gc_tuned,
            "stages": stages, "rss": rss, "tasks": tasks, **gc_pauses.summary()}


def phase_big(args: argparse.Namespace) -> dict[str, Any]:
    variants = {"default": ["default"], "tuned": ["tuned"], "both": ["default", "tuned"]}[args.big_gc]
    result: dict[str, Any] = {"nodes": args.big_nodes, "pods": args.big_pods}
    for variant in variants:
        name = "big.txt" if variant == "default" else f"big-{variant}.txt"
        profile = Path(args.profile) / name if args.profile else None
        meter = MachineMeter()
        run = run_child("big", args, profile, args.big_timeout, extra=["--gc-tuned"] if variant == "tuned" else [])
        run["machine_busy"] = meter.busy()
        if profile is not None:
            run["profile"] = str(profile)
        stages = run["stages"]
        log(f"  big [gc {variant}]: {stages['reached_pods_running']}/{run['pods']} Running in "
            f"{stages['pods_running_s']} s, rss {run['rss'].get('pods_running_mb')} MB, cpu {stages['cpu_s']} s, "
            f"gc pauses {run['gc_total_pause_ms']} ms")
        result["gc_" + variant] = run
    return result


# ==================================================================== main


def phase_embedded(args: argparse.Namespace) -> dict[str, Any]:
    interp = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        interp.append(time.perf_counter() - t)
    runs = []
    for i in range(args.runs):
        meter = MachineMeter()
        run = run_child("embedded", args)
        run["machine_busy"] = meter.busy()
        log(f"  embedded run {i + 1}: import {run['import_s']:.3f} s, ready {run['ready_s'] * 1000:.1f} ms, "
            f"warm {None if run['warm_ready_s'] is None else round(run['warm_ready_s'] * 1000, 1)} ms")
        runs.append(run)
    keys = ["import_s", "import_cluster_s", "ready_s", "enter_s", "stop_s", "warm_ready_s", "warm_enter_s", "warm_stop_s", "rss_mb", "machine_busy"]
    result: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys}
    result["ready_ms"] = median([ms(r["ready_s"]) for r in runs])
    result["warm_ready_ms"] = median([ms(r["warm_ready_s"]) for r in runs])
    result["ready_ms_all"] = [ms(r["ready_s"]) for r in runs]
    result["interpreter_s"] = median(interp)
    result["import_top_self_ms"] = import_top()
    return result


def import_top(n: int = 8) -> dict[str, float]:
    """The modules whose own import code (-X importtime "self") costs most, in ms."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", EMBED_IMPORTS],
                          capture_output=True, text=True, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((int(parts[0]) / 1000, parts[2].strip()))
    rows.sort(reverse=True)
    return {name: round(self_ms, 1) for self_ms, name in rows[:n]}


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The five figures with their goals, met or not."""
    out: dict[str, Any] = {}

    def put(key: str, value: Any, ok: bool | None) -> None:
        out[key] = {"value": value, **GOALS[key], "met": ok}

    up = results.get("up") or {}
    first = next((up[k] for k in ("sqlite", "memory") if k in up), None)
    if first:
        put("up_ready_s", first["ready_s"], first["ready_s"] is not None and first["ready_s"] < 1.0)
        put("up_rss_idle_mb", first["rss_idle_mb"], first["rss_idle_mb"] is not None and first["rss_idle_mb"] < 150)
    emb = results.get("embedded")
    if emb:
        put("embedded_ready_s", emb["ready_s"], emb["ready_s"] is not None and emb["ready_s"] < 0.05)
    lat = (results.get("latency") or {}).get("gc_default") or (results.get("latency") or {}).get("gc_tuned")
    if lat:
        put("pod_startup_p99_ms", lat["p99_ms"], lat["p99_ms"] is not None and lat["p99_ms"] < 100 and not lat["not_running"])
        tuned = (results.get("latency") or {}).get("gc_tuned")
        if tuned and tuned is not lat:
            out["pod_startup_p99_ms"]["value_gc_tuned"] = tuned["p99_ms"]
        via = (results.get("latency") or {}).get("via_up")
        if via:
            out["pod_startup_p99_ms"]["value_via_up"] = via["p99_ms"]
    big = (results.get("big") or {}).get("gc_default") or (results.get("big") or {}).get("gc_tuned")
    if big:
        value = big["rss"].get("pods_running_mb")
        done = big["stages"].get("reached_pods_running") == big["pods"]
        full_size = big["nodes"] >= 1000 and big["pods"] >= 30000  # smaller runs say nothing about the goal
        put("big_rss_mb", value, value is not None and value < 2048 and done and full_size)
        out["big_rss_mb"].update(nodes=big["nodes"], pods=big["pods"], gc_tuned=big["gc_tuned"],
                                 pods_running=big["stages"].get("reached_pods_running"),
                                 seconds_to_running=big["stages"].get("pods_running_s"))
        tuned = results["big"].get("gc_tuned")
        if tuned and tuned is not big:
            out["big_rss_mb"].update(value_gc_tuned=tuned["rss"].get("pods_running_mb"),
                                     pods_running_gc_tuned=tuned["stages"].get("reached_pods_running"),
                                     seconds_to_running_gc_tuned=tuned["stages"].get("pods_running_s"))
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="runs of the up and embedded phases (medians)")
    p.add_argument("--phases", default="up,embedded,latency", help="comma-separated: up, embedded, latency, big")
    p.add_argument("--up-backends", default="sqlite,memory", help="backends of `kube-lite up` (sqlite is its default)")
    p.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading RSS")
    p.add_argument("--poll-ms", type=float, default=10.0, help="API poll interval while waiting for Ready")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a cluster to be Ready")
    p.add_argument("--embedded-warm", type=int, default=3, help="further Clusters per embedded child (warm figure)")
    p.add_argument("--pods", type=int, default=1000, help="pods of the latency phase")
    p.add_argument("--rate", type=float, default=100.0, help="pod creations per second in the latency phase")
    p.add_argument("--latency-nodes", type=int, default=10, help="worker nodes of the latency phase")
    p.add_argument("--latency-runs", type=int, default=3)
    p.add_argument("--latency-gc", choices=["default", "tuned", "both"], default="both",
                   help="embedded latency runs with CPython's default GC, with kube_lite.gctune (as `up`), or both")
    p.add_argument("--gc-tuned", action="store_true", help="apply kube_lite.gctune in the big phase (as `up` does): "
                   "--big-gc tuned")
    p.add_argument("--big-gc", choices=["default", "tuned", "both"], default="both",
                   help="big runs with CPython's default GC, with Cluster(tune_gc=True) (as `up`), or both")
    p.add_argument("--warmup", type=int, default=0, help="pods created before the measured ones (not counted)")
    p.add_argument("--via-up", action="store_true", help="also measure pod latency through `kube-lite up` over HTTPS")
    p.add_argument("--big", action="store_true", help="add the big phase (1,000 nodes, 30,000 pods)")
    p.add_argument("--big-nodes", type=int, default=1000)
    p.add_argument("--big-pods", type=int, default=30000)
    p.add_argument("--big-creators", type=int, default=32, help="concurrent creators in the big phase")
    p.add_argument("--big-timeout", type=float, default=900.0, help="seconds before the big phase reports how far it got")
    p.add_argument("--profile", default=None, help="directory for py-spy collapsed stacks (extra, unmeasured runs)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.up_backends = [b for b in args.up_backends.split(",") if b]
    args.phases = [x for x in args.phases.split(",") if x]
    if args.big and "big" not in args.phases:
        args.phases.append("big")
    if args.gc_tuned and not args.child:
        args.big_gc = "tuned"
    return args


CHILDREN = {"embedded": child_embedded, "latency": child_latency, "big": child_big}


def quiet_logs() -> None:
    """Warnings and errors only, as `kube-lite up` logs (structlog's default prints debug)."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    raise_fd_limit()
    if args.child:
        quiet_logs()
        print(json.dumps(CHILDREN[args.child](args)), flush=True)
        return
    results: dict[str, Any] = {}
    phases = {"up": phase_up, "embedded": phase_embedded, "latency": phase_latency, "big": phase_big}
    for name in args.phases:
        log(f"phase {name}")
        t = time.perf_counter()
        results[name] = phases[name](args)
        results[name]["phase_wall_s"] = round(time.perf_counter() - t, 1)
    print(json.dumps({"bench": "startup", "headline": headline(results), **results, "machine": machine()}), flush=True)


if __name__ == "__main__":
    main()
