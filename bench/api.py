"""API server benchmark: durable creates/s and mutating latency over HTTPS, and list latency
with 10,000 pods stored.

    python bench/api.py [--duration 8] [--runs 3] [--backends sqlite,memory]
                        [--connections 1,64] [--list-pods 10000] [--driver auto|wrk|python]
                        [--profile DIR]

Creates: for each run and backend a fresh `kube-lite server` (bench/_server.py: temp data dir,
free port, the SQLite backend being the durable default) is started; after a short warm-up,
`wrk` (one thread; `-c 1` then `-c 64` connections, keep-alive) POSTs pods with unique names to
/api/v1/namespaces/default/pods for `--duration` seconds each (bench/wrk_create.lua). wrk speaks
TLS but cannot present a client certificate, so requests carry a bearer token from the static
token file written into the data dir before the server starts (user admin, system:masters).
A create counts when answered 201, i.e. after the server has committed it (the backend's
durability: SQLite commits before answering). After the runs of a server, the pods it stores
are counted and compared with the creates wrk saw acknowledged (`lost` must be 0). Without
wrk (`--driver python` or wrk missing), several processes of raw asyncio HTTP/1.1 clients
(bench/_server.py's RawConnection) drive the same load; the JSON says which driver ran.

List: a fresh SQLite server is filled with `--list-pods` pods (the same pod as above), then
GET /api/v1/pods is timed (request sent to last byte received, one keep-alive connection,
`--list-gets` times) as JSON, as a Table (Accept: application/json;as=Table;v=v1;g=meta.k8s.io,
as kubectl asks), with a field selector (`status.phase!=Failed`, as the scheduler's selects: every pod
matches, so the answer is the JSON list's) and paginated with limit=500 as kubectl does (all pages,
total time). Then one pod is read `--gets` times over the same connection: the median GET latency.

Figures are medians over runs; each run's latency percentiles come from wrk (no coordinated-
omission correction: latency is per request on a busy connection). `server_cpu` is the server
process's CPU time over wall time during a phase (1.0 = one core busy). The whole benchmark
shares the machine's cores between the server and the load generator.

`--profile DIR`: after the measured runs, one extra (unmeasured) 64-connection run per backend
with py-spy recording the server (collapsed stacks in DIR/api-BACKEND-c64.txt; py-spy must be
installed in the venv). Prints ONE JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (  # noqa: E402
    CpuMeter,
    RawConnection,
    ServerProcess,
    cpu_seconds,
    create_pods,
    log,
    machine,
    median,
    percentile,
    pod_body,
    raise_fd_limit,
)

LUA = Path(__file__).resolve().parent / "wrk_create.lua"
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

GOALS = {
    "creates_per_s_c64": (">= 5000", lambda v: v is not None and v >= 5000),
    "list_10000_json_ms": ("< 300", lambda v: v is not None and v < 300),
    "list_10000_table_ms": ("< 300", lambda v: v is not None and v < 300),
    "mutating_p99_ms": ("far below 1000 (< 100)", lambda v: v is not None and v < 100),
}


# -------------------------------------------------------------------- drivers


def run_wrk(server: ServerProcess, connections: int, duration: float, prefix: str) -> dict[str, Any]:
    """One wrk run; returns creates/s, latency (ms), errors and the server's CPU use."""
    wrk = shutil.which("wrk")
    assert wrk is not None
    cmd = [
        wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "10s",
        "-H", f"Authorization: Bearer {server.token}", "-s", str(LUA),
        f"{server.url}/api/v1/namespaces/default/pods", "--", prefix, "default",
    ]
    meter = CpuMeter(server.pid)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    cpu = meter.read()
    match = re.search(r"^WRKJSON (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\nserver log:\n{server.log_tail()}")
    data = json.loads(match.group(1))
    errors = data["errors"]
    seconds = data["duration_us"] / 1e6
    ok = data["requests"] - errors["status"]
    lat = data["latency_us"]
    return {
        "creates_per_s": ok / seconds,
        "acked": ok,
        "cpu_us_per_create": cpu["server_cpu_s"] / ok * 1e6 if ok else None,
        "p50_ms": lat["p50"] / 1000,
        "p99_ms": lat["p99"] / 1000,
        "max_ms": lat["max"] / 1000,
        "errors": {k: v for k, v in errors.items() if v},
        **cpu,
    }


