"""Workload controllers at scale: a Deployment of 1,000 replicas on 100 fake nodes.

    python bench/controllers.py [--replicas 1000] [--nodes 100] [--runs 3] [--tune-gc]
                                [--churn-seconds 5] [--churn-rate 200]
                                [--profile DIR [--profile-phase create|rollout|churn]]

One process, one embedded `Cluster(nodes=NODES, backend="memory:", cluster_cidr="10.0.0.0/8")`
per run (API server, controller manager, scheduler and NODES node agents on the fake runtime,
all in one event loop; `--tune-gc` adds `tune_gc=True`, the collector `kube-lite up` runs).
Each run measures, on the wall clock:

- `create_s`: from the Deployment's create call to status.availableReplicas == REPLICAS (the
  Deployment controller makes the ReplicaSet, the ReplicaSet controller the pods, the scheduler
  binds them, the agents run them and report Ready, and both controllers write status back);
- `rollout_s`: from the image patch to a finished rolling update (25% surge / 25% unavailable,
  the defaults): observedGeneration caught up, updatedReplicas == availableReplicas ==
  replicas == REPLICAS, and the old ReplicaSet at 0 (spec and status);
- `churn`: for CHURN_SECONDS, pods of the (1,000-replica) ReplicaSet are deleted at random at
  CHURN_RATE pods/s, in batches every 0.1 s, picked from a list of its pods refreshed every
  second (gracePeriodSeconds 0, so the ReplicaSet sees them vanish at once); the
  ReplicaSet controller's reconciles are counted by wrapping ReplicaSetController.reconcile
  (ReplicationManager's excluded), giving `reconciles_per_s`, with `recovered_s` the time from the
  end of the churn until availableReplicas is REPLICAS again.

The figures are medians over RUNS (each run's figures are kept under `per_run`). `*_cpu_s` is the
process's CPU time in a phase and `*_cpu_per_wall` that over the phase's wall time: below 1.0
the process waited for a core (other work on the machine), so `*_cpu_s` is what an otherwise
idle core would take. `*_rs_reconciles` counts the ReplicaSet controller's reconciles in a phase;
`create_rss_mb` is the process's resident memory once the 1,000 pods are available (the
top-level figure is the first run's: memory freed by one run is not given back to the OS).
`*_conflicts` counts the 409 Conflicts the API server answered in a phase, by the controller
function whose write met them (the innermost kube_lite/controllers frame on the stack; in
parentheses, where the server raised it), and
`*_requests` the in-process API requests by verb, resource and sender (the innermost
kube_lite/controllers module, else agent, scheduler, client or bench).
Goals: create_s and rollout_s under 10 s. `--profile DIR` records each run with py-spy
(.venv/bin/py-spy; collapsed stacks in DIR/controllers.collapsed.txt); with `--profile-phase
PHASE` (create, rollout or churn) py-spy is attached to this process for that phase only
(DIR/controllers.PHASE.collapsed.txt, every run appended). Prints ONE JSON line on stdout;
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import structlog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kube_lite.api import errors as api_errors  # noqa: E402
from kube_lite.client.transport import InProcessTransport  # noqa: E402
from kube_lite.cluster import Cluster  # noqa: E402
from kube_lite.controllers.replicaset import ReplicaSetController  # noqa: E402

GOAL_S = 10.0
NAMESPACE = "default"
POLL_S = 0.02
CHURN_LIST_S = 1.0


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def rss_mb() -> float:
    """The process's resident memory now, in MiB (Linux; 0.0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def deployment(name: str, replicas: int, image: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": image, "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
            },
        },
    }


class ReconcileCounter:
    """Counts ReplicaSetController.reconcile calls (the class attribute is wrapped before the
    cluster starts, because the workers bind `self.reconcile` when they start)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0  # wall time inside reconcile (awaits included)
        self._original: Callable[..., Awaitable[float | None]] | None = None

    def install(self) -> None:
        original = self._original = ReplicaSetController.reconcile
        counter = self

        async def counted(controller: ReplicaSetController, key: str) -> float | None:
            if type(controller) is not ReplicaSetController:
                return await original(controller, key)
            counter.count += 1
            start = time.perf_counter()
            try:
                return await original(controller, key)
            finally:
                counter.seconds += time.perf_counter() - start

        ReplicaSetController.reconcile = counted  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            ReplicaSetController.reconcile = self._original  # type: ignore[method-assign]


class ConflictCounter:
    """Counts the API server's 409 Conflicts (`kube_lite.api.errors.conflict`, which the
    registry calls for every stale write) by resource and by the controller function whose
    write met them."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._original: Callable[..., api_errors.APIError] | None = None

    def install(self) -> None:
        original = self._original = api_errors.conflict
        counts = self.counts

        def counted(resource: str, group: str, name: str, reason: str | None = None) -> api_errors.APIError:
            frame = sys._getframe(1)
            where = f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}:{frame.f_lineno}"
            writer = "other"
            while frame is not None:
                path = frame.f_code.co_filename
                if "kube_lite/controllers/" in path:
                    writer = f"{Path(path).stem}.{frame.f_code.co_name}"
                    break
                frame = frame.f_back
            counts[f"{resource}:{writer} ({where})"] += 1
            return original(resource, group, name, reason)

        api_errors.conflict = counted  # type: ignore[assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            api_errors.conflict = self._original  # type: ignore[assignment]

    def take(self) -> dict[str, int]:
        """The counts since the last take, most first; resets them."""
        taken = dict(self.counts.most_common())
        self.counts.clear()
        return taken


