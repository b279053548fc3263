"""Store benchmark: durable writes per second and write latency, per backend and concurrency.

    python bench/store.py [--duration 3] [--runs 3] [--concurrency 1,16,100]
                          [--backends memory,sqlite,etcd] [--value-bytes 1536]

Each cell (backend x number of concurrent writers) is measured ``--runs`` times; the runs of all
cells are interleaved (run 1 of every cell, then run 2, ...) so that drift on the machine spreads
over all cells. A run opens a fresh store (memory; SQLite on a new temp file; etcd on a fresh
key prefix of one etcd started for the benchmark with its data on disk and etcd's default fsync),
warms it up, then lets N writers each ``create`` new keys ``/registry/pods/NS/NAME`` with values
of about 1.5 KB (a pod-like JSON document) for ``--duration`` seconds. A writer starts no new
write after the deadline; writes in flight finish and count. Reported per cell: the medians over
runs of writes/s, and of each run's p50 and p99 latency (ms).

Prints ONE JSON line on stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import structlog

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kube_lite.store.backend import Backend, open_backend  # noqa: E402

NOTE = (
    "etcd is driven through the Python gRPC client (aetcd's stubs over grpc.aio) in the same "
    "process and event loop as the writers, so its figure is bounded by Python-side gRPC "
    "overhead as well as by etcd; etcd runs as one member on loopback with default fsync. "
    "memory is not durable (a reference for the store layer's own cost); SQLite is on a temp "
    "file with the durability its backend configures (WAL, synchronous=FULL, group commit). "
    "Writes are creates of new keys; medians over runs."
)


def _pod_value(name: str, namespace: str, size: int) -> bytes:
    """A pod-like JSON document of about `size` bytes, unique to its name."""
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": str(uuid.uuid4()),
            "labels": {"app": "bench", "tier": "backend"},
            "annotations": {"pad": ""},
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example/bench/app:1.0",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                }
            ],
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
        },
        "status": {"phase": "Pending"},
    }
    base = len(json.dumps(doc, separators=(",", ":")))
    doc["metadata"]["annotations"]["pad"] = "x" * max(0, size - base)  # type: ignore[index]
    return json.dumps(doc, separators=(",", ":")).encode()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def _write_load(
    backend: Backend, writers: int, duration: float, value_bytes: int, tag: str
) -> tuple[int, float, list[float]]:
    """`writers` tasks creating keys until `duration` has passed; returns (writes, elapsed s,
    latencies in s)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + duration
    start = time.perf_counter()
    end = start

    async def writer(w: int) -> None:
        nonlocal end
        namespace = f"bench-{tag}-{w % 10}"
        value = _pod_value(f"pod-{w}", namespace, value_bytes)  # the key, not the value, is new
        i = 0
        while time.perf_counter() < deadline:
            name = f"pod-{w}-{i}"
            t0 = time.perf_counter()
            await backend.create(f"/registry/pods/{namespace}/{name}", value)
            t1 = time.perf_counter()
            latencies.append(t1 - t0)
            end = max(end, t1)
            i += 1

    async with anyio.create_task_group() as tg:
        for w in range(writers):
            tg.start_soon(writer, w)
    return len(latencies), max(end - start, 1e-9), latencies


async def _one_run(
    url: str, writers: int, duration: float, warmup: float, value_bytes: int
) -> dict[str, float]:
    async with open_backend(url) as backend:
        await _write_load(backend, writers, warmup, value_bytes, "warm")
        count, elapsed, latencies = await _write_load(backend, writers, duration, value_bytes, "run")
    latencies.sort()
    return {
        "writes_per_s": count / elapsed,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "writes": count,
    }


def _fs_type(path: str) -> str:
    """The filesystem type holding `path` (from /proc/mounts), or "unknown"."""
    best, fstype = "", "unknown"
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) >= 3 and path.startswith(parts[1]) and len(parts[1]) > len(best):
                    best, fstype = parts[1], parts[2]
    except OSError:
        pass
    return fstype


def _etcd_version(binary: str | None) -> str | None:
    if not binary:
        return None
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.splitlines()[0] if out else ""
    return first.split(":", 1)[-1].strip() or None


