"""The Job and TTL-after-finished controllers.

Reconcile units run `sync_job` against fake informers (plain lists) and a fake client that
records what the controller asked for, in the manner of sample-controller's tests. Scenarios
run the controllers against an in-process Cluster with the fake runtime on a VirtualClock.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from kube_lite.api.errors import APIError
from kube_lite.client.events import EventRecorder
from kube_lite.client.informer import NAMESPACE_INDEX, namespace_index, object_key
from kube_lite.clock import VirtualClock
from kube_lite.cluster import Cluster
from kube_lite.controllers.job import (
    CONTROLLER_UID_INDEX,
    JOB_COMPLETION_INDEX,
    JOB_TRACKING_FINALIZER,
    BackoffRecord,
    BackoffStore,
    JobController,
    OrderedIntervals,
    TTLAfterFinishedController,
    controller_uid_index,
    ensure_condition,
    match_pod_failure_policy,
    match_success_policy,
    past_backoff_limit_on_failure,
)
from kube_lite.controllers.manager import default_controllers
from tests.unit.controllers.fakes import FakeRecorder

Object = dict[str, Any]


def _managed(names: tuple[str, ...]) -> tuple[str, ...]:
    """Those of `names` the controller manager runs (it refuses to exclude unknown names)."""
    known = []
    for name in names:
        try:
            default_controllers(exclude=(name,))
        except ValueError:
            continue
        known.append(name)
    return tuple(known)


# The batch controllers, which these scenarios run themselves, as the manager names them.
BATCH_CONTROLLERS = _managed(("job", "ttl-after-finished", "cronjob"))
START = 1_767_225_600.0  # VirtualClock's default start: 2026-01-01T00:00:00Z
RUN_SECONDS = "fake.kube-lite.dev/run-seconds"
EXIT_CODE = "fake.kube-lite.dev/exit-code"


def ts(seconds: float) -> str:
    """The RFC 3339 time `seconds` after START."""
    import datetime as dt

    return dt.datetime.fromtimestamp(START + seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------- pure helpers


def test_ordered_intervals_print_as_kubernetes_completed_indexes() -> None:
    assert str(OrderedIntervals().with_indexes([0, 1, 2, 4])) == "0-2,4"
    assert str(OrderedIntervals().with_indexes([1, 2])) == "1,2"
    assert str(OrderedIntervals().with_indexes([5, 3, 4, 9])) == "3-5,9"
    parsed = OrderedIntervals.parse("0-2,4,7-9,x,3-", 8)
    assert str(parsed) == "0-2,4,7"  # beyond completions dropped, garbage skipped
    assert parsed.total() == 5 and parsed.has(4) and not parsed.has(3)
    assert str(parsed.with_indexes([3])) == "0-4,7"


def test_backoff_doubles_from_ten_seconds_and_is_capped() -> None:
    record = BackoffRecord("ns/j", failures_after_last_success=1, last_failure_time=100.0)
    assert record.remaining(100.0) == 10.0
    assert record.remaining(104.0) == 6.0
    assert record.remaining(111.0) == 0.0
    record.failures_after_last_success = 3
    assert record.remaining(100.0) == 40.0
    record.failures_after_last_success = 20
    assert record.remaining(100.0) == 600.0
    assert record.remaining(100.0, cap=360.0) == 360.0
    assert BackoffRecord("ns/j").remaining(100.0) == 0.0


def _finished_pod(name: str, phase: str, finished: float) -> Object:
    return {
        "metadata": {"name": name, "uid": name, "namespace": "default"},
        "status": {"phase": phase, "containerStatuses": [{"name": "c", "state": {"terminated": {"finishedAt": ts(finished)}}}]},
    }


def test_backoff_store_counts_failures_since_the_last_success() -> None:
    store = BackoffStore()
    record = store.new_record("k", [], [_finished_pod("a", "Failed", 5), _finished_pod("b", "Failed", 9)])
    assert record.failures_after_last_success == 2 and record.last_failure_time == START + 9
    assert store.get("k") is None  # nothing is kept until the status write succeeded
    store.update(record)
    after_success = store.new_record("k", [_finished_pod("s", "Succeeded", 20)], [_finished_pod("c", "Failed", 15), _finished_pod("d", "Failed", 25)])
    assert after_success.failures_after_last_success == 1 and after_success.last_failure_time == START + 25


def test_ensure_condition_adds_replaces_and_never_adds_false() -> None:
    conditions: list[Object] = []
    assert not ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", ts(0))
    assert ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", ts(0))
    assert not ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", ts(5))
    assert ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", ts(9))
    assert conditions == [{
        "type": "Suspended", "status": "False", "reason": "JobResumed", "message": "Job resumed",
        "lastProbeTime": ts(9), "lastTransitionTime": ts(9),
    }]


def test_pod_failure_policy_rules_match_in_order() -> None:
    policy = {"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1]}},
    ]}

    def failed(code: int, container: str = "main", conditions: list[Object] | None = None) -> Object:
        return {
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": "Failed", "conditions": conditions or [],
                       "containerStatuses": [{"name": container, "state": {"terminated": {"exitCode": code}}}]},
        }

    assert match_pod_failure_policy(policy, failed(42)) == (
        "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1", True, "FailJob",
    )
    assert match_pod_failure_policy(policy, failed(42, "side")) == (None, True, "Count")
    assert match_pod_failure_policy(policy, failed(1)) == (None, True, None)
    assert match_pod_failure_policy(policy, failed(42, conditions=[{"type": "DisruptionTarget", "status": "True"}])) == (
        None, False, "Ignore",
    )
    assert match_pod_failure_policy(None, failed(3)) == (None, True, None)


def test_success_policy_by_indexes_and_by_count() -> None:
    done = OrderedIntervals().with_indexes([0, 2, 3])
    assert match_success_policy({"rules": [{"succeededIndexes": "0,2-3"}]}, 5, done) == "Matched rules at index 0"
    assert match_success_policy({"rules": [{"succeededIndexes": "0-4"}]}, 5, done) is None
    assert match_success_policy({"rules": [{"succeededIndexes": "0-4", "succeededCount": 2}]}, 5, done) == "Matched rules at index 0"
    assert match_success_policy({"rules": [{"succeededCount": 4}, {"succeededCount": 3}]}, 5, done) == "Matched rules at index 1"
    assert match_success_policy(None, 5, done) is None


def test_restarts_count_against_backoff_limit_only_for_on_failure() -> None:
    job = {"spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "OnFailure"}}}}
    pods = [{"status": {"phase": "Running", "containerStatuses": [{"restartCount": 1}, {"restartCount": 1}]}}]
    assert past_backoff_limit_on_failure(job, pods)
    assert not past_backoff_limit_on_failure(job, [{"status": {"phase": "Running", "containerStatuses": [{"restartCount": 1}]}}])
    assert not past_backoff_limit_on_failure(job, [{"status": {"phase": "Failed", "containerStatuses": [{"restartCount": 5}]}}])
    never = {"spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never"}}}}
    assert not past_backoff_limit_on_failure(never, pods)


# ---------------------------------------------------------------------------------- fakes


class FakeInformer:
    """An informer's read side over a fixed list of objects (the cache a test sets up)."""

    def __init__(self, objects: list[Object] = (), indexers: dict[str, Callable[[Object], list[str]]] | None = None) -> None:  # type: ignore[assignment]
        self.objects = {object_key(o): o for o in objects}
        self.indexers = {NAMESPACE_INDEX: namespace_index, **(indexers or {})}

    def get(self, key: str) -> Object | None:
        return self.objects.get(key)

    def list(self) -> list[Object]:
        return list(self.objects.values())

    def by_index(self, name: str, value: str) -> list[Object]:
        fn = self.indexers[name]
        return [self.objects[k] for k in sorted(self.objects) if value in fn(self.objects[k])]