def _python_worker(host: str, port: int, ca: str, token: str, conns: int, duration: float, prefix: str, queue: Any) -> None:
    """One client process: `conns` keep-alive connections POSTing pods until the deadline."""
    import ssl

    async def main() -> tuple[int, int, bytes, float]:
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        latencies = array("d")
        ok = errors = 0
        opened = [await RawConnection.open(host, port, ctx) for _ in range(conns)]
        start = time.monotonic()
        deadline = start + duration

        async def loop(i: int, conn: RawConnection) -> None:
            nonlocal ok, errors
            n = 0
            while time.monotonic() < deadline:
                n += 1
                body = pod_body(f"{prefix}-{i}-{n}")
                t0 = time.perf_counter()
                status, _ = await conn.request("POST", "/api/v1/namespaces/default/pods", headers, body)
                latencies.append(time.perf_counter() - t0)
                if status == 201:
                    ok += 1
                else:
                    errors += 1
            await conn.close()

        await asyncio.gather(*(loop(i, c) for i, c in enumerate(opened)))
        return ok, errors, latencies.tobytes(), time.monotonic() - start

    queue.put(asyncio.run(main()))


def run_python(server: ServerProcess, connections: int, duration: float, prefix: str) -> dict[str, Any]:
    """The fallback driver: min(connections, cpus) processes of raw asyncio HTTP/1.1 clients."""
    ctx = multiprocessing.get_context("fork")
    procs_n = max(1, min(connections, os.cpu_count() or 1))
    per = [connections // procs_n + (1 if i < connections % procs_n else 0) for i in range(procs_n)]
    queue = ctx.Queue()
    meter = CpuMeter(server.pid)
    procs = [
        ctx.Process(target=_python_worker, args=(server.host, server.port, str(server.ca_path), server.token, n, duration, f"{prefix}-p{i}", queue))
        for i, n in enumerate(per)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=duration + 120) for _ in procs]
    for p in procs:
        p.join()
    cpu = meter.read()
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    lat: list[float] = []
    for r in results:
        lat.extend(array("d", r[2]))
    seconds = max(r[3] for r in results)
    return {
        "creates_per_s": ok / seconds,
        "acked": ok,
        "cpu_us_per_create": cpu["server_cpu_s"] / ok * 1e6 if ok else None,
        "p50_ms": percentile(lat, 50) * 1000,
        "p99_ms": percentile(lat, 99) * 1000,
        "max_ms": max(lat, default=0) * 1000,
        "errors": {"status": errors} if errors else {},
        **cpu,
    }


# -------------------------------------------------------------------- phases


async def count_pods(server: ServerProcess, namespace: str = "default") -> int:
    conn = await server.connect()
    try:
        status, body = await conn.request("GET", f"/api/v1/namespaces/{namespace}/pods", server.auth_headers())
    finally:
        await conn.close()
    if status != 200:
        raise RuntimeError(f"list pods: HTTP {status}: {body[:300]!r}")
    return len(json.loads(body)["items"])