async def _bench(args: argparse.Namespace, urls: dict[str, Any], tmpdir: str) -> dict[str, Any]:
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    samples: dict[str, dict[int, list[dict[str, float]]]] = {
        name: {c: [] for c in concurrencies} for name in urls if not isinstance(urls[name], Exception)
    }
    errors: dict[str, str] = {name: str(u) for name, u in urls.items() if isinstance(u, Exception)}
    for run in range(args.runs):
        for name, make_url in urls.items():
            if name in errors:
                continue
            for writers in concurrencies:
                url = make_url(f"{run}-{writers}")
                try:
                    result = await _one_run(url, writers, args.duration, args.warmup, args.value_bytes)
                except Exception as exc:  # a backend failing must not hide the others' figures
                    errors[name] = f"{type(exc).__name__}: {exc}"
                    logging.getLogger("bench.store").exception("backend %s failed", name)
                    break
                samples[name][writers].append(result)
                print(
                    f"run {run + 1}/{args.runs} {name:6s} c={writers:<3d} "
                    f"{result['writes_per_s']:9.0f} w/s p50 {result['p50_ms']:7.2f} ms "
                    f"p99 {result['p99_ms']:7.2f} ms",
                    file=sys.stderr,
                )
    results: dict[str, Any] = {}
    for name in urls:
        if name in errors:
            results[name] = {"error": errors[name]}
            continue
        results[name] = {}
        for writers, runs in samples[name].items():
            results[name][str(writers)] = {
                "writes_per_s": round(statistics.median(r["writes_per_s"] for r in runs), 1),
                "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 3),
                "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 3),
                "runs": len(runs),
                "writes_per_run": [int(r["writes"]) for r in runs],
            }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured per run (3)")
    parser.add_argument("--warmup", type=float, default=0.3, help="seconds of warm-up per run (0.3)")
    parser.add_argument("--runs", type=int, default=3, help="runs per cell; medians reported (3)")
    parser.add_argument("--concurrency", default="1,16,100", help="writer counts (1,16,100)")
    parser.add_argument("--backends", default="memory,sqlite,etcd", help="memory,sqlite,etcd")
    parser.add_argument("--value-bytes", type=int, default=1536, help="value size (1536)")
    args = parser.parse_args(argv)

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )

    from tests.support.etcd import EtcdServer, EtcdUnavailable, find_etcd

    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    tmpdir = tempfile.mkdtemp(prefix="kube-lite-bench-store-")
    etcd: EtcdServer | None = None
    urls: dict[str, Any] = {}
    info: dict[str, Any] = {}
    try:
        for name in wanted:
            if name == "memory":
                urls[name] = lambda tag: "memory:"
            elif name == "sqlite":
                urls[name] = lambda tag: f"sqlite:{os.path.join(tmpdir, f'store-{tag}.db')}"
                info["sqlite_fs"] = _fs_type(tmpdir)
            elif name == "etcd":
                etcd = EtcdServer(data_parent=None)  # on disk, default fsync
                try:
                    etcd.start()
                except EtcdUnavailable as exc:
                    urls[name] = exc
                    continue
                urls[name] = lambda tag, server=etcd: server.url_with_prefix(
                    f"bench-{tag}-{uuid.uuid4().hex[:6]}"
                )
                info["etcd_version"] = _etcd_version(etcd.binary or find_etcd())
                info["etcd_data_fs"] = _fs_type(etcd.data_dir or "/")
            else:
                urls[name] = ValueError(f"unknown backend {name!r}")
        started = time.perf_counter()
        results = anyio.run(_bench, args, urls, tmpdir, backend="asyncio")
        wall = time.perf_counter() - started
    finally:
        if etcd is not None:
            etcd.stop()
        for entry in Path(tmpdir).glob("*"):
            entry.unlink(missing_ok=True)
        os.rmdir(tmpdir)

    print(
        json.dumps(
            {
                "benchmark": "store",
                "metric": "durable creates/s and latency (medians over runs)",
                "value_bytes": args.value_bytes,
                "duration_s": args.duration,
                "runs": args.runs,
                "concurrency": [int(c) for c in args.concurrency.split(",") if c.strip()],
                "results": results,
                "host": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    **info,
                },
                "wall_s": round(wall, 1),
                "note": NOTE,
            },
            separators=(",", ":"),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