class FakeClient:
    """Records every call; creates answer with a generated name and uid, status writes with
    a new resourceVersion; `fail` maps a verb to the APIError it raises."""

    def __init__(self, objects: dict[str, Object] | None = None) -> None:
        self.actions: list[tuple[Any, ...]] = []
        self.objects = objects or {}
        self.fail: dict[str, APIError] = {}
        self._seq = itertools.count(1)

    def _maybe_fail(self, verb: str) -> None:
        if verb in self.fail:
            raise self.fail[verb]

    async def create(self, kind: str, obj: Object, *, namespace: str | None = None) -> Object:
        self.actions.append(("create", kind, copy.deepcopy(obj)))
        self._maybe_fail("create")
        out = copy.deepcopy(obj)
        meta = out.setdefault("metadata", {})
        n = next(self._seq)
        meta.setdefault("name", f"{meta.get('generateName', 'x-')}{n:05d}")
        meta["uid"] = f"uid-{meta['name']}"
        meta["resourceVersion"] = str(1000 + n)
        return out

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Object:
        self.actions.append(("get", kind, name))
        obj = self.objects.get(f"{kind}/{namespace}/{name}")
        if obj is None:
            raise APIError(404, "NotFound", f'{kind} "{name}" not found')
        return copy.deepcopy(obj)

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str | None = None, patch_type: str = "merge") -> Object:
        self.actions.append(("patch", kind, name, copy.deepcopy(patch)))
        self._maybe_fail("patch")
        return {"metadata": {"name": name}}

    async def delete(self, kind: str, name: str, *, namespace: str | None = None, **options: Any) -> Object:
        self.actions.append(("delete", kind, name, options))
        self._maybe_fail("delete")
        return {}

    async def update_status(self, kind: str, obj: Object) -> Object:
        self.actions.append(("status", kind, copy.deepcopy(obj)))
        self._maybe_fail("status")
        out = copy.deepcopy(obj)
        out["metadata"]["resourceVersion"] = str(2000 + next(self._seq))
        return out

    def of(self, verb: str) -> list[tuple[Any, ...]]:
        return [a for a in self.actions if a[0] == verb]

    def statuses(self) -> list[Object]:
        return [a[2]["status"] for a in self.of("status")]