def _sender(frame: Any) -> str:
    """Who is calling: the innermost controller module, else the innermost component."""
    component = "other"
    while frame is not None:
        path = frame.f_code.co_filename
        if "kube_lite/controllers/" in path:
            return Path(path).stem
        if component == "other":
            for part in ("agent", "scheduler", "client/events"):
                if f"kube_lite/{part}" in path:
                    component = part.split("/")[-1]
                    break
            else:
                if path.endswith("bench/controllers.py"):
                    component = "bench"
        frame = frame.f_back
    return component


class RequestCounter:
    """Counts the in-process API requests (InProcessTransport.request) by verb, resource,
    subresource and sender; watch streams are not counted."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._original: Callable[..., Awaitable[Any]] | None = None

    def install(self) -> None:
        original = self._original = InProcessTransport.request
        counts = self.counts

        async def counted(transport: InProcessTransport, method: str, path: str, **kwargs: Any) -> Any:
            parts = path.split("?")[0].strip("/").split("/")
            parts = parts[parts.index("namespaces") + 2:] if "namespaces" in parts else parts[3 if parts[0] == "apis" else 2:]
            what = "/".join([parts[0], *parts[2:3]]) if parts else path
            counts[f"{method} {what} {_sender(sys._getframe(1))}"] += 1
            return await original(transport, method, path, **kwargs)

        InProcessTransport.request = counted  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            InProcessTransport.request = self._original  # type: ignore[method-assign]

    def take(self) -> dict[str, int]:
        taken = dict(self.counts.most_common())
        self.counts.clear()
        return taken


@contextmanager
def phase_profile(args: argparse.Namespace, phase: str) -> Iterator[None]:
    """With `--profile-phase PHASE`, py-spy attached to this process while the block runs
    (collapsed stacks appended to DIR/controllers.PHASE.collapsed.txt)."""
    if not args.profile or args.profile_phase != phase:
        yield
        return
    args.profile.mkdir(parents=True, exist_ok=True)
    part = args.profile / f"controllers.{phase}.{os.getpid()}.{time.monotonic_ns()}.txt"
    py_spy = Path(sys.executable).parent / "py-spy"
    spy = subprocess.Popen(
        [str(py_spy), "record", "--rate", "200", "--format", "raw", "--nonblocking", "--pid", str(os.getpid()), "-o", str(part)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let it attach before the phase starts
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait()
        if part.exists():
            with (args.profile / f"controllers.{phase}.collapsed.txt").open("a") as out:
                out.write(part.read_text())
            part.unlink()


async def poll(check: Callable[[], Awaitable[bool]], limit_s: float, what: str) -> None:
    """Await `check` every POLL_S until true; fail after `limit_s` seconds."""
    try:
        with anyio.fail_after(limit_s):
            while True:
                if await check():
                    return
                await anyio.sleep(POLL_S)
    except TimeoutError:
        raise TimeoutError(f"{what}: not done after {limit_s} s") from None


async def one_run(
    args: argparse.Namespace, counter: ReconcileCounter, conflicts: ConflictCounter, requests: RequestCounter,
    index: int,
) -> dict[str, Any]:
    n = args.replicas
    result: dict[str, Any] = {}
    t = time.perf_counter()
    async with Cluster(nodes=args.nodes, backend="memory:", cluster_cidr="10.0.0.0/8", tune_gc=args.tune_gc) as cluster:
        with anyio.fail_after(120):
            await cluster.wait_ready()
        result["startup_s"] = round(time.perf_counter() - t, 3)
        client = cluster.client
        log(f"run {index}: {args.nodes} nodes ready in {result['startup_s']} s")

        async def deploy() -> dict[str, Any]:
            return await client.get("deployments", "bench", namespace=NAMESPACE)

        # ---- create
        async def available() -> bool:
            status = (await deploy()).get("status") or {}
            return status.get("availableReplicas") == n and status.get("updatedReplicas") == n

        with phase_profile(args, "create"):
            counter.count = 0
            conflicts.take()
            requests.take()
            cpu0, t0 = time.process_time(), time.perf_counter()
            await client.create("deployments", deployment("bench", n, "nginx:1.25"), namespace=NAMESPACE)
            await poll(available, args.timeout, "create")
            result["create_s"] = round(time.perf_counter() - t0, 3)
            result["create_cpu_s"] = round(time.process_time() - cpu0, 3)
            result["create_cpu_per_wall"] = round((time.process_time() - cpu0) / (time.perf_counter() - t0), 2)
        result["create_rs_reconciles"] = counter.count
        result["create_conflicts"] = conflicts.take()
        result["create_requests"] = requests.take()
        result["create_rss_mb"] = rss_mb()
        log(f"run {index}: {n} available in {result['create_s']} s")
        (old_rs,) = (await client.list("replicasets", namespace=NAMESPACE, label_selector="app=bench"))["items"]
        old_name = old_rs["metadata"]["name"]

        # ---- rolling update
        async def rolled_out() -> bool:
            d = await deploy()
            status = d.get("status") or {}
            if status.get("observedGeneration", 0) < d["metadata"]["generation"]:
                return False
            if not (status.get("updatedReplicas") == status.get("availableReplicas") == status.get("replicas") == n):
                return False
            old = await client.get("replicasets", old_name, namespace=NAMESPACE)
            return old["spec"].get("replicas") == 0 and not (old.get("status") or {}).get("replicas")

        with phase_profile(args, "rollout"):
            counter.count = 0
            conflicts.take()
            requests.take()
            cpu0, t0 = time.process_time(), time.perf_counter()
            await client.patch(
                "deployments", "bench", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}},
                namespace=NAMESPACE, patch_type="strategic",
            )
            await poll(rolled_out, args.timeout, "rolling update")
            result["rollout_s"] = round(time.perf_counter() - t0, 3)
            result["rollout_cpu_s"] = round(time.process_time() - cpu0, 3)
            result["rollout_cpu_per_wall"] = round((time.process_time() - cpu0) / (time.perf_counter() - t0), 2)
        result["rollout_rs_reconciles"] = counter.count
        result["rollout_conflicts"] = conflicts.take()
        result["rollout_requests"] = requests.take()
        log(f"run {index}: rolled out in {result['rollout_s']} s")

        # ---- churn on the new ReplicaSet
        new_rs = [rs for rs in (await client.list("replicasets", namespace=NAMESPACE, label_selector="app=bench"))["items"]
                  if rs["metadata"]["name"] != old_name]
        assert len(new_rs) == 1 and new_rs[0]["spec"]["replicas"] == n
        rng = random.Random(index)
        deleted = 0
        batch = max(1, round(args.churn_rate * 0.1))
        with phase_profile(args, "churn"):
            counter.count, counter.seconds = 0, 0.0
            conflicts.take()
            cpu0, t0 = time.process_time(), time.perf_counter()
            names: list[str] = []
            listed = float("-inf")
            while time.perf_counter() - t0 < args.churn_seconds:
                tick = time.perf_counter()
                if tick - listed >= CHURN_LIST_S:
                    # The victims come from a list refreshed every CHURN_LIST_S, not every tick: a
                    # list of 1,000 pods ten times a second would make the harness the busiest
                    # client of the API server it measures.
                    names = [p["metadata"]["name"] for p in (await client.list("pods", namespace=NAMESPACE, label_selector="app=bench"))["items"]
                             if not p["metadata"].get("deletionTimestamp")]
                    listed = tick

                async def kill(name: str) -> None:
                    nonlocal deleted
                    try:
                        await client.delete("pods", name, namespace=NAMESPACE, grace_period_seconds=0)
                        deleted += 1
                    except Exception:  # noqa: BLE001 - already gone: the churn goes on
                        pass

                victims = rng.sample(names, min(batch, len(names)))
                names = [name for name in names if name not in victims]
                async with anyio.create_task_group() as tg:
                    for name in victims:
                        tg.start_soon(kill, name)
                await anyio.sleep(max(0.0, 0.1 - (time.perf_counter() - tick)))
            churn_wall = time.perf_counter() - t0
            reconciles = counter.count
            result["churn"] = {
                "seconds": round(churn_wall, 3),
                "pods_deleted": deleted,
                "reconciles": reconciles,
                "reconciles_per_s": round(reconciles / churn_wall, 1),
                "reconcile_mean_ms": round(1000 * counter.seconds / reconciles, 1) if reconciles else None,
                "cpu_per_wall": round((time.process_time() - cpu0) / churn_wall, 2),
            }
        result["churn"]["conflicts"] = conflicts.take()
        t1 = time.perf_counter()

        async def recovered() -> bool:
            status = (await client.get("replicasets", new_rs[0]["metadata"]["name"], namespace=NAMESPACE)).get("status") or {}
            return status.get("availableReplicas") == n and status.get("replicas") == n

        await poll(recovered, args.timeout, "recovery after churn")
        result["churn"]["recovered_s"] = round(time.perf_counter() - t1, 3)
        log(f"run {index}: churn {result['churn']}")
    return result


def median(runs: list[dict[str, Any]], *path: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value[key]
        values.append(value)
    return round(statistics.median(values), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--churn-seconds", type=float, default=5.0)
    parser.add_argument("--churn-rate", type=float, default=200.0, help="pods deleted per second during the churn")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for each phase")
    parser.add_argument("--tune-gc", action="store_true",
                        help="Cluster(tune_gc=True): the collector as `kube-lite up` runs it (default: Python's)")
    parser.add_argument("--profile", type=Path, help="record each run with py-spy into this directory")
    parser.add_argument("--profile-phase", choices=("create", "rollout", "churn"),
                        help="with --profile: attach py-spy for this phase only")
    args = parser.parse_args()

    if args.profile and not args.profile_phase and not os.environ.get("_BENCH_CONTROLLERS_CHILD"):
        # Re-run this script under py-spy (same arguments; one profile for all its runs).
        args.profile.mkdir(parents=True, exist_ok=True)
        out = args.profile / "controllers.collapsed.txt"
        py_spy = Path(sys.executable).parent / "py-spy"
        env = {**os.environ, "_BENCH_CONTROLLERS_CHILD": "1"}
        cmd = [str(py_spy), "record", "--rate", "200", "--format", "raw", "-o", str(out), "--",
               sys.executable, *sys.argv]
        # py-spy talks on stdout too: pass on only the JSON line there, the rest to stderr.
        child = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
        for line in child.stdout.splitlines():
            print(line, file=sys.stdout if line.startswith("{") else sys.stderr, flush=True)
        sys.exit(child.returncode)

    # Errors only, on stderr (structlog's default prints debug, on stdout): at 1,000 pods the
    # event recorder's "buffer full" warnings would run to thousands of lines.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    counter = ReconcileCounter()
    counter.install()
    conflicts = ConflictCounter()
    conflicts.install()
    requests = RequestCounter()
    requests.install()
    runs: list[dict[str, Any]] = []
    try:
        for index in range(args.runs):
            runs.append(anyio.run(one_run, args, counter, conflicts, requests, index))
    finally:
        counter.uninstall()
        conflicts.uninstall()
        requests.uninstall()
    figures = {
        "bench": "controllers",
        "replicas": args.replicas,
        "nodes": args.nodes,
        "runs": args.runs,
        "tune_gc": args.tune_gc,
        "create_s": median(runs, "create_s"),
        "rollout_s": median(runs, "rollout_s"),
        "goal_s": GOAL_S,
        "create_goal_met": median(runs, "create_s") < GOAL_S,
        "rollout_goal_met": median(runs, "rollout_s") < GOAL_S,
        "create_cpu_s": median(runs, "create_cpu_s"),
        "rollout_cpu_s": median(runs, "rollout_cpu_s"),
        "create_conflicts": statistics.median(sum(r["create_conflicts"].values()) for r in runs),
        "rollout_conflicts": statistics.median(sum(r["rollout_conflicts"].values()) for r in runs),
        "create_rs_reconciles": median(runs, "create_rs_reconciles"),
        "rollout_rs_reconciles": median(runs, "rollout_rs_reconciles"),
        "churn_reconciles_per_s": median(runs, "churn", "reconciles_per_s"),
        "churn_reconcile_mean_ms": median(runs, "churn", "reconcile_mean_ms"),
        "churn_pods_deleted_per_s": round(statistics.median(r["churn"]["pods_deleted"] / r["churn"]["seconds"] for r in runs), 1),
        "churn_recovered_s": median(runs, "churn", "recovered_s"),
        # The first run's: later runs in the same process start from its high-water mark.
        "create_rss_mb": runs[0]["create_rss_mb"],
        "startup_s": median(runs, "startup_s"),
        "per_run": runs,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
