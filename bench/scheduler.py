"""Scheduler throughput: pods/s from creation to bound, with 1,000 and 5,000 fake nodes.

    python bench/scheduler.py [--scenarios 1000x10000,5000x10000] [--creators 32]
                              [--events on|off|both] [--percentage N] [--profile DIR]

One process, as kube-scheduler's scheduler_perf runs it: for each scenario NODESxPODS a fresh
in-process API server (memory backend) gets NODES nodes, created directly through the client
(4 cpu, 32Gi, 110 pods, Ready, as scheduler_perf's node-default.yaml), then a Scheduler is
started and waits for its informers. The clock starts; `--creators` concurrent tasks create the
PODS pods (100m cpu, 500Mi memory: scheduler_perf's pod-default.yaml), each its share one after
the other, while the scheduler runs in the same event loop. The clock stops when the last
binding has been acknowledged by the API server; then one list checks that every pod has a
spec.nodeName. The figure is PODS / elapsed, creation and binding included, everything (API
server, watch fan-out, informers, scheduler, binder, event recorder) sharing one Python thread.
`cpu_per_wall` is the process's CPU time over that elapsed time: below 1.0 the process was
waiting for a core (other work on the machine), and `pods_per_cpu_s` (PODS / CPU seconds) is
the rate an otherwise idle core would give. `framework_only_pods_per_cpu_s` times the
scheduling cycles alone (filter, score, select, assume on the same nodes and pods, no API).
The Scheduled events are written by the recorder's own task and may lag: `events_pending_at_end`
says how many were still queued when the last pod was bound, `events_drained_s` when the last
one was written (same clock as `elapsed_s`).

Anchor: kube-scheduler's scheduler_perf threshold for SchedulingBasic at 5,000 nodes is 680
pods/s (Go, many cores, API server in another process). Goals here, on 2 cores: >= 1,000 pods/s
at 1,000 nodes and >= 500 at 5,000 nodes.

`--events both` runs each scenario twice: with the Scheduled events Kubernetes records (the
default) and without them (the scheduler's own path). `--profile DIR` records each run with
py-spy (collapsed stacks in DIR). Prints ONE JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kube_lite.clock import RealClock  # noqa: E402
from kube_lite.scheduler.cache import SchedulerCache  # noqa: E402
from kube_lite.scheduler.framework import Framework  # noqa: E402
from kube_lite.scheduler.podinfo import PodInfo  # noqa: E402
from kube_lite.scheduler.scheduler import Scheduler  # noqa: E402
from kube_lite.server.apiserver import APIServer  # noqa: E402

GOALS = {1000: 1000.0, 5000: 500.0}
ANCHOR_5000 = 680.0


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def node_body(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
    }


def node_status() -> dict[str, Any]:
    amounts = {"cpu": "4", "memory": "32Gi", "pods": "110"}
    return {"capacity": amounts, "allocatable": amounts, "conditions": [{"type": "Ready", "status": "True"}]}


def pod_body(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "bench"}},
        "spec": {"containers": [{
            "name": "pause", "image": "registry.k8s.io/pause:3.10",
            "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}},
        }]},
    }


async def _in_batches(items: list[Any], batch: int, fn: Any) -> None:
    for i in range(0, len(items), batch):
        async with anyio.create_task_group() as tg:
            for item in items[i:i + batch]:
                tg.start_soon(fn, item)


async def run_scenario(nodes: int, pods: int, creators: int, events: bool, percentage: int | None) -> dict[str, Any]:
    clock = RealClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        started = time.perf_counter()

        async def make_node(i: int) -> None:
            created = await client.create("nodes", node_body(f"node-{i:05d}"))
            created["status"] = node_status()
            await client.update_status("nodes", created)

        await _in_batches(list(range(nodes)), 200, make_node)
        log(f"  {nodes} nodes in {time.perf_counter() - started:.1f} s")
        scheduler = Scheduler(client, clock, percentage_of_nodes_to_score=percentage, record_events=events,
                              bind_workers=int(os.environ.get("BENCH_BIND_WORKERS", "16")))
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            names = [f"pod-{i:06d}" for i in range(pods)]
            shares = [names[k::creators] for k in range(creators)]
            done = anyio.Event()
            t0 = time.perf_counter()
            cpu0 = time.process_time()
            created_at: list[float] = []

            pods_kind = client.kind("pods")

            async def creator(share: list[str]) -> None:
                for name in share:
                    await client.create(pods_kind, pod_body(name))
                created_at.append(time.perf_counter())

            async def watch_done() -> None:
                while scheduler.scheduled < pods:  # noqa: ASYNC110 - a poll costs less than a hook
                    await anyio.sleep(0.01)
                done.set()

            async with anyio.create_task_group() as load:
                for share in shares:
                    load.start_soon(creator, share)
                load.start_soon(watch_done)
            await done.wait()
            elapsed = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            creates_done = max(created_at) - t0
            events_pending = sum(r.pending for r in scheduler.recorders.values())
            while any(r.pending for r in scheduler.recorders.values()):  # noqa: ASYNC110
                await anyio.sleep(0.01)
            events_drained = time.perf_counter() - t0
            events_dropped = sum(r.dropped for r in scheduler.recorders.values())
            result = await client.list("pods")
            unbound = sum(1 for p in result["items"] if not (p.get("spec") or {}).get("nodeName"))
            per_node: dict[str, int] = {}
            for p in result["items"]:
                node = (p.get("spec") or {}).get("nodeName")
                if node:
                    per_node[node] = per_node.get(node, 0) + 1
            tg.cancel_scope.cancel()
    rate = pods / elapsed
    return {
        "nodes": nodes,
        "pods": pods,
        "events": events,
        "pods_per_s": round(rate, 1),
        "elapsed_s": round(elapsed, 3),
        "creates_done_s": round(creates_done, 3),
        "cpu_per_wall": round(cpu / elapsed, 2),
        "pods_per_cpu_s": round(pods / cpu, 1),
        "unbound": unbound,
        "bind_errors": scheduler.bind_errors,
        "events_pending_at_end": events_pending,
        "events_drained_s": round(events_drained, 3),
        "events_dropped": events_dropped,
        "nodes_used": len(per_node),
        "max_pods_per_node": max(per_node.values(), default=0),
        "goal": GOALS.get(nodes),
        "meets_goal": rate >= GOALS[nodes] if nodes in GOALS else None,
    }


def framework_only(nodes: int, pods: int, percentage: int | None) -> float:
    """Scheduling cycles (filter, score, select, assume) per CPU second, without the API:
    what the scheduler itself costs, as opposed to the API server around it."""
    cache = SchedulerCache()
    for i in range(nodes):
        body = node_body(f"node-{i:05d}")
        body["status"] = node_status()
        cache.add_node(body)
    framework = Framework(percentage_of_nodes_to_score=percentage)
    infos = [PodInfo.of(pod_body(f"pod-{i:06d}")) for i in range(pods)]
    start = 0
    cpu0 = time.process_time()
    for info in infos:
        result = framework.schedule(info, cache, start)
        start = (start + result.evaluated) % nodes
        cache.assume_pod(info, result.node)
    return pods / (time.process_time() - cpu0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="1000x10000,5000x10000", help="NODESxPODS,...")
    parser.add_argument("--creators", type=int, default=32, help="concurrent creating tasks (creates in flight)")
    parser.add_argument("--events", choices=("on", "off", "both"), default="both")
    parser.add_argument("--percentage", type=int, default=None, help="percentageOfNodesToScore (default adaptive)")
    parser.add_argument("--profile", default=None, help="directory for py-spy collapsed stacks")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        nodes, pods, events = args.child.split(":")
        result = anyio.run(run_scenario, int(nodes), int(pods), args.creators, events == "on", args.percentage)
        result["framework_only_pods_per_cpu_s"] = round(framework_only(int(nodes), int(pods), args.percentage), 1)
        print(json.dumps(result))
        return

    runs = []
    flags = {"on": [True], "off": [False], "both": [True, False]}[args.events]
    for scenario in args.scenarios.split(","):
        nodes, pods = (int(x) for x in scenario.lower().split("x"))
        for events in flags:
            # Each run in a fresh process: no memory or caches carried from one to the next.
            child = [sys.executable, __file__, "--child", f"{nodes}:{pods}:{'on' if events else 'off'}",
                     "--creators", str(args.creators)]
            if args.percentage is not None:
                child += ["--percentage", str(args.percentage)]
            if args.profile:
                os.makedirs(args.profile, exist_ok=True)
                out = Path(args.profile) / f"scheduler-{nodes}x{pods}-{'events' if events else 'noevents'}.txt"
                child = [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "200", "-f", "raw", "-o",
                         str(out), "--", *child]
            log(f"scenario {nodes} nodes x {pods} pods, events {'on' if events else 'off'}")
            proc = subprocess.run(child, stdout=subprocess.PIPE, text=True, check=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("{")][-1]
            result = json.loads(line)
            log(f"  {result['pods_per_s']} pods/s ({result['elapsed_s']} s, creates done at {result['creates_done_s']} s)")
            runs.append(result)
    print(json.dumps({
        "benchmark": "scheduler",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "anchor": {"scheduler_perf_5000_nodes_threshold_pods_per_s": ANCHOR_5000},
        "runs": runs,
    }))


if __name__ == "__main__":
    main()