def make_job(name: str = "pi", *, uid: str = "job-uid", **spec: Any) -> Object:
    labels = {"job-name": name, "batch.kubernetes.io/job-name": name, "controller-uid": uid, "batch.kubernetes.io/controller-uid": uid}
    status = spec.pop("status", {})
    full = {
        "parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": False,
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
        "template": {"metadata": {"labels": labels},
                     "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}},
        **spec,
    }
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "resourceVersion": "10", "generation": 1,
                     "creationTimestamp": ts(0)},
        "spec": full, "status": status,
    }


def make_pod(job: Object, name: str, phase: str = "Running", *, finalizer: bool = True, ready: bool = False,
             finished: float | None = None, index: int | None = None, deleting: bool = False, exit_code: int = 0) -> Object:
    meta: Object = {
        "name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": "5",
        "creationTimestamp": ts(0),
        "labels": dict(job["spec"]["template"]["metadata"]["labels"]),
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job["metadata"]["name"],
                             "uid": job["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
    }
    if finalizer:
        meta["finalizers"] = [JOB_TRACKING_FINALIZER]
    if index is not None:
        meta["annotations"] = {JOB_COMPLETION_INDEX: str(index)}
    if deleting:
        meta["deletionTimestamp"] = ts(1)
    status: Object = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if finished is not None:
        status["containerStatuses"] = [{"name": "c", "restartCount": 0,
                                        "state": {"terminated": {"exitCode": exit_code, "finishedAt": ts(finished)}}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": "node1"}, "status": status}


def make_controller(jobs: list[Object], pods: list[Object], *, now: float = 0.0,
                    objects: dict[str, Object] | None = None) -> tuple[JobController, FakeClient, FakeRecorder, VirtualClock]:
    clock = VirtualClock(start=START + now)
    client = FakeClient(objects)
    recorder = FakeRecorder()
    controller = JobController(client, clock, recorder)  # type: ignore[arg-type]
    controller.jobs = FakeInformer(jobs)  # type: ignore[assignment]
    controller.pods = FakeInformer(pods, {CONTROLLER_UID_INDEX: controller_uid_index})  # type: ignore[assignment]
    return controller, client, recorder, clock


# ---------------------------------------------------------------------------------- reconcile units


async def test_new_job_creates_parallelism_pods_with_owner_labels_and_tracking_finalizer() -> None:
    job = make_job(completions=6, parallelism=2)
    controller, client, recorder, _ = make_controller([job], [])
    assert await controller.sync_job("default/pi") is None
    creates = client.of("create")
    assert len(creates) == 2
    pod = creates[0][2]
    assert pod["metadata"]["generateName"] == "pi-"
    assert pod["metadata"]["finalizers"] == [JOB_TRACKING_FINALIZER]
    assert pod["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "pi"
    assert pod["metadata"]["labels"]["controller-uid"] == "job-uid"
    assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "Job", "name": "pi", "uid": "job-uid",
                                                   "controller": True, "blockOwnerDeletion": True}]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert recorder.events == [("Normal", "SuccessfulCreate", "Created pod: pi-00001"),
                               ("Normal", "SuccessfulCreate", "Created pod: pi-00002")]
    (status,) = client.statuses()
    assert status == {"startTime": ts(0), "active": 2, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
    # The creations are expected: until the informer shows them, another pass creates nothing.
    client.actions.clear()
    await controller.sync_job("default/pi")
    assert client.of("create") == []


async def test_never_more_active_pods_than_remaining_completions() -> None:
    job = make_job(completions=3, parallelism=5, status={"succeeded": 2, "startTime": ts(0)})
    controller, client, _, _ = make_controller([job], [])
    await controller.sync_job("default/pi")
    assert len(client.of("create")) == 1


async def test_indexed_pods_carry_their_index_hostname_and_env() -> None:
    job = make_job(completions=4, parallelism=2, completionMode="Indexed")
    done = make_pod(job, "pi-0-aaaaa", "Succeeded", finished=1, index=0, finalizer=False)
    job["status"] = {"startTime": ts(0), "succeeded": 1, "completedIndexes": "0"}
    controller, client, _, _ = make_controller([job], [done])
    await controller.sync_job("default/pi")
    pods = [a[2] for a in client.of("create")]
    assert [p["metadata"]["generateName"] for p in pods] == ["pi-1-", "pi-2-"]
    assert [p["metadata"]["annotations"][JOB_COMPLETION_INDEX] for p in pods] == ["1", "2"]
    assert [p["metadata"]["labels"][JOB_COMPLETION_INDEX] for p in pods] == ["1", "2"]
    assert [p["spec"]["hostname"] for p in pods] == ["pi-1", "pi-2"]
    assert pods[0]["spec"]["containers"][0]["env"] == [{
        "name": "JOB_COMPLETION_INDEX",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-completion-index']"}},
    }]


async def test_indexed_duplicates_are_removed_before_anything_is_created() -> None:
    job = make_job(completions=3, parallelism=3, completionMode="Indexed", status={"startTime": ts(0)})
    pods = [make_pod(job, "a", index=0, ready=True), make_pod(job, "b", index=0), make_pod(job, "c", index=7)]
    controller, client, _, _ = make_controller([job], pods)
    await controller.sync_job("default/pi")
    assert client.of("create") == []
    deleted = sorted(a[2] for a in client.of("delete"))
    assert deleted == ["b", "c"]  # the not-ready duplicate and the out-of-range index


async def test_finished_pods_are_counted_through_uncounted_then_finalizer_then_counter() -> None:
    job = make_job(completions=2, parallelism=2, status={"startTime": ts(0), "active": 2})
    pods = [make_pod(job, "pi-a", "Succeeded", finished=5), make_pod(job, "pi-b", ready=True)]
    controller, client, _, _ = make_controller([job], pods, now=6)
    await controller.sync_job("default/pi")
    verbs = [a[0] for a in client.actions if a[0] in ("status", "patch")]
    assert verbs == ["status", "patch", "status"]
    first, last = client.statuses()
    assert first["uncountedTerminatedPods"] == {"succeeded": ["uid-pi-a"]}
    assert "succeeded" not in first
    assert client.of("patch")[0][2:] == ("pi-a", {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}})
    assert last["succeeded"] == 1 and last["uncountedTerminatedPods"] == {} and last["active"] == 1
    # The second status write is conditional on the first one's resourceVersion.
    writes = client.of("status")
    assert writes[0][2]["metadata"]["resourceVersion"] == "10"
    assert writes[1][2]["metadata"]["resourceVersion"] != "10"


async def test_a_crash_between_steps_never_counts_a_pod_twice() -> None:
    # The uid made it into the uncounted list, the finalizer is still there: no second entry.
    job = make_job(completions=3, status={"startTime": ts(0), "uncountedTerminatedPods": {"succeeded": ["uid-pi-a"]}})
    pods = [make_pod(job, "pi-a", "Succeeded", finished=5)]
    controller, client, _, _ = make_controller([job], pods, now=6)
    await controller.sync_job("default/pi")
    last = client.statuses()[-1]
    assert last["succeeded"] == 1 and last["uncountedTerminatedPods"] == {}
    assert all(s.get("uncountedTerminatedPods", {}).get("succeeded", []).count("uid-pi-a") <= 1 for s in client.statuses())
    # The finalizer went but the count was not written; the pod is gone: counted, once.
    job = make_job(completions=3, status={"startTime": ts(0), "succeeded": 1, "uncountedTerminatedPods": {"failed": ["uid-gone"]}})
    controller, client, _, _ = make_controller([job], [], now=6)
    await controller.sync_job("default/pi")
    first = client.statuses()[0]
    assert first["failed"] == 1 and first["succeeded"] == 1 and first["uncountedTerminatedPods"] == {}


async def test_a_pod_whose_finalizer_removal_is_in_flight_is_not_counted_again() -> None:
    job = make_job(completions=3, status={"startTime": ts(0), "succeeded": 1})
    stale = make_pod(job, "pi-a", "Succeeded", finished=5)  # the cache still shows the finalizer
    controller, client, _, _ = make_controller([job], [stale], now=6)
    controller.finalizer_expectations.expect("default/pi", ["uid-pi-a"])
    await controller.sync_job("default/pi")
    assert client.of("patch") == []
    assert all(s.get("succeeded") == 1 for s in client.statuses())


async def test_backoff_limit_exceeded_fails_the_job_through_failure_target() -> None:
    job = make_job(backoffLimit=2, status={"startTime": ts(0), "failed": 2})
    pods = [make_pod(job, "pi-c", "Failed", finished=30, exit_code=1)]
    controller, client, recorder, _ = make_controller([job], pods, now=31)
    await controller.sync_job("default/pi")
    first, last = client.statuses()
    assert [c["type"] for c in first["conditions"]] == ["FailureTarget"]
    assert first["conditions"][0]["reason"] == "BackoffLimitExceeded"
    assert first["uncountedTerminatedPods"] == {"failed": ["uid-pi-c"]}
    assert [(c["type"], c["reason"]) for c in last["conditions"]] == [
        ("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded"),
    ]
    assert last["failed"] == 3 and "completionTime" not in last
    assert recorder.events == [("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]


async def test_a_recent_failure_delays_the_replacement_pod() -> None:
    job = make_job(backoffLimit=6, status={"startTime": ts(0)})
    pods = [make_pod(job, "pi-a", "Failed", finished=3, exit_code=1)]
    controller, client, _, _ = make_controller([job], pods, now=4)
    requeue = await controller.sync_job("default/pi")
    assert client.of("create") == []
    assert requeue == pytest.approx(9.0)
    assert client.statuses()[-1]["failed"] == 1


async def test_deadline_exceeded_deletes_active_pods_and_fails_when_they_are_gone() -> None:
    job = make_job(activeDeadlineSeconds=10, status={"startTime": ts(0), "active": 1})
    running = make_pod(job, "pi-a", ready=True)
    controller, client, recorder, _ = make_controller([job], [running], now=12)
    await controller.sync_job("default/pi")
    assert [a[2] for a in client.of("delete")] == ["pi-a"]
    statuses = client.statuses()
    assert [c["type"] for c in statuses[0]["conditions"]] == ["FailureTarget"]
    assert statuses[-1]["terminating"] == 1 and statuses[-1]["uncountedTerminatedPods"] == {}
    assert statuses[-1]["failed"] == 1  # the killed pod counts as failed
    assert "Failed" not in [c["type"] for c in statuses[-1]["conditions"]]  # a pod is still terminating
    assert recorder.events == [("Normal", "SuccessfulDelete", "Deleted pod: pi-a")]
    # Once it is gone, the next pass declares the Job Failed.
    job2 = copy.deepcopy(job)
    job2["status"] = statuses[-1]
    controller2, client2, recorder2, _ = make_controller([job2], [], now=14)
    await controller2.sync_job("default/pi")
    final = client2.statuses()[-1]
    assert [(c["type"], c.get("reason")) for c in final["conditions"]] == [
        ("FailureTarget", "DeadlineExceeded"), ("Failed", "DeadlineExceeded"),
    ]
    assert recorder2.events == [("Warning", "DeadlineExceeded", "Job was active longer than specified deadline")]


async def test_before_the_deadline_the_job_looks_again_at_it() -> None:
    job = make_job(activeDeadlineSeconds=30, status={"startTime": ts(0), "active": 1})
    controller, _, _, _ = make_controller([job], [make_pod(job, "pi-a")], now=12)
    assert await controller.sync_job("default/pi") == pytest.approx(18.0)


async def test_suspend_removes_finalizers_then_deletes_and_sets_the_condition() -> None:
    job = make_job(completions=2, parallelism=2, suspend=True, status={"startTime": ts(0), "active": 2})
    pods = [make_pod(job, "pi-a", ready=True), make_pod(job, "pi-b")]
    controller, client, recorder, _ = make_controller([job], pods, now=5)
    await controller.sync_job("default/pi")
    for name in ("pi-a", "pi-b"):
        order = [a[0] for a in client.actions if a[0] in ("patch", "delete") and a[2] == name]
        assert order == ["patch", "delete"]
    (status,) = client.statuses()
    assert status["conditions"][0] | {"lastProbeTime": None, "lastTransitionTime": None} == {
        "type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended",
        "lastProbeTime": None, "lastTransitionTime": None,
    }
    assert "active" not in status and status["terminating"] == 2 and "failed" not in status
    assert "Suspended" in recorder.reasons()


async def test_resuming_resets_start_time() -> None:
    job = make_job(status={"startTime": ts(0), "conditions": [
        {"type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}]})
    controller, client, recorder, _ = make_controller([job], [], now=100)
    await controller.sync_job("default/pi")
    status = client.statuses()[-1]
    assert status["startTime"] == ts(100)
    assert status["conditions"][0]["status"] == "False" and status["conditions"][0]["reason"] == "JobResumed"
    assert ("Normal", "Resumed", "Job resumed") in recorder.events


async def test_complete_writes_success_criteria_then_complete_with_completion_time() -> None:
    job = make_job(completions=1, status={"startTime": ts(0), "active": 1})
    controller, client, recorder, _ = make_controller([job], [make_pod(job, "pi-a", "Succeeded", finished=5)], now=7)
    await controller.sync_job("default/pi")
    last = client.statuses()[-1]
    assert [(c["type"], c.get("reason"), c.get("message")) for c in last["conditions"]] == [
        ("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
        ("Complete", "CompletionsReached", "Reached expected number of succeeded pods"),
    ]
    assert last["completionTime"] == ts(7) and last["succeeded"] == 1
    assert recorder.events == [("Normal", "Completed", "Job completed")]


async def test_pod_failure_policy_fail_job_and_ignore() -> None:
    policy = {"rules": [
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [7]}},
    ]}
    job = make_job(completions=2, parallelism=2, podFailurePolicy=policy, podReplacementPolicy="Failed",
                   status={"startTime": ts(0)})
    ignored = make_pod(job, "pi-a", "Failed", finished=1, exit_code=7)
    controller, client, _, _ = make_controller([job], [ignored], now=2)
    requeue = await controller.sync_job("default/pi")
    last = client.statuses()[-1]
    assert "failed" not in last and "conditions" not in last  # an ignored failure does not count
    assert client.of("patch")[0][2] == "pi-a"  # but its finalizer goes
    # The pod-failure backoff still applies to it, as in Kubernetes.
    assert client.of("create") == [] and requeue == pytest.approx(9.0)

    fatal = make_pod(job, "pi-b", "Failed", finished=1, exit_code=42)
    controller, client, recorder, _ = make_controller([job], [fatal], now=2)
    await controller.sync_job("default/pi")
    last = client.statuses()[-1]
    message = "Container c for pod default/pi-b failed with exit code 42 matching FailJob rule at index 0"
    assert [(c["type"], c["reason"], c["message"]) for c in last["conditions"]] == [
        ("FailureTarget", "PodFailurePolicy", message), ("Failed", "PodFailurePolicy", message),
    ]
    assert recorder.events == [("Warning", "PodFailurePolicy", message)]


async def test_success_policy_completes_an_indexed_job_early() -> None:
    job = make_job(completions=4, parallelism=4, completionMode="Indexed",
                   successPolicy={"rules": [{"succeededIndexes": "0", "succeededCount": 1}]},
                   status={"startTime": ts(0), "active": 4})
    pods = [make_pod(job, "pi-0", "Succeeded", finished=3, index=0)] + [make_pod(job, f"pi-{i}", index=i) for i in (1, 2, 3)]
    controller, client, recorder, _ = make_controller([job], pods, now=4)
    await controller.sync_job("default/pi")
    assert sorted(a[2] for a in client.of("delete")) == ["pi-1", "pi-2", "pi-3"]
    status = client.statuses()[-1]
    assert status["completedIndexes"] == "0"
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [("SuccessCriteriaMet", "SuccessPolicy")]
    assert "failed" not in status  # pods stopped for success do not count as failures
    assert "Completed" not in recorder.reasons()  # not before the stopped pods are gone


async def test_finished_jobs_and_other_controllers_jobs_are_left_alone() -> None:
    done = make_job(status={"conditions": [{"type": "Complete", "status": "True"}]})
    controller, client, _, _ = make_controller([done], [])
    assert await controller.sync_job("default/pi") is None
    external = make_job(managedBy="example.com/other")
    controller, client2, _, _ = make_controller([external], [])
    await controller.sync_job("default/pi")
    assert client.actions == [] and client2.actions == []


async def test_orphan_pods_lose_the_tracking_finalizer() -> None:
    job = make_job()
    orphan = make_pod(job, "pi-a", "Succeeded")  # its Job is gone from the cache
    controller, client, _, _ = make_controller([], [orphan])
    await controller.reconcile("orphan-pod:default/pi-a")
    assert client.of("patch") == [("patch", "pods", "pi-a", {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}})]
    # A pod of a running Job keeps it.
    controller, client, _, _ = make_controller([job], [orphan])
    await controller.reconcile("orphan-pod:default/pi-a")
    assert client.actions == []


async def test_matching_orphans_are_adopted_with_the_finalizer() -> None:
    job = make_job(completions=1)
    stray = make_pod(job, "stray", finalizer=False)
    stray["metadata"].pop("ownerReferences")
    controller, client, _, _ = make_controller([job], [stray], objects={"jobs/default/pi": job})
    await controller.sync_job("default/pi")
    (patch,) = client.of("patch")
    assert patch[2] == "stray"
    assert patch[3]["metadata"]["finalizers"] == [JOB_TRACKING_FINALIZER]
    assert patch[3]["metadata"]["ownerReferences"][0]["uid"] == "job-uid"
    assert client.of("create") == []  # the adopted pod is the one active pod


async def test_a_status_conflict_raises_so_the_pass_runs_again() -> None:
    job = make_job(completions=2, status={"startTime": ts(0)})
    controller, client, _, _ = make_controller([job], [make_pod(job, "pi-a", "Succeeded", finished=1)], now=2)
    client.fail["status"] = APIError(409, "Conflict", "the object has been modified")
    with pytest.raises(APIError):
        await controller.sync_job("default/pi")
    assert client.of("patch") == []  # no finalizer went before its uid was recorded


# ---------------------------------------------------------------------------------- TTL units


async def test_ttl_controller_waits_then_deletes_with_a_uid_precondition() -> None:
    job = make_job(ttlSecondsAfterFinished=30, status={"conditions": [
        {"type": "Complete", "status": "True", "lastTransitionTime": ts(10)}]})
    clock = VirtualClock(start=START + 20)
    client = FakeClient({"jobs/default/pi": job})
    controller = TTLAfterFinishedController(client, clock)  # type: ignore[arg-type]
    controller.jobs = FakeInformer([job])  # type: ignore[assignment]
    assert await controller.reconcile("default/pi") == pytest.approx(20.0)
    assert client.actions == []
    await clock.advance(20)
    assert await controller.reconcile("default/pi") is None
    assert client.of("delete") == [("delete", "jobs", "pi", {"propagation_policy": "Foreground", "preconditions": {"uid": "job-uid"}})]


# ---------------------------------------------------------------------------------- scenarios


@asynccontextmanager
async def running_cluster(*, ttl: bool = False) -> AsyncIterator[tuple[Cluster, VirtualClock]]:
    clock = VirtualClock()
    # This test runs the batch controllers itself: the manager must not run a second copy.
    async with Cluster(nodes=2, runtime="fake", backend="memory:", clock=clock, exclude_controllers=BATCH_CONTROLLERS) as cluster:
        with anyio.fail_after(30):
            await cluster.wait_ready()
        async with anyio.create_task_group() as tg:
            recorder = EventRecorder(cluster.client, "job-controller", clock=clock)
            await tg.start(recorder.run)
            await tg.start(JobController(cluster.client, clock, recorder).run)
            if ttl:
                await tg.start(TTLAfterFinishedController(cluster.client, clock, recorder).run)
            yield cluster, clock
            tg.cancel_scope.cancel()


def job_manifest(name: str, annotations: dict[str, str], restart_policy: str = "Never", **spec: Any) -> Object:
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {**spec, "template": {"metadata": {"annotations": annotations},
                                      "spec": {"restartPolicy": restart_policy, "containers": [{"name": "c", "image": "busybox"}]}}},
    }


def conditions(job: Object) -> dict[str, Object]:
    return {c["type"]: c for c in (job.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}


async def run_until(cluster: Cluster, clock: VirtualClock, done: Callable[[], Any], *, limit: float, step: float = 1.0,
                    each: Callable[[], Any] | None = None) -> float:
    """Advance the clock `step` at a time (settling in between) until `await done()` is true;
    returns the virtual seconds it took. Fails after `limit` seconds."""
    elapsed = 0.0
    while elapsed < limit:
        await clock.advance(step)
        await cluster.settle()
        elapsed += step
        if each is not None:
            await each()
        if await done():
            return elapsed
    raise AssertionError(f"not done after {limit} virtual seconds")


async def job_events(cluster: Cluster, name: str) -> list[tuple[str, str, str]]:
    """The Job's events, an aggregated Event repeated `count` times."""
    events = (await cluster.client.list("events", namespace="default"))["items"]
    return [
        (e["type"], e["reason"], e["message"])
        for e in events if e["involvedObject"].get("kind") == "Job" and e["involvedObject"].get("name") == name
        for _ in range(int(e.get("count") or 1))
    ]


async def test_scenario_completions_six_parallelism_two() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("jobs", job_manifest("pi", {RUN_SECONDS: "5"}, completions=6, parallelism=2))
        most = 0

        async def count_running() -> None:
            nonlocal most
            pods = (await client.list("pods", namespace="default"))["items"]
            running = [p for p in pods if p["status"].get("phase") in ("Pending", "Running")]
            most = max(most, len(running))

        async def complete() -> bool:
            return "Complete" in conditions(await client.get("jobs", "pi"))

        await run_until(cluster, clock, complete, limit=60, each=count_running)
        job = await client.get("jobs", "pi")
        pods = (await client.list("pods", namespace="default"))["items"]
        # Never more than two at once, also between the samples: check the pods' own run times.
        spans = sorted(
            (cs["state"]["terminated"]["startedAt"], cs["state"]["terminated"]["finishedAt"])
            for p in pods for cs in p["status"]["containerStatuses"]
        )
        for start, _ in spans:
            assert sum(1 for s, f in spans if s <= start < f) <= 2
        assert most <= 2
        assert len(pods) == 6 and all(p["status"]["phase"] == "Succeeded" for p in pods)
        assert all(JOB_TRACKING_FINALIZER not in (p["metadata"].get("finalizers") or []) for p in pods)
        assert job["status"]["succeeded"] == 6 and not job["status"].get("failed")
        assert job["status"]["completionTime"] >= job["status"]["startTime"]
        assert set(conditions(job)) == {"SuccessCriteriaMet", "Complete"}
        events = await job_events(cluster, "pi")
        assert sum(1 for e in events if e[1] == "SuccessfulCreate") == 6
        assert ("Normal", "Completed", "Job completed") in events


async def test_scenario_failing_job_backs_off_then_exceeds_its_backoff_limit() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("jobs", job_manifest("fail", {EXIT_CODE: "1"}, backoffLimit=2))

        async def failed() -> bool:
            return "Failed" in conditions(await client.get("jobs", "fail"))

        took = await run_until(cluster, clock, failed, limit=120)
        job = await client.get("jobs", "fail")
        assert conditions(job)["Failed"]["reason"] == "BackoffLimitExceeded"
        assert conditions(job)["FailureTarget"]["reason"] == "BackoffLimitExceeded"
        assert job["status"]["failed"] == 3 and not job["status"].get("active")
        pods = (await client.list("pods", namespace="default"))["items"]
        created = sorted(p["metadata"]["creationTimestamp"] for p in pods)
        assert len(created) == 3
        gaps = [epoch(b) - epoch(a) for a, b in itertools.pairwise(created)]
        assert gaps[0] >= 10 and gaps[1] >= 20  # 10 s, then 20 s of backoff
        assert took >= 30
        assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") in await job_events(cluster, "fail")


def epoch(text: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(text).timestamp()


async def test_scenario_restart_policy_on_failure_counts_restarts() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("jobs", job_manifest("crash", {EXIT_CODE: "1"}, restart_policy="OnFailure", backoffLimit=2))

        async def failed() -> bool:
            return "Failed" in conditions(await client.get("jobs", "crash"))

        await run_until(cluster, clock, failed, limit=120)
        job = await client.get("jobs", "crash")
        assert conditions(job)["Failed"]["reason"] == "BackoffLimitExceeded"
        assert len((await client.list("pods", namespace="default"))["items"]) <= 1  # one pod, restarted in place


async def test_scenario_indexed_completion() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("jobs", job_manifest("idx", {RUN_SECONDS: "3"}, completions=4, parallelism=2, completionMode="Indexed"))

        async def complete() -> bool:
            return "Complete" in conditions(await client.get("jobs", "idx"))

        await run_until(cluster, clock, complete, limit=60)
        job = await client.get("jobs", "idx")
        assert job["status"]["completedIndexes"] == "0-3" and job["status"]["succeeded"] == 4
        pods = (await client.list("pods", namespace="default"))["items"]
        indexes = sorted(int(p["metadata"]["annotations"][JOB_COMPLETION_INDEX]) for p in pods)
        assert indexes == [0, 1, 2, 3]
        for pod in pods:
            index = pod["metadata"]["labels"][JOB_COMPLETION_INDEX]
            assert pod["spec"]["hostname"] == f"idx-{index}"
            assert pod["metadata"]["name"].startswith(f"idx-{index}-")


async def test_scenario_active_deadline_seconds() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("jobs", job_manifest("slow", {RUN_SECONDS: "600"}, activeDeadlineSeconds=10))

        async def failed() -> bool:
            return "Failed" in conditions(await client.get("jobs", "slow"))

        took = await run_until(cluster, clock, failed, limit=60)
        assert 10 <= took <= 15
        job = await client.get("jobs", "slow")
        assert conditions(job)["Failed"]["reason"] == "DeadlineExceeded"
        assert job["status"]["failed"] == 1
        running = [p for p in (await client.list("pods", namespace="default"))["items"] if p["status"].get("phase") == "Running"]
        assert running == []
        assert ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline") in await job_events(cluster, "slow")


async def test_scenario_suspend_and_resume() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("jobs", job_manifest("nap", {RUN_SECONDS: "20"}, completions=2, parallelism=2, suspend=True))
        await clock.advance(2)
        await cluster.settle()
        job = await client.get("jobs", "nap")
        assert conditions(job)["Suspended"]["reason"] == "JobSuspended"
        assert "startTime" not in job["status"]
        assert (await client.list("pods", namespace="default"))["items"] == []

        await client.patch("jobs", "nap", {"spec": {"suspend": False}})

        async def two_running() -> bool:
            pods = (await client.list("pods", namespace="default"))["items"]
            return sum(1 for p in pods if p["status"].get("phase") == "Running") == 2

        await run_until(cluster, clock, two_running, limit=10)
        # Suspending a running Job deletes its pods without counting them as failures.
        await client.patch("jobs", "nap", {"spec": {"suspend": True}})

        async def no_pods() -> bool:
            return (await client.list("pods", namespace="default"))["items"] == []

        await run_until(cluster, clock, no_pods, limit=10)
        await clock.advance(2)
        await cluster.settle()
        job = await client.get("jobs", "nap")
        assert "Suspended" in conditions(job) and not job["status"].get("failed") and not job["status"].get("active")

        await client.patch("jobs", "nap", {"spec": {"suspend": False}})

        async def complete() -> bool:
            return "Complete" in conditions(await client.get("jobs", "nap"))

        await run_until(cluster, clock, complete, limit=60)
        job = await client.get("jobs", "nap")
        assert job["status"]["succeeded"] == 2 and not job["status"].get("failed")
        reasons = [e[1] for e in await job_events(cluster, "nap")]
        assert reasons.count("Suspended") == 2 and reasons.count("Resumed") == 2


async def test_scenario_ttl_seconds_after_finished_deletes_the_job() -> None:
    async with running_cluster(ttl=True) as (cluster, clock):
        client = cluster.client
        await client.create("jobs", job_manifest("short", {RUN_SECONDS: "2"}, ttlSecondsAfterFinished=10))

        async def complete() -> bool:
            return "Complete" in conditions(await client.get("jobs", "short"))

        await run_until(cluster, clock, complete, limit=30)
        finished_at = epoch(conditions(await client.get("jobs", "short"))["Complete"]["lastTransitionTime"])
        await clock.advance(8)
        await cluster.settle()
        assert (await client.get("jobs", "short"))["metadata"]["name"] == "short"  # not before its time

        async def gone() -> bool:
            try:
                await client.get("jobs", "short")
            except APIError as exc:
                return exc.code == 404
            return False

        await run_until(cluster, clock, gone, limit=10)
        assert clock.time() >= finished_at + 10