def create_runs(args: argparse.Namespace, drive: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """All measured create runs, interleaved: run 1 of every backend, then run 2, ..."""
    per_cell: dict[tuple[str, int], list[dict[str, Any]]] = {}
    checks: list[dict[str, Any]] = []
    for run in range(args.runs):
        for backend in args.backends:
            with ServerProcess(backend) as server:
                acked = 0
                if args.warmup > 0:
                    acked += drive(server, max(args.connections), args.warmup, f"w{run}")["acked"]
                for conns in args.connections:
                    res = drive(server, conns, args.duration, f"r{run}c{conns}")
                    acked += res["acked"]
                    per_cell.setdefault((backend, conns), []).append(res)
                    log(f"run {run + 1}/{args.runs} {backend} c={conns}: {res['creates_per_s']:.0f} creates/s "
                        f"({res['cpu_us_per_create'] or 0:.0f} us server CPU each) p50 {res['p50_ms']:.2f} ms p99 {res['p99_ms']:.2f} ms server cpu {res['server_cpu']} "
                        f"machine busy {res['machine_busy']} {res['errors'] or ''}")
                stored = asyncio.run(count_pods(server))
                checks.append({"backend": backend, "run": run + 1, "acked": acked, "stored": stored, "lost": max(0, acked - stored)})
    cells: dict[str, Any] = {}
    for (backend, conns), runs in per_cell.items():
        cells.setdefault(backend, {})[f"c{conns}"] = {
            "creates_per_s": median([r["creates_per_s"] for r in runs]),
            "p50_ms": median([r["p50_ms"] for r in runs]),
            "p99_ms": median([r["p99_ms"] for r in runs]),
            "max_ms": median([r["max_ms"] for r in runs]),
            "server_cpu": median([r["server_cpu"] for r in runs]),
            # Server CPU time per acknowledged create: the figure that busy neighbours on the
            # machine disturb least (creates/s is capped by what CPU the server gets).
            "cpu_us_per_create": median([r["cpu_us_per_create"] for r in runs]),
            "machine_busy": median([r["machine_busy"] for r in runs]),
            "errors": sum(sum(r["errors"].values()) for r in runs),
            "runs": [round(r["creates_per_s"]) for r in runs],
        }
    return cells, checks


async def _timed_get(conn: RawConnection, path: str, headers: dict[str, str]) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    status, body = await conn.request("GET", path, headers)
    elapsed = time.perf_counter() - t0
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}: {body[:300]!r}")
    return elapsed, body


