"""Watch fan-out benchmark: delivery latency and completeness with 1,010 watchers.

    python bench/watch.py [--duration 20] [--rate 1000] [--namespaces 100]
                          [--per-namespace 10] [--cluster-watchers 10] [--write pod-create|configmap-patch]
                          [--backend sqlite] [--watcher-procs N] [--runs 1]

A fresh `kube-lite server` (bench/_server.py) gets `--namespaces` namespaces. Then
`--per-namespace` watchers per namespace each watch that namespace's pods, and
`--cluster-watchers` watch pods in all namespaces (GET .../pods?watch=true from the
resourceVersion of a list taken after the setup, so every watcher's expected events are exactly
the benchmark's writes). Watchers are raw asyncio HTTP/1.1 streams over TLS (one connection
each), spread over `--watcher-procs` processes, so that decoding 20,000 deliveries a second is
not the bottleneck. Once every watch has answered 200, a separate writer process does `--rate`
writes a second for `--duration` seconds, round-robin over the namespaces, over 32 keep-alive
connections: pod creates (ADDED events), or with --write configmap-patch, JSON merge patches of
one ConfigMap per namespace (MODIFIED events). Each write carries in its annotations a sequence
number and the time it was sent (CLOCK_MONOTONIC, which all processes on the machine share);
each watcher computes receipt time - send time per event, so the latency is end to end: the
write's own commit plus the fan-out. The writer's own request latency is reported separately.

When the writer is done, every watcher process is told how many acknowledged writes each
namespace had; watchers drain until they have seen them all (or `--drain-timeout`). `missing`
counts the acknowledged writes some watcher never saw (summed over watchers), `duplicates`
the events a watcher saw twice, `unexpected` events of writes that were not acknowledged.

Prints ONE JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import queue as queue_mod
import ssl
import sys
import time
from array import array
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (  # noqa: E402
    CpuMeter,
    RawConnection,
    ServerProcess,
    create_namespace,
    log,
    machine,
    median,
    percentile,
    raise_fd_limit,
)

TS_KEY = "bench.kube-lite.io/sent-ns"
SEQ_KEY = "bench.kube-lite.io/seq"
MAX_RECONNECTS = 1000

GOALS = {
    "delivery_p99_ms": ("< 100", lambda v: v is not None and v < 100),
    "missing": ("0", lambda v: v == 0),
}


def _ctx(ca: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    return ctx


# -------------------------------------------------------------------- watcher processes


class _Meta(msgspec.Struct):
    resourceVersion: str = ""  # noqa: N815 - the wire name
    annotations: dict[str, str] = {}


class _Obj(msgspec.Struct):
    metadata: _Meta = msgspec.field(default_factory=_Meta)


class _Event(msgspec.Struct):
    type: str
    object: _Obj = msgspec.field(default_factory=_Obj)


class _Watch:
    __slots__ = ("closed", "count", "error", "id", "last_rv", "latencies", "namespace", "reconnects", "seqs")

    def __init__(self, wid: int, namespace: str | None, latencies: array[float]) -> None:
        self.id = wid
        self.latencies = latencies
        self.namespace = namespace
        self.count = 0
        self.seqs: set[int] = set()
        self.error: str | None = None
        self.closed = False
        self.reconnects = 0
        self.last_rv = ""


def watcher_process(cfg: dict[str, Any], specs: list[tuple[int, str | None]], control: Any, results: Any) -> None:
    """Hold one watch per spec; report readiness, then per-watch counts and all latencies."""
    asyncio.run(_watcher_main(cfg, specs, control, results))


async def _watcher_main(cfg: dict[str, Any], specs: list[tuple[int, str | None]], control: Any, results: Any) -> None:
    ctx = _ctx(cfg["ca"])
    headers = {"Authorization": f"Bearer {cfg['token']}", "Accept": "application/json"}
    resource = cfg["resource"]
    decoder = msgspec.json.Decoder(_Event)
    latencies = {"namespace": array("f"), "cluster": array("f")}
    watches = [_Watch(wid, ns, latencies["cluster" if ns is None else "namespace"]) for wid, ns in specs]
    ready = 0
    open_limit = asyncio.Semaphore(32)
    connected = asyncio.Event()

    def handle(w: _Watch, line: bytes, now_ns: int) -> None:
        try:
            ev = decoder.decode(line)
        except msgspec.DecodeError as exc:
            w.error = f"undecodable event: {exc}"
            return
        if ev.type == "ERROR":
            w.error = f"ERROR event: {line[:200]!r}"
            return
        meta = ev.object.metadata
        if meta.resourceVersion:
            w.last_rv = meta.resourceVersion
        ann = meta.annotations
        ts = ann.get(TS_KEY)
        if ts is None:
            return  # not one of the benchmark's writes (or a BOOKMARK)
        w.latencies.append((now_ns - int(ts)) / 1e6)
        w.count += 1
        w.seqs.add(int(ann[SEQ_KEY]))

    def mark_ready() -> None:
        nonlocal ready
        ready += 1
        if ready == len(watches):
            connected.set()

    async def run(w: _Watch) -> None:
        """Watch; when the server ends the stream (a watcher that fell too far behind is
        closed, as in Kubernetes), watch again from the last resourceVersion seen, as an
        informer does. An HTTP error, an ERROR event (410 Gone) or a broken stream ends it."""
        path = f"/api/v1/namespaces/{w.namespace}/{resource}" if w.namespace else f"/api/v1/{resource}"
        rv = cfg["rv"]
        first = True
        while True:
            query = f"watch=true&resourceVersion={rv}&timeoutSeconds={cfg['watch_timeout']}"
            try:
                async with open_limit:
                    conn = await RawConnection.open(cfg["host"], cfg["port"], ctx)
                    conn.send_request("GET", f"{path}?{query}", headers)
                    status, resp_headers = await conn.read_head()
                if status != 200:
                    body = await conn.read_body(resp_headers)
                    raise RuntimeError(f"watch {path}: HTTP {status}: {body[:200]!r}")
            except Exception as exc:  # noqa: BLE001 - reported, counted as this watch's error
                w.error = f"{type(exc).__name__}: {exc}"
                w.closed = True
                if first:
                    mark_ready()
                return
            if first:
                first = False
                mark_ready()
            pending = b""
            try:
                async for chunk in conn.chunks():
                    now = time.monotonic_ns()
                    if pending:
                        chunk = pending + chunk
                        pending = b""
                    if chunk.endswith(b"\n") and chunk.count(b"\n") == 1:
                        handle(w, chunk, now)
                        continue
                    *lines, pending = chunk.split(b"\n")
                    for line in lines:
                        if line:
                            handle(w, line, now)
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as exc:  # noqa: BLE001
                w.error = f"stream broken: {type(exc).__name__}: {exc}"
            finally:
                conn.writer.close()
            if w.error is not None or w.reconnects >= MAX_RECONNECTS:
                w.closed = True
                return
            w.reconnects += 1
            rv = w.last_rv or rv

    tasks = [asyncio.create_task(run(w)) for w in watches]
    await connected.wait()
    results.put(("ready", os.getpid(), sum(1 for w in watches if w.error is None)))

    # Wait for the parent's expected counts (sent when the writer is done), then drain.
    cpu0 = time.process_time()
    while True:
        await asyncio.sleep(0.05)
        try:
            message = control.get_nowait()
        except queue_mod.Empty:
            continue
        break
    cpu_busy = time.process_time() - cpu0
    expected: dict[str, int] = message["expected"]
    deadline = time.monotonic() + message["drain_timeout"]

    def want(w: _Watch) -> int:
        return expected["*"] if w.namespace is None else expected.get(w.namespace, 0)

    while time.monotonic() < deadline:
        if all(len(w.seqs) >= want(w) or w.closed for w in watches):
            break
        await asyncio.sleep(0.05)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    report = [(w.id, w.namespace, w.count, len(w.seqs), want(w), w.error, w.reconnects) for w in watches]
    results.put(("done", os.getpid(), report, {k: v.tobytes() for k, v in latencies.items()}, cpu_busy))


# -------------------------------------------------------------------- writer process


def writer_process(cfg: dict[str, Any], results: Any) -> None:
    results.put(("writer", asyncio.run(_writer_main(cfg))))


async def _writer_main(cfg: dict[str, Any]) -> dict[str, Any]:
    ctx = _ctx(cfg["ca"])
    namespaces: list[str] = cfg["namespaces"]
    rate: float = cfg["rate"]
    duration: float = cfg["duration"]
    mode: str = cfg["write"]
    auth = {"Authorization": f"Bearer {cfg['token']}"}
    create_headers = {**auth, "Content-Type": "application/json"}
    patch_headers = {**auth, "Content-Type": "application/merge-patch+json"}
    pool: asyncio.Queue[RawConnection] = asyncio.Queue()
    for _ in range(cfg["connections"]):
        pool.put_nowait(await RawConnection.open(cfg["host"], cfg["port"], ctx))
    ok_per_ns: dict[str, int] = dict.fromkeys(namespaces, 0)
    failed: list[str] = []
    latencies = array("f")
    tasks: set[asyncio.Task[None]] = set()

    async def write(seq: int, conn: RawConnection) -> None:
        ns = namespaces[seq % len(namespaces)]
        sent = time.monotonic_ns()
        ann = {TS_KEY: str(sent), SEQ_KEY: str(seq)}
        try:
            if mode == "pod-create":
                body = msgspec.json.encode({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": f"w-{seq}", "namespace": ns, "labels": {"app": "bench"}, "annotations": ann},
                    "spec": {"containers": [{"name": "app", "image": "registry.example/bench/app:1.0"}]},
                })
                status, data = await conn.request("POST", f"/api/v1/namespaces/{ns}/pods", create_headers, body)
                good = status == 201
            else:
                body = msgspec.json.encode({"metadata": {"annotations": ann}, "data": {"seq": str(seq)}})
                status, data = await conn.request("PATCH", f"/api/v1/namespaces/{ns}/configmaps/bench", patch_headers, body)
                good = status == 200
            latencies.append((time.monotonic_ns() - sent) / 1e6)
            if good:
                ok_per_ns[ns] += 1
            elif len(failed) < 20:
                failed.append(f"HTTP {status}: {data[:200]!r}")
            else:
                failed.append("")
            pool.put_nowait(conn)
        except Exception as exc:  # noqa: BLE001 - counted; the connection is dropped
            failed.append(f"{type(exc).__name__}: {exc}")

    start = time.monotonic()
    cpu0 = time.process_time()
    end = start + duration
    issued = 0
    max_lag = 0.0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * rate) + 1
        while issued < due:
            if pool.empty():
                break
            conn = pool.get_nowait()
            task = asyncio.create_task(write(issued, conn))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            issued += 1
        max_lag = max(max_lag, (due - issued) / rate)
        await asyncio.sleep(0.001 if issued >= due else 0)
    elapsed = time.monotonic() - start
    if tasks:
        await asyncio.gather(*tasks)
    writer_cpu = (time.process_time() - cpu0) / max(1e-9, time.monotonic() - start)
    lat = list(latencies)
    return {
        "issued": issued,
        "ok_per_ns": ok_per_ns,
        "failed": len(failed),
        "failures": [f for f in failed if f][:5],
        "rate": issued / elapsed,
        "max_lag_s": round(max_lag, 3),
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "cpu": round(writer_cpu, 2),
    }


# -------------------------------------------------------------------- the run


async def _setup(server: ServerProcess, namespaces: list[str], mode: str) -> str:
    """Namespaces (and a ConfigMap in each for configmap-patch); the resourceVersion to watch from."""
    conns = [await server.connect() for _ in range(8)]

    async def make(i: int) -> None:
        conn = conns[i % len(conns)]
        for ns in namespaces[i :: len(conns)]:
            await create_namespace(conn, server, ns)
            if mode == "configmap-patch":
                body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bench", "namespace": ns}, "data": {"seq": "-1"}}).encode()
                status, data = await conn.request("POST", f"/api/v1/namespaces/{ns}/configmaps", {**server.auth_headers(), "Content-Type": "application/json"}, body)
                if status != 201:
                    raise RuntimeError(f"create configmap in {ns}: HTTP {status}: {data[:200]!r}")

    await asyncio.gather(*(make(i) for i in range(len(conns))))
    resource = "pods" if mode == "pod-create" else "configmaps"
    status, body = await conns[0].request("GET", f"/api/v1/{resource}?limit=1", server.auth_headers())
    for c in conns:
        await c.close()
    if status != 200:
        raise RuntimeError(f"list {resource}: HTTP {status}: {body[:200]!r}")
    return str(json.loads(body)["metadata"]["resourceVersion"])


def one_run(args: argparse.Namespace, run: int) -> dict[str, Any]:
    mp = multiprocessing.get_context("fork")
    namespaces = [f"bench-w-{i:03d}" for i in range(args.namespaces)]
    with ServerProcess(args.backend) as server:
        t0 = time.monotonic()
        rv = asyncio.run(_setup(server, namespaces, args.write))
        log(f"run {run}: {len(namespaces)} namespaces ready in {time.monotonic() - t0:.1f}s (rv {rv})")
        specs: list[tuple[int, str | None]] = []
        for ns in namespaces:
            specs += [(len(specs), ns) for _ in range(args.per_namespace)]
        specs += [(len(specs), None) for _ in range(args.cluster_watchers)]
        procs_n = max(1, min(args.watcher_procs, len(specs)))
        base = {
            "host": server.host, "port": server.port, "ca": str(server.ca_path), "token": server.token,
            "rv": rv, "resource": "pods" if args.write == "pod-create" else "configmaps",
            "watch_timeout": int(args.duration + args.drain_timeout + 300),
        }
        results = mp.Queue()
        controls = [mp.Queue() for _ in range(procs_n)]
        # Interleave specs so every process holds namespace and cluster-wide watchers alike.
        watchers = [
            mp.Process(target=watcher_process, args=(base, specs[i::procs_n], controls[i], results), daemon=True)
            for i in range(procs_n)
        ]
        t0 = time.monotonic()
        for p in watchers:
            p.start()
        connected = 0
        for _ in watchers:
            kind, _pid, n = results.get(timeout=120)
            assert kind == "ready"
            connected += n
        log(f"run {run}: {connected}/{len(specs)} watches open in {time.monotonic() - t0:.1f}s over {procs_n} processes")
        time.sleep(0.5)

        spy = server.profile(args.duration, args.profile, idle=args.profile_idle) if args.profile else None
        meter = CpuMeter(server.pid)
        t0 = time.monotonic()
        writer = mp.Process(target=writer_process, args=({
            **base, "namespaces": namespaces, "rate": args.rate, "duration": args.duration,
            "write": args.write, "connections": args.writer_connections,
        }, results), daemon=True)
        writer.start()
        kind, wres = results.get(timeout=args.duration + 300)
        assert kind == "writer"
        writer.join()
        write_wall = time.monotonic() - t0
        cpu = meter.read()
        server_cpu = cpu["server_cpu"]
        expected = dict(wres["ok_per_ns"])
        acked = sum(expected.values())
        expected["*"] = acked
        log(f"run {run}: writer {wres['rate']:.0f} writes/s (writer cpu {wres['cpu']}), {acked} acknowledged, {wres['failed']} failed; "
            f"server cpu {server_cpu:.2f} ({cpu['server_cpu_s'] / max(acked, 1) * 1e6:.0f} us per write), machine busy {cpu['machine_busy']}")
        for c in controls:
            c.put({"expected": expected, "drain_timeout": args.drain_timeout})
        reports = []
        lat = {"namespace": array("f"), "cluster": array("f")}
        watcher_cpu = []
        for _ in watchers:
            kind, _pid, report, lat_bytes, busy = results.get(timeout=args.drain_timeout + 120)
            assert kind == "done"
            reports += report
            for k, v in lat_bytes.items():
                lat[k].frombytes(v)
            watcher_cpu.append(round(busy / write_wall, 2))
        for p in watchers:
            p.join(timeout=10)
        drained = time.monotonic() - t0 - write_wall
        if spy is not None:
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0:
                log(f"py-spy failed: {err.decode(errors='replace')[-500:]}")

    lat_sorted = sorted([*lat["namespace"], *lat["cluster"]])
    missing = sum(max(0, want - unique) for _id, _ns, _count, unique, want, _err, _rc in reports)
    duplicates = sum(count - unique for _id, _ns, count, unique, _want, _err, _rc in reports)
    unexpected = sum(max(0, unique - want) for _id, _ns, _count, unique, want, _err, _rc in reports)
    errors = [err for *_, err, _rc in reports if err]
    reconnects = sum(rc for *_, rc in reports)
    watchers_reconnected = sum(1 for *_, rc in reports if rc)
    watchers_short = sum(1 for _id, _ns, _count, unique, want, _err, _rc in reports if unique < want)
    delivered = len(lat_sorted)
    expected_deliveries = sum(want for _id, _ns, _count, _unique, want, _err, _rc in reports)
    res = {
        "delivery_p50_ms": percentile(lat_sorted, 50),
        "delivery_p99_ms": percentile(lat_sorted, 99),
        "delivery_p999_ms": percentile(lat_sorted, 99.9),
        "delivery_max_ms": lat_sorted[-1] if lat_sorted else None,
        "namespace_watch_p99_ms": percentile(lat["namespace"], 99),
        "cluster_watch_p99_ms": percentile(lat["cluster"], 99),
        "delivered": delivered,
        "expected_deliveries": expected_deliveries,
        "missing": missing,
        "watchers_missing_events": watchers_short,
        "duplicates": duplicates,
        "unexpected": unexpected,
        "watch_errors": len(errors),
        "reconnects": reconnects,
        "watchers_reconnected": watchers_reconnected,
        "watch_error_samples": errors[:3],
        "writes_acked": acked,
        "writes_failed": wres["failed"],
        "write_failure_samples": wres["failures"],
        "write_rate": wres["rate"],
        "writer_max_lag_s": wres["max_lag_s"],
        "write_p50_ms": wres["p50_ms"],
        "write_p99_ms": wres["p99_ms"],
        "server_cpu": server_cpu,
        # Server CPU time per acknowledged write, its fan-out to every watcher included: the
        # figure busy neighbours on the machine disturb least.
        "server_cpu_us_per_write": round(cpu["server_cpu_s"] / acked * 1e6, 1) if acked else None,
        "writer_proc_cpu": wres["cpu"],
        "machine_busy": cpu["machine_busy"],
        "watcher_proc_cpu": watcher_cpu,
        "drain_s": round(drained, 2),
        "watches_open": connected,
    }
    log(f"run {run}: delivery p50 {res['delivery_p50_ms']:.1f} ms p99 {res['delivery_p99_ms']:.1f} ms; "
        f"{delivered}/{expected_deliveries} delivered, missing {missing}, dup {duplicates}, errors {len(errors)}, "
        f"reconnects {reconnects}")
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of writes per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1000.0, help="writes per second")
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--per-namespace", type=int, default=10)
    parser.add_argument("--cluster-watchers", type=int, default=10)
    parser.add_argument("--write", choices=["pod-create", "configmap-patch"], default="pod-create")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--watcher-procs", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--writer-connections", type=int, default=32)
    parser.add_argument("--drain-timeout", type=float, default=15.0)
    parser.add_argument("--profile", metavar="FILE", help="record the server with py-spy during the writes (collapsed stacks)")
    parser.add_argument("--profile-idle", action="store_true", help="with --profile: sample waiting threads too")
    args = parser.parse_args()
    raise_fd_limit()
    started = time.monotonic()
    runs = [one_run(args, r + 1) for r in range(args.runs)]
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    figures: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys}
    figures["missing"] = sum(r["missing"] for r in runs)
    figures["watch_errors"] = sum(r["watch_errors"] for r in runs)
    samples = [s for r in runs for s in r["watch_error_samples"] + r["write_failure_samples"]][:5]
    goals = {k: {"value": figures.get(k), "goal": g, "met": ok(figures.get(k))} for k, (g, ok) in GOALS.items()}
    result = {
        "bench": "watch",
        "goals": goals,
        "figures": figures,
        "error_samples": samples,
        "watcher_proc_cpu": [r["watcher_proc_cpu"] for r in runs],
        "setup": {
            "backend": args.backend, "write": args.write, "rate": args.rate, "duration_s": args.duration,
            "namespaces": args.namespaces, "watchers": args.namespaces * args.per_namespace + args.cluster_watchers,
            "cluster_watchers": args.cluster_watchers, "watcher_procs": args.watcher_procs, "runs": args.runs,
        },
        "elapsed_s": round(time.monotonic() - started, 1),
        "machine": machine(),
        "note": "delivery latency = watcher receipt - writer send (CLOCK_MONOTONIC), so it includes the "
                "write's commit; medians over runs (missing and errors summed); server_cpu, writer_proc_cpu and "
                "watcher_proc_cpu are CPU s / wall s during the writes, server_cpu_us_per_write the server's CPU time per write (fan-out included), machine_busy the share of all cores busy; all processes share the machine",
    }
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