async def _paged_list(conn: RawConnection, headers: dict[str, str], limit: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    cont = ""
    items = 0
    while True:
        path = f"/api/v1/pods?limit={limit}" + (f"&continue={cont}" if cont else "")
        _, body = await _timed_get(conn, path, headers)
        page = json.loads(body)
        items += len(page["items"])
        cont = page["metadata"].get("continue") or ""
        if not cont:
            return time.perf_counter() - t0, items


def list_phase(args: argparse.Namespace) -> dict[str, Any]:
    with ServerProcess(args.list_backend) as server:
        t0 = time.monotonic()
        created = asyncio.run(create_pods(server, "bench-list", args.list_pods, "list", concurrency=32)) if args.list_pods else 0
        log(f"list: stored {created} pods in {time.monotonic() - t0:.1f}s")

        async def measure() -> dict[str, Any]:
            auth = server.auth_headers()
            json_h = {**auth, "Accept": "application/json"}
            table_h = {**auth, "Accept": TABLE_ACCEPT}
            conn = await server.connect()
            try:
                await _timed_get(conn, "/api/v1/pods", json_h)  # warm caches and connection
                json_t: list[float] = []
                table_t: list[float] = []
                field_t: list[float] = []
                paged_t: list[float] = []
                sizes: dict[str, int] = {}
                count = 0
                table_body = b""
                for _ in range(args.list_gets):
                    t, body = await _timed_get(conn, "/api/v1/pods", json_h)
                    json_t.append(t)
                    sizes["json_bytes"] = len(body)
                    t, table_body = await _timed_get(conn, "/api/v1/pods", table_h)
                    table_t.append(t)
                    sizes["table_bytes"] = len(table_body)
                    t, _ = await _timed_get(conn, "/api/v1/pods?fieldSelector=status.phase%21%3DFailed", json_h)
                    field_t.append(t)
                    t, count = await _paged_list(conn, json_h, 500)
                    paged_t.append(t)
                items = len(json.loads(table_body).get("rows") or []) if table_body else 0
                get_t: list[float] = []
                if created:
                    one = "/api/v1/namespaces/bench-list/pods/list-0"
                    for _ in range(args.gets):
                        t, _ = await _timed_get(conn, one, json_h)
                        get_t.append(t)
            finally:
                await conn.close()
            return {
                "pods": created,
                "json_ms": median([t * 1000 for t in json_t]),
                "table_ms": median([t * 1000 for t in table_t]),
                "field_selector_ms": median([t * 1000 for t in field_t]),
                "get_us": median([t * 1e6 for t in get_t]) if get_t else None,
                "paged_limit500_ms": median([t * 1000 for t in paged_t]),
                "json_min_ms": round(min(json_t) * 1000, 2),
                "table_rows": items,
                "paged_items": count,
                "gets": args.list_gets,
                **sizes,
            }

        cpu0 = cpu_seconds(server.pid)
        out = asyncio.run(measure())
        out["server_cpu_s"] = round(cpu_seconds(server.pid) - cpu0, 2)
        log(f"list {created} pods: json {out['json_ms']} ms, table {out['table_ms']} ms, field selector {out['field_selector_ms']} ms, "
            f"paged {out['paged_limit500_ms']} ms, GET {out['get_us']} us")
        return out


def profile_runs(args: argparse.Namespace, drive: Any) -> dict[str, str]:
    out_dir = Path(args.profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for backend in args.backends:
        with ServerProcess(backend) as server:
            drive(server, 64, 1, "pw")
            out = out_dir / f"api-{backend}-c64.txt"
            spy = server.profile(args.duration, out)
            if spy is None:
                return written
            drive(server, 64, args.duration + 1, "prof")
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0:
                log(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
            else:
                written[backend] = str(out)
    return written


# -------------------------------------------------------------------- main


def headline(cells: dict[str, Any], listing: dict[str, Any] | None) -> dict[str, Any]:
    backend = "sqlite" if "sqlite" in cells else next(iter(cells), None)
    c64 = cells.get(backend, {}).get("c64", {}) if backend else {}
    values = {
        "creates_per_s_c64": c64.get("creates_per_s"),
        "list_10000_json_ms": listing.get("json_ms") if listing else None,
        "list_10000_table_ms": listing.get("table_ms") if listing else None,
        "mutating_p99_ms": c64.get("p99_ms"),
    }
    out: dict[str, Any] = {k: {"value": v, "goal": GOALS[k][0], "met": GOALS[k][1](v)} for k, v in values.items()}
    out["creates_backend"] = backend
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured create phase")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured creates per server")
    parser.add_argument("--backends", default="sqlite,memory")
    parser.add_argument("--connections", default="1,64")
    parser.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--list-pods", type=int, default=10000)
    parser.add_argument("--list-gets", type=int, default=7)
    parser.add_argument("--gets", type=int, default=2000, help="GETs of one pod after the lists")
    parser.add_argument("--list-backend", default="sqlite")
    parser.add_argument("--skip-creates", action="store_true")
    parser.add_argument("--profile", metavar="DIR", help="also record the server with py-spy (extra runs)")
    args = parser.parse_args()
    args.backends = [b for b in args.backends.split(",") if b]
    args.connections = [int(c) for c in args.connections.split(",") if c]
    raise_fd_limit()

    driver = args.driver
    if driver == "auto":
        driver = "wrk" if shutil.which("wrk") else "python"
        if driver == "python":
            log("wrk not found (Debian package wrk; scripts/install-system-deps.sh): using Python client processes")
    if driver == "wrk" and not shutil.which("wrk"):
        parser.error("wrk not found")
    drive = run_wrk if driver == "wrk" else run_python

    started = time.monotonic()
    cells: dict[str, Any] = {}
    checks: list[dict[str, Any]] = []
    if not args.skip_creates:
        cells, checks = create_runs(args, drive)
    listing = list_phase(args) if args.list_pods else None
    profiles = profile_runs(args, drive) if args.profile else {}

    result = {
        "bench": "api",
        "goals": headline(cells, listing),
        "creates": cells,
        "durability_check": {"lost": sum(c["lost"] for c in checks), "servers": checks},
        "list": listing,
        "driver": "wrk -t1 (TLS, bearer token)" if driver == "wrk" else "python raw asyncio HTTP/1.1 processes (TLS, bearer token)",
        "runs": args.runs,
        "duration_s": args.duration,
        "profiles": profiles or None,
        "elapsed_s": round(time.monotonic() - started, 1),
        "machine": machine(),
        "note": "medians over runs; creates are POST /api/v1/namespaces/default/pods answered 201; "
                "latency per request from the load generator; cpu_us_per_create = server CPU time per create; server_cpu = server CPU s / wall s, machine_busy = share of all cores busy (any process); "
                "the load generator shares the machine's cores with the server",
    }
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
