"""The Job controller and the TTL-after-finished controller, as Kubernetes' job and
ttlafterfinished controllers behave.

A Job runs pods from its template until `completions` of them succeed (NonIndexed), or until
each index 0..completions-1 has a succeeded pod (Indexed), never with more than `parallelism`
active pods and never more than the completions still missing. Pods are created with
generateName "<job>-" ("<job>-<index>-" when Indexed), the Job as their controller, the
template's labels (the API server put job-name / controller-uid and their batch.kubernetes.io/
forms there) and the finalizer batch.kubernetes.io/job-tracking. An Indexed pod also carries
the annotation and label batch.kubernetes.io/job-completion-index, hostname "<job>-<index>"
and env JOB_COMPLETION_INDEX (from that label).

Counting finished pods exactly once is Kubernetes' finalizer protocol: a finished pod keeps its
tracking finalizer (so it cannot vanish uncounted) until the controller has (1) written its uid
into status.uncountedTerminatedPods, then (2) removed the finalizer, then (3) moved the uid from
the uncounted lists into status.succeeded / status.failed. A crash between any two steps is
repaired by the next sync: a uid in the uncounted lists whose pod no longer has the finalizer
(or is gone) is counted, and one still holding it is not added twice. An Indexed Job counts
succeeded indexes (status.completedIndexes, "0-2,4") instead of uids. Status writes are
conditional on the cached resourceVersion, so a sync that read a stale Job fails with a
conflict and runs again instead of double counting.

reconcile(key), in order:

1. The Job is gone: forget its expectations and backoff; done. Managed by another controller
   (spec.managedBy), already Complete or Failed, or of an unknown completionMode: done.
2. Claim pods: the Job's own (controller uid index), plus matching orphans (adopted, with the
   tracking finalizer, after a fresh GET proves the Job alive); owned pods that no longer match
   are released.
3. Count: active (not finished, not being deleted), ready, terminating; succeeded / failed =
   status + newly finished pods with the finalizer + the uncounted lists.
4. Decide whether the Job is finishing: an existing SuccessCriteriaMet or FailureTarget
   condition; a FailJob rule of podFailurePolicy; failed > backoffLimit, or (restartPolicy
   OnFailure) container restarts >= backoffLimit: BackoffLimitExceeded; running for
   activeDeadlineSeconds since startTime: DeadlineExceeded (otherwise look again then); for
   Indexed Jobs, a met successPolicy rule.
5. Finishing: delete the active pods. Otherwise, when the expectations are met: suspended,
   delete the active pods (finalizer first, so they do not count as failures) and set
   Suspended=True; else create or delete pods towards the wanted count, waiting the pod-failure
   backoff (10 s doubling per failure since the last success, at most 10 min) before creating;
   a resumed Job gets Suspended=False and a new startTime. All succeeded: SuccessCriteriaMet
   (CompletionsReached).
6. Track: the finalizer protocol above, the interim condition (FailureTarget /
   SuccessCriteriaMet) written before finalizers go, and the final Failed / Complete (with
   completionTime) once nothing is uncounted and no pod is terminating; events Completed "Job
   completed" or Warning <reason> <message>.

Pod events requeue a Job after a one-second batching period (as Kubernetes does); Job events
at once. Pods holding the finalizer whose Job is gone or finished lose it through "orphan pod"
keys on the same queue.

TTLAfterFinishedController deletes a finished Job (Foreground propagation, uid precondition, as
Kubernetes' ttlafterfinished controller does) ttlSecondsAfterFinished after the time of its
Complete / Failed condition.
"""

from __future__ import annotations

import copy
import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio

from kube_lite.api.errors import APIError
from kube_lite.api.selectors import LabelSelector, SelectorError, from_label_selector
from kube_lite.client.client import Client
from kube_lite.client.events import NORMAL, WARNING, EventRecorder
from kube_lite.client.informer import NAMESPACE_INDEX, SharedInformerFactory, object_key, split_key
from kube_lite.client.workqueue import ItemExponentialFailureRateLimiter, WorkQueue
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller
from kube_lite.controllers.objects import meta as _meta
from kube_lite.controllers.objects import spec as _spec
from kube_lite.controllers.objects import status as _status
from kube_lite.controllers.objects import uid as _uid
from kube_lite.controllers.podcontrol import (
    CONTROLLER_UID_INDEX,
    FAILED_CREATE,
    NAMESPACE_TERMINATING_CAUSE,
    SUCCESSFUL_CREATE,
    ControllerRefManager,
    PodControl,
    UIDTrackingExpectations,
    controller_of,
    controller_ref,
    controller_uid_index,
    has_status_cause,
    is_pod_active,
    is_pod_ready,
    is_pod_terminating,
    orphan_index_key,
    parse_time,
    pod_from_template,
    rank_pods_for_deletion,
    slow_start_batch,
)

Object = dict[str, Any]

API_VERSION = "batch/v1"
KIND = "Job"

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"

NON_INDEXED = "NonIndexed"
INDEXED = "Indexed"

# Condition types and reasons (batch/v1).
COMPLETE = "Complete"
FAILED = "Failed"
SUSPENDED = "Suspended"
FAILURE_TARGET = "FailureTarget"
SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"
REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
REASON_SUCCESS_POLICY = "SuccessPolicy"
REASON_COMPLETIONS_REACHED = "CompletionsReached"
MSG_BACKOFF_LIMIT_EXCEEDED = "Job has reached the specified backoff limit"
MSG_DEADLINE_EXCEEDED = "Job was active longer than specified deadline"
MSG_COMPLETIONS_REACHED = "Reached expected number of succeeded pods"

# Kubernetes' figures.
SYNC_JOB_BATCH_PERIOD = 1.0
# The Job controller's own retry backoff for failed syncs (not the generic 5 ms..1000 s).
JOB_API_BACKOFF = 1.0
MAX_JOB_API_BACKOFF = 60.0
DEFAULT_POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 600.0
MAX_UNCOUNTED_PODS = 500
MAX_POD_CREATE_DELETE_PER_SYNC = 500
SLOW_START_INITIAL_BATCH_SIZE = 1
MAX_GENERATED_NAME_LENGTH = 58  # 63 minus the 5 random characters generateName appends

ORPHAN_KEY_PREFIX = "orphan-pod:"

_REMOVE_FINALIZER_PATCH: Object = {"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def format_time(epoch: float) -> str:
    """RFC 3339 at second precision, as metav1.Time serialises."""
    return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------- job predicates


def find_condition(job: Object, ctype: str) -> Object | None:
    for cond in _status(job).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def finished_condition(job: Object) -> Object | None:
    """The Complete or Failed condition that is True, if the Job has finished."""
    for cond in _status(job).get("conditions") or []:
        if cond.get("type") in (COMPLETE, FAILED) and cond.get("status") == "True":
            return cond
    return None


def is_job_finished(job: Object) -> bool:
    return finished_condition(job) is not None


def is_suspended(job: Object) -> bool:
    return bool(_spec(job).get("suspend"))


def is_indexed(job: Object) -> bool:
    return _spec(job).get("completionMode") == INDEXED


def managed_by_other(job: Object) -> str | None:
    """The external controller named by spec.managedBy, or None when it is ours."""
    managed_by = _spec(job).get("managedBy")
    return managed_by if managed_by and managed_by != JOB_CONTROLLER_NAME else None


def only_replace_failed_pods(job: Object) -> bool:
    """podReplacementPolicy Failed (the default with a podFailurePolicy): terminating pods are
    not replaced until they have failed."""
    spec = _spec(job)
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def new_condition(ctype: str, status: str, reason: str, message: str, now: str) -> Object:
    cond: Object = {"type": ctype, "status": status, "lastProbeTime": now, "lastTransitionTime": now}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def ensure_condition(conditions: list[Object], ctype: str, status: str, reason: str, message: str, now: str) -> bool:
    """Set condition `ctype` to (status, reason, message) in place, replacing it (with fresh
    times) if any of them differ; a missing condition is added unless `status` is "False".
    Returns whether the list changed."""
    for i, cond in enumerate(conditions):
        if cond.get("type") == ctype:
            if cond.get("status") != status or (cond.get("reason") or "") != reason or (cond.get("message") or "") != message:
                conditions[i] = new_condition(ctype, status, reason, message, now)
                return True
            return False
    if status != "False":
        conditions.append(new_condition(ctype, status, reason, message, now))
        return True
    return False


# ---------------------------------------------------------------------------------- pod predicates


def has_tracking_finalizer(pod: Object) -> bool:
    return JOB_TRACKING_FINALIZER in (_meta(pod).get("finalizers") or ())


def _phase(pod: Object) -> str:
    return _status(pod).get("phase") or ""


def completion_index(pod: Object) -> int:
    """The pod's completion index annotation, or -1 when absent or not a non-negative number."""
    raw = (_meta(pod).get("annotations") or {}).get(JOB_COMPLETION_INDEX)
    if raw is None or not str(raw).isdigit():
        return -1
    return int(raw)


def is_pod_failed(pod: Object, job: Object) -> bool:
    """Failed, or (unless only failed pods are replaced) being deleted before it succeeded:
    a deleted pod that never reaches Failed must still count."""
    if _phase(pod) == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    return bool(_meta(pod).get("deletionTimestamp")) and _phase(pod) != "Succeeded"


def pod_finished_time(pod: Object) -> float:
    """When a pod finished: its containers' latest finishedAt (all terminated), else when its
    Ready condition went False, else its deletionTimestamp, else its creation."""
    statuses = _status(pod).get("containerStatuses") or []
    latest: float | None = None
    for cs in statuses:
        terminated = (cs.get("state") or {}).get("terminated")
        if terminated is None:
            latest = None
            break
        t = parse_time(terminated.get("finishedAt"))
        if t is None:
            latest = None
            break
        latest = t if latest is None else max(latest, t)
    if latest is not None and statuses:
        return latest
    for cond in _status(pod).get("conditions") or []:
        if cond.get("type") == "Ready" and cond.get("status") == "False":
            t = parse_time(cond.get("lastTransitionTime"))
            if t is not None:
                return t
    t = parse_time(_meta(pod).get("deletionTimestamp"))
    if t is not None:
        return t
    return parse_time(_meta(pod).get("creationTimestamp")) or 0.0


def past_backoff_limit_on_failure(job: Object, pods: Iterable[Object]) -> bool:
    """restartPolicy OnFailure: container restarts of the running and pending pods reach
    backoffLimit (any restart at all when it is 0)."""
    if (_spec(_spec(job).get("template") or {})).get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        if _phase(pod) in ("Running", "Pending"):
            for key in ("initContainerStatuses", "containerStatuses"):
                restarts += sum(_int(cs.get("restartCount")) for cs in _status(pod).get(key) or [])
    limit = _int(_spec(job).get("backoffLimit"), 6)
    return restarts > 0 if limit == 0 else restarts >= limit


# ---------------------------------------------------------------------------------- pod failure / success policies


def _exit_code_matches(requirement: Object, code: int) -> bool:
    values = requirement.get("values") or []
    if requirement.get("operator") == "In":
        return code in values
    if requirement.get("operator") == "NotIn":
        return code not in values
    return False


def match_pod_failure_policy(policy: Object | None, pod: Object) -> tuple[str | None, bool, str | None]:
    """(FailJob message or None, whether the failure counts towards backoffLimit, the action
    of the first matching rule or None) for a failed pod. Exit code 0 never matches."""
    if not policy:
        return None, True, None
    namespace, name = _meta(pod).get("namespace"), _meta(pod).get("name")
    status = _status(pod)
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        matched: str | None = None
        on_exit = rule.get("onExitCodes")
        if on_exit:
            container = on_exit.get("containerName")
            for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
                terminated = (cs.get("state") or {}).get("terminated")
                if terminated is None or (container and cs.get("name") != container):
                    continue
                code = _int(terminated.get("exitCode"))
                if code != 0 and _exit_code_matches(on_exit, code):
                    matched = f"Container {cs.get('name')} for pod {namespace}/{name} failed with exit code {code} matching {action} rule at index {index}"
                    break
        for pattern in rule.get("onPodConditions") or []:
            if matched:
                break
            for cond in status.get("conditions") or []:
                if cond.get("type") == pattern.get("type") and cond.get("status") == (pattern.get("status") or "True"):
                    matched = f"Pod {namespace}/{name} has condition {cond.get('type')} matching {action} rule at index {index}"
                    break
        if matched is None:
            continue
        if action == "FailJob":
            return matched, True, action
        if action == "Ignore":
            return None, False, action
        return None, True, action  # Count, FailIndex
    return None, True, None


# ---------------------------------------------------------------------------------- index intervals


class OrderedIntervals:
    """A set of completion indexes as sorted, disjoint, non-adjacent [first, last] intervals,
    printed as Kubernetes prints completedIndexes: "0-2,4" ("1,2" for two neighbours)."""

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()) -> None:
        self.intervals: list[tuple[int, int]] = list(intervals)

    @classmethod
    def parse(cls, text: str | None, completions: int) -> OrderedIntervals:
        """The indexes below `completions` in an interval list; malformed entries are skipped."""
        intervals: list[tuple[int, int]] = []
        for part in (text or "").split(","):
            part = part.strip()
            first, dash, last = part.partition("-")
            if not first.isdigit() or (dash and not last.isdigit()):
                continue
            lo, hi = int(first), min(int(last) if last else int(first), completions - 1)
            if lo <= hi:
                intervals.append((lo, hi))
        return cls(_merge(intervals))

    def with_indexes(self, indexes: Iterable[int]) -> OrderedIntervals:
        """A new set with `indexes` added."""
        return OrderedIntervals(_merge([*self.intervals, *((i, i) for i in indexes)]))

    def total(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.intervals)

    def has(self, index: int) -> bool:
        return any(lo <= index <= hi for lo, hi in self.intervals)

    def count_within(self, other: OrderedIntervals) -> int:
        """How many of this set's indexes are in `other`."""
        count = 0
        for lo, hi in self.intervals:
            for olo, ohi in other.intervals:
                count += max(0, min(hi, ohi) - max(lo, olo) + 1)
        return count

    def __str__(self) -> str:
        parts = []
        for lo, hi in self.intervals:
            parts.append(str(lo) if hi == lo else f"{lo},{hi}" if hi == lo + 1 else f"{lo}-{hi}")
        return ",".join(parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OrderedIntervals) and self.intervals == other.intervals

    def __repr__(self) -> str:
        return f"OrderedIntervals({str(self)!r})"


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def match_success_policy(policy: Object | None, completions: int, succeeded: OrderedIntervals) -> str | None:
    """The SuccessCriteriaMet message when a successPolicy rule is met, else None."""
    if not policy or not succeeded.intervals:
        return None
    for index, rule in enumerate(policy.get("rules") or []):
        wanted_count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = OrderedIntervals.parse(rule["succeededIndexes"], completions)
            if not required.intervals:
                continue
            got = required.count_within(succeeded)
            if (wanted_count is None and got == required.total()) or (wanted_count is not None and got >= wanted_count):
                return f"Matched rules at index {index}"
        elif wanted_count is not None and succeeded.total() >= wanted_count:
            return f"Matched rules at index {index}"
    return None


# ---------------------------------------------------------------------------------- pod failure backoff


@dataclass
class BackoffRecord:
    """Pod failures since the last success, and when the last of them finished."""

    key: str
    failures_after_last_success: int = 0
    last_failure_time: float | None = None

    def remaining(self, now: float, base: float = DEFAULT_POD_FAILURE_BACKOFF, cap: float = MAX_POD_FAILURE_BACKOFF) -> float:
        """Seconds still to wait before creating a pod: base * 2**(failures-1), capped, counted
        from the last failure; 0 when there is no failure to wait for."""
        if self.failures_after_last_success == 0 or self.last_failure_time is None:
            return 0.0
        delay = base
        for _ in range(1, self.failures_after_last_success):
            delay *= 2
            if delay >= cap:
                delay = cap
                break
        elapsed = now - self.last_failure_time
        return 0.0 if delay < elapsed else delay - elapsed


class BackoffStore:
    """The backoff records of the Jobs, kept in memory (as Kubernetes keeps them)."""

    def __init__(self) -> None:
        self._records: dict[str, BackoffRecord] = {}

    def new_record(self, key: str, new_succeeded: list[Object], new_failed: list[Object]) -> BackoffRecord:
        """The record after the newly finished pods (not stored until `update`): a success
        resets the count to the failures that finished after the last success."""
        old = self._records.get(key) or BackoffRecord(key)
        record = BackoffRecord(key, old.failures_after_last_success, old.last_failure_time)
        failed_times = sorted(pod_finished_time(p) for p in new_failed)
        if not new_succeeded:
            if failed_times:
                record.failures_after_last_success += len(failed_times)
                record.last_failure_time = failed_times[-1]
            return record
        last_success = max(pod_finished_time(p) for p in new_succeeded)
        record.failures_after_last_success = 0
        record.last_failure_time = None
        for t in reversed(failed_times):
            if t <= last_success:
                break
            if record.last_failure_time is None:
                record.last_failure_time = t
            record.failures_after_last_success += 1
        return record

    def get(self, key: str) -> BackoffRecord | None:
        return self._records.get(key)

    def update(self, record: BackoffRecord) -> None:
        self._records[record.key] = record

    def remove(self, key: str) -> None:
        self._records.pop(key, None)


# ---------------------------------------------------------------------------------- pod templates


def indexed_generate_name(job_name: str, index: int) -> str:
    """"<job>-<index>-", the job name cut so that the prefix fits a generated name."""
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > MAX_GENERATED_NAME_LENGTH:
        prefix = job_name[: MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
    return prefix


def pod_template_for(job: Object) -> Object:
    """The Job's pod template with the tracking finalizer, and for an Indexed Job the
    JOB_COMPLETION_INDEX env var (from the completion-index label) in every container."""
    template = copy.deepcopy(_spec(job).get("template") or {})
    meta = template.setdefault("metadata", {})
    finalizers = meta.setdefault("finalizers", [])
    if JOB_TRACKING_FINALIZER not in finalizers:
        finalizers.append(JOB_TRACKING_FINALIZER)
    if is_indexed(job):
        pod_spec = template.setdefault("spec", {})
        for key in ("initContainers", "containers"):
            for container in pod_spec.get(key) or []:
                env = container.setdefault("env", [])
                if not any(e.get("name") == COMPLETION_INDEX_ENV for e in env):
                    env.append({
                        "name": COMPLETION_INDEX_ENV,
                        "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{JOB_COMPLETION_INDEX}']"}},
                    })
    return template


def indexed_template(template: Object, job_name: str, index: int) -> Object:
    """A copy of `template` for completion index `index`: annotation and label, hostname."""
    out = copy.deepcopy(template)
    meta = out.setdefault("metadata", {})
    meta.setdefault("annotations", {})[JOB_COMPLETION_INDEX] = str(index)
    meta.setdefault("labels", {})[JOB_COMPLETION_INDEX] = str(index)
    out.setdefault("spec", {})["hostname"] = f"{job_name}-{index}"
    return out


def pods_to_remove_for_indexes(pods: list[Object], completions: int) -> tuple[list[Object], list[Object]]:
    """(pods to remove, pods kept) among the active pods of an Indexed Job: those without a
    valid index, and all but the most advanced pod of each repeated index."""
    remove: list[Object] = []
    keep: list[Object] = []
    by_index: dict[int, list[Object]] = {}
    for pod in pods:
        ix = completion_index(pod)
        if ix < 0 or ix >= completions:
            remove.append(pod)
        else:
            by_index.setdefault(ix, []).append(pod)
    for ix in sorted(by_index):
        group = by_index[ix]
        if len(group) == 1:
            keep.append(group[0])
        else:
            ranked = rank_pods_for_deletion(group)
            remove.extend(ranked[:-1])
            keep.append(ranked[-1])
    return remove, keep


# ---------------------------------------------------------------------------------- the controller


@dataclass
class _SyncContext:
    """What one sync of one Job computes and hands between its steps."""

    key: str
    job: Object  # a private copy; its status is rewritten by the sync
    pods: list[Object]
    active_pods: list[Object]
    ready: int
    terminating: int
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    expected_rm_finalizers: set[str]
    succeeded: int = 0
    failed: int = 0
    finished: Object | None = None  # the condition the Job is heading for
    prev_succeeded_indexes: OrderedIntervals = field(default_factory=OrderedIntervals)
    succeeded_indexes: OrderedIntervals = field(default_factory=OrderedIntervals)
    backoff: BackoffRecord | None = None
    requeue: list[float] = field(default_factory=list)
    # Events about a status change, recorded once the status write that makes it succeeded
    # (a pass that loses a conflict must not report the change twice).
    deferred_events: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def status(self) -> Object:
        return self.job["status"]

    @property
    def uncounted(self) -> Object:
        return self.job["status"]["uncountedTerminatedPods"]


class _FinalizerExpectations:
    """Per Job, the pod uids whose tracking-finalizer removal was sent and not yet seen."""

    def __init__(self) -> None:
        self._uids: dict[str, set[str]] = {}

    def expect(self, key: str, uids: Iterable[str]) -> None:
        self._uids.setdefault(key, set()).update(uids)

    def observed(self, key: str, uid: str) -> None:
        uids = self._uids.get(key)
        if uids is not None:
            uids.discard(uid)
            if not uids:
                del self._uids[key]

    def get(self, key: str) -> set[str]:
        return set(self._uids.get(key, ()))

    def delete(self, key: str) -> None:
        self._uids.pop(key, None)


class JobController(Controller):
    """Runs the pods of every Job; see the module doc."""

    name = "job"
    event_source = "job-controller"
    workers = 5  # kube-controller-manager's --concurrent-job-syncs

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        pod_failure_backoff: float = DEFAULT_POD_FAILURE_BACKOFF,
        max_pod_failure_backoff: float = MAX_POD_FAILURE_BACKOFF,
        batch_period: float = SYNC_JOB_BATCH_PERIOD,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.queue = WorkQueue(
            clock=self.clock, rate_limiter=ItemExponentialFailureRateLimiter(JOB_API_BACKOFF, MAX_JOB_API_BACKOFF), name="job",
        )
        self.pod_failure_backoff = pod_failure_backoff
        self.max_pod_failure_backoff = max_pod_failure_backoff
        self.batch_period = batch_period
        self.expectations = UIDTrackingExpectations(self.clock)
        self.finalizer_expectations = _FinalizerExpectations()
        self.backoff = BackoffStore()
        self.pod_control = PodControl(client, self.recorder)
        self.jobs = self.informer("jobs")
        self.pods = self.informer("pods")
        # The pod informer's controller-uid index, shared with the other pod controllers:
        # a Job's pods under its uid, orphans under orphan_index_key(namespace).
        self.pods.add_indexer(CONTROLLER_UID_INDEX, controller_uid_index)
        self.jobs.add_handler(self._on_job_add, self._on_job_update, self._on_job_delete)
        self.pods.add_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)

    # ------------------------------------------------------------------ queueing

    def _enqueue_batched(self, key: str) -> None:
        self.queue.add_after(key, self.batch_period)

    def _enqueue_orphan(self, pod: Object) -> None:
        self.enqueue(ORPHAN_KEY_PREFIX + object_key(pod))

    def _resolve(self, namespace: str, ref: Object) -> Object | None:
        """The cached Job a controller reference points at, or None."""
        if ref.get("kind") != KIND:
            return None
        job = self.jobs.get(f"{namespace}/{ref.get('name')}")
        if job is None or _uid(job) != ref.get("uid"):
            return None
        return job

    def _jobs_selecting(self, pod: Object) -> list[Object]:
        found = []
        for job in self.jobs.by_index(NAMESPACE_INDEX, _meta(pod).get("namespace") or ""):
            try:
                selector = from_label_selector(_spec(job).get("selector"))
            except SelectorError:
                continue
            if not selector.empty and selector.matches(_meta(pod).get("labels") or {}):
                found.append(job)
        return found

    # ------------------------------------------------------------------ job events

    def _on_job_add(self, job: Object) -> None:
        self.enqueue(object_key(job))

    def _on_job_update(self, old: Object, cur: Object) -> None:
        key = object_key(cur)
        if _uid(old) != _uid(cur):
            # Deleted and re-created between two looks: nothing of the old one may hold on.
            self._on_job_delete(old)
            self.expectations.delete(key)
            self.finalizer_expectations.delete(key)
            self.backoff.remove(key)
        if _meta(old).get("generation") == _meta(cur).get("generation"):
            self._enqueue_batched(key)
        else:
            self.enqueue(key)
        if is_job_finished(cur):
            # Normally every finalizer is gone before the Job is marked finished; a backup.
            self._cleanup_pod_finalizers(cur)
        start = parse_time(_status(cur).get("startTime"))
        deadline = _spec(cur).get("activeDeadlineSeconds")
        if start is not None and deadline is not None and deadline != _spec(old).get("activeDeadlineSeconds"):
            self.queue.add_after(key, float(deadline) - (self.clock.time() - start))

    def _on_job_delete(self, job: Object) -> None:
        self.enqueue(object_key(job))
        self._cleanup_pod_finalizers(job)

    def _cleanup_pod_finalizers(self, job: Object) -> None:
        for pod in self.pods.by_index(CONTROLLER_UID_INDEX, _uid(job)):
            if has_tracking_finalizer(pod):
                self._enqueue_orphan(pod)

    # ------------------------------------------------------------------ pod events

    def _on_pod_add(self, pod: Object) -> None:
        if _meta(pod).get("deletionTimestamp"):
            # Seen for the first time already being deleted (e.g. after a restart).
            self._on_pod_delete(pod, final=False)
            return
        ref = controller_of(pod)
        if ref is not None:
            job = self._resolve(_meta(pod).get("namespace") or "", ref)
            if job is None or is_job_finished(job):
                if has_tracking_finalizer(pod):
                    self._enqueue_orphan(pod)
                return
            key = object_key(job)
            self.expectations.creation_observed(key)
            self._enqueue_batched(key)
            return
        if has_tracking_finalizer(pod):
            self._enqueue_orphan(pod)
        for job in self._jobs_selecting(pod):
            self._enqueue_batched(object_key(job))

    def _on_pod_update(self, old: Object, cur: Object) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        if _meta(cur).get("deletionTimestamp"):
            # Graceful deletion starts with an update: act on it at once, not when it is gone.
            self._on_pod_delete(cur, final=False)
            return
        namespace = _meta(cur).get("namespace") or ""
        finalizer_removed = not has_tracking_finalizer(cur)
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            previous = self._resolve(namespace, old_ref)
            if previous is not None:
                if finalizer_removed:
                    self.finalizer_expectations.observed(object_key(previous), _uid(cur))
                self._enqueue_batched(object_key(previous))
        if cur_ref is not None:
            job = self._resolve(namespace, cur_ref)
            if job is None or is_job_finished(job):
                if has_tracking_finalizer(cur):
                    self._enqueue_orphan(cur)
                if job is None:
                    return
            key = object_key(job)
            if finalizer_removed:
                self.finalizer_expectations.observed(key, _uid(cur))
            self._enqueue_batched(key)
            return
        if has_tracking_finalizer(cur):
            self._enqueue_orphan(cur)
        if ref_changed or (_meta(old).get("labels") or {}) != (_meta(cur).get("labels") or {}):
            for job in self._jobs_selecting(cur):
                self._enqueue_batched(object_key(job))

    def _on_pod_delete(self, pod: Object, final: bool = True) -> None:
        ref = controller_of(pod)
        finalizer = has_tracking_finalizer(pod)
        if ref is None:
            if finalizer:
                self._enqueue_orphan(pod)
            return
        job = self._resolve(_meta(pod).get("namespace") or "", ref)
        if job is None or is_job_finished(job):
            if finalizer:
                self._enqueue_orphan(pod)
            return
        key = object_key(job)
        self.expectations.pod_deletion_observed(key, object_key(pod))
        if final or not finalizer:
            self.finalizer_expectations.observed(key, _uid(pod))
        self._enqueue_batched(key)

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: str) -> float | None:
        if key.startswith(ORPHAN_KEY_PREFIX):
            await self._sync_orphan_pod(key.removeprefix(ORPHAN_KEY_PREFIX))
            return None
        try:
            return await self.sync_job(key)
        except APIError as exc:
            if exc.code != 409:
                raise
            # Our cache had not yet seen our own last write (or someone else's): nothing is
            # wrong, the pass runs again on fresh data.
            self.log.debug("job status conflict; syncing again", job=key)
            return JOB_API_BACKOFF

    async def _sync_orphan_pod(self, pod_key: str) -> None:
        """Remove the tracking finalizer of a pod no unfinished Job of ours controls."""
        pod = self.pods.get(pod_key)
        if pod is None or not has_tracking_finalizer(pod):
            return
        ref = controller_of(pod)
        if ref is not None:
            if ref.get("kind") != KIND or ref.get("apiVersion") != API_VERSION:
                return  # someone else's pod: their finalizer business
            job = self._resolve(_meta(pod).get("namespace") or "", ref)
            if job is not None and (managed_by_other(job) or not is_job_finished(job)):
                return  # adopted, or still in use
        namespace, name = split_key(pod_key)
        try:
            await self.pod_control.patch_pod(namespace or "", name, _REMOVE_FINALIZER_PATCH)
        except APIError as exc:
            if exc.code != 404:
                raise

    def _now(self) -> str:
        return format_time(self.clock.time())

    async def sync_job(self, key: str) -> float | None:
        """One pass over Job `key` (see the module doc). Returns when to look again (None:
        when something changes); raises to be retried with backoff."""
        shared = self.jobs.get(key)
        if shared is None:
            self.expectations.delete(key)
            self.finalizer_expectations.delete(key)
            self.backoff.remove(key)
            return None
        if managed_by_other(shared):
            return None
        if is_job_finished(shared):
            self.backoff.remove(key)
            return None
        mode = _spec(shared).get("completionMode") or NON_INDEXED
        if mode not in (NON_INDEXED, INDEXED):
            self._event(shared, WARNING, "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown")
            return None

        job = copy.deepcopy(shared)
        spec = _spec(job)
        status = job.setdefault("status", {})
        uncounted = status.get("uncountedTerminatedPods") or {}
        status["uncountedTerminatedPods"] = {
            "succeeded": list(uncounted.get("succeeded") or []),
            "failed": list(uncounted.get("failed") or []),
        }
        try:
            selector = from_label_selector(spec.get("selector"))
        except SelectorError as exc:
            # Only an edit of the Job can fix it, and the edit queues it again.
            self.log.error("invalid Job selector; not syncing", job=key, error=str(exc))
            return None
        # Expectations before pods: a pod arriving after this look defers the sync, not the count.
        satisfied = self.expectations.satisfied(key)
        pods = await self._claim_pods(job, selector)
        active_pods = [p for p in pods if is_pod_active(p)]
        ctx = _SyncContext(
            key=key, job=job, pods=pods, active_pods=active_pods,
            ready=sum(1 for p in active_pods if is_pod_ready(p)),
            terminating=sum(1 for p in pods if is_pod_terminating(p)),
            uncounted_succeeded=set(status["uncountedTerminatedPods"]["succeeded"]),
            uncounted_failed=set(status["uncountedTerminatedPods"]["failed"]),
            expected_rm_finalizers=self.finalizer_expectations.get(key),
        )
        active = len(active_pods)
        new_succeeded, new_failed = self._new_finished_pods(ctx)
        ctx.succeeded = _int(status.get("succeeded")) + len(new_succeeded) + len(ctx.uncounted_succeeded)
        counted_failures = [p for p in new_failed if match_pod_failure_policy(spec.get("podFailurePolicy"), p)[1]]
        ctx.failed = _int(status.get("failed")) + len(counted_failures) + len(ctx.uncounted_failed)
        if not status.get("startTime") and not is_suspended(job):
            status["startTime"] = self._now()
        ctx.backoff = self.backoff.new_record(key, new_succeeded, new_failed)

        self._decide_finish(ctx)
        if is_indexed(job):
            completions = _int(spec.get("completions"))
            ctx.prev_succeeded_indexes, ctx.succeeded_indexes = self._succeeded_indexes(job, pods, completions)
            ctx.succeeded = ctx.succeeded_indexes.total()
            if ctx.finished is None:
                message = match_success_policy(spec.get("successPolicy"), completions, ctx.succeeded_indexes)
                if message is not None:
                    ctx.finished = new_condition(SUCCESS_CRITERIA_MET, "True", REASON_SUCCESS_POLICY, message, self._now())

        manage_error: Exception | None = None
        suspend_changed = False
        if ctx.finished is not None:
            deleted, deleted_ready, manage_error = await self._delete_active_pods(job, active_pods)
            if deleted != active or not satisfied:
                # Pods not yet gone or not yet seen: the Job cannot be declared finished yet.
                ctx.finished = None
            active -= deleted
            ctx.terminating += deleted
            ctx.ready -= deleted_ready
        else:
            manage_called = False
            if satisfied and not _meta(job).get("deletionTimestamp"):
                active, manage_error = await self._manage_job(ctx)
                manage_called = True
            completions = spec.get("completions")
            if completions is None:
                # Without completions, the first success completes the Job once nothing runs.
                complete = ctx.succeeded > 0 and active == 0
            else:
                complete = ctx.succeeded >= _int(completions) and active == 0
            if complete:
                ctx.finished = new_condition(
                    SUCCESS_CRITERIA_MET, "True", REASON_COMPLETIONS_REACHED, MSG_COMPLETIONS_REACHED, self._now(),
                )
            elif manage_called:
                conditions = status.setdefault("conditions", [])
                if is_suspended(job):
                    if ensure_condition(conditions, SUSPENDED, "True", "JobSuspended", "Job suspended", self._now()):
                        suspend_changed = True
                        ctx.deferred_events.append((NORMAL, "Suspended", "Job suspended"))
                elif ensure_condition(conditions, SUSPENDED, "False", "JobResumed", "Job resumed", self._now()):
                    suspend_changed = True
                    ctx.deferred_events.append((NORMAL, "Resumed", "Job resumed"))
                    # activeDeadlineSeconds counts time continuously active: start again.
                    status["startTime"] = self._now()
                if not conditions:
                    del status["conditions"]

        needs_update = (
            suspend_changed
            or active != _int(status.get("active"))
            or status.get("ready") != ctx.ready
            or status.get("terminating") != ctx.terminating
        )
        status["active"] = active
        status["ready"] = ctx.ready
        status["terminating"] = ctx.terminating
        await self._track_status_and_remove_finalizers(ctx, needs_update)
        if manage_error is not None:
            raise manage_error
        return min(ctx.requeue) if ctx.requeue else None

    def _decide_finish(self, ctx: _SyncContext) -> None:
        """Step 4: set ctx.finished when the Job must end, or ask to look again at its deadline."""
        job = ctx.job
        spec = _spec(job)
        now = self._now()
        met = find_condition(job, SUCCESS_CRITERIA_MET)
        if met is not None and met.get("status") == "True":
            ctx.finished = copy.deepcopy(met)
            return
        target = find_condition(job, FAILURE_TARGET)
        if target is not None and target.get("status") == "True":
            ctx.finished = new_condition(FAILED, "True", target.get("reason") or "", target.get("message") or "", now)
            return
        if spec.get("podFailurePolicy"):
            for pod in ctx.pods:
                if is_pod_failed(pod, job):
                    message = match_pod_failure_policy(spec["podFailurePolicy"], pod)[0]
                    if message is not None:
                        ctx.finished = new_condition(FAILURE_TARGET, "True", REASON_POD_FAILURE_POLICY, message, now)
                        return
        if ctx.failed > _int(spec.get("backoffLimit"), 6) or past_backoff_limit_on_failure(job, ctx.pods):
            ctx.finished = new_condition(FAILURE_TARGET, "True", REASON_BACKOFF_LIMIT_EXCEEDED, MSG_BACKOFF_LIMIT_EXCEEDED, now)
            return
        deadline = spec.get("activeDeadlineSeconds")
        start = parse_time(_status(job).get("startTime"))
        if deadline is None or start is None or is_suspended(job):
            return
        remaining = float(deadline) - (self.clock.time() - start)
        if remaining <= 0:
            ctx.finished = new_condition(FAILURE_TARGET, "True", REASON_DEADLINE_EXCEEDED, MSG_DEADLINE_EXCEEDED, now)
        else:
            ctx.requeue.append(remaining)

    def _new_finished_pods(self, ctx: _SyncContext) -> tuple[list[Object], list[Object]]:
        """Finished pods not yet counted: they hold the finalizer, are in no uncounted list,
        have no finalizer removal in flight and (Indexed) a valid index."""
        succeeded: list[Object] = []
        failed: list[Object] = []
        completions = _int(_spec(ctx.job).get("completions"))
        for pod in ctx.pods:
            uid = _uid(pod)
            if not has_tracking_finalizer(pod) or uid in ctx.expected_rm_finalizers:
                continue
            if is_indexed(ctx.job) and not 0 <= completion_index(pod) < completions:
                continue
            if _phase(pod) == "Succeeded" and uid not in ctx.uncounted_succeeded:
                succeeded.append(pod)
            elif is_pod_failed(pod, ctx.job) and uid not in ctx.uncounted_failed:
                failed.append(pod)
        return succeeded, failed

    @staticmethod
    def _succeeded_indexes(job: Object, pods: list[Object], completions: int) -> tuple[OrderedIntervals, OrderedIntervals]:
        """(completedIndexes as recorded, plus the indexes of succeeded pods not yet counted)."""
        previous = OrderedIntervals.parse(_status(job).get("completedIndexes"), completions)
        new = sorted({
            completion_index(p) for p in pods
            if _phase(p) == "Succeeded" and 0 <= completion_index(p) < completions and has_tracking_finalizer(p)
        })
        return previous, previous.with_indexes(new)

    # ------------------------------------------------------------------ pods: claim

    async def _claim_pods(self, job: Object, selector: LabelSelector) -> list[Object]:
        """The pods of the Job after adopting matching orphans (adding the tracking finalizer)
        and releasing owned pods that no longer match (removing it), through the shared
        ControllerRefManager, as Kubernetes' job controller claims through its
        PodControllerRefManager. Raises the first failure, after trying every pod."""
        candidates = self.pods.by_index(CONTROLLER_UID_INDEX, _uid(job))
        if not selector.empty:
            # An empty selector would adopt every orphan of the namespace: it adopts none.
            candidates += self.pods.by_index(CONTROLLER_UID_INDEX, orphan_index_key(_meta(job).get("namespace") or ""))
        manager = ControllerRefManager(
            self.client, job, selector, api_version=API_VERSION, kind=KIND, owner_resource="jobs",
            finalizers=(JOB_TRACKING_FINALIZER,),
        )
        return await manager.claim(candidates)

    # ------------------------------------------------------------------ pods: create and delete

    async def _manage_job(self, ctx: _SyncContext) -> tuple[int, Exception | None]:
        """Create or delete pods towards the wanted number of active pods; returns (active
        pods now, the first failure or None)."""
        job, key = ctx.job, ctx.key
        spec = _spec(job)
        active = len(ctx.active_pods)
        parallelism = _int(spec.get("parallelism"), 1)
        if is_suspended(job):
            victims = rank_pods_for_deletion(ctx.active_pods)
            self.expectations.expect_pod_deletions(key, [object_key(p) for p in victims])
            removed, removed_ready, error = await self._delete_job_pods(key, job, victims)
            ctx.terminating += removed
            ctx.ready -= removed_ready
            return active - removed, error

        completions = spec.get("completions")
        if completions is None:
            # Without completions: parallelism pods until one succeeds, then let them finish.
            want = active if ctx.succeeded > 0 else parallelism
        else:
            want = max(0, min(_int(completions) - ctx.succeeded, parallelism))

        remove_at_least = max(active - want, 0)
        if is_indexed(job):
            victims, left = pods_to_remove_for_indexes(ctx.active_pods, _int(completions))
        else:
            victims, left = [], list(ctx.active_pods)
        if len(victims) < remove_at_least:
            victims += rank_pods_for_deletion(left)[: remove_at_least - len(victims)]
        victims = victims[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if victims:
            # Deletion and creation never happen in one pass; deletion goes first.
            self.expectations.expect_pod_deletions(key, [object_key(p) for p in victims])
            self.log.debug("too many pods running for job", job=key, deleting=len(victims), want=want)
            removed, removed_ready, error = await self._delete_job_pods(key, job, victims)
            ctx.terminating += removed
            ctx.ready -= removed_ready
            return active - removed, error

        terminating = ctx.terminating if only_replace_failed_pods(job) else 0
        diff = want - terminating - active
        if diff <= 0:
            return active, None
        assert ctx.backoff is not None
        wait = ctx.backoff.remaining(self.clock.time(), self.pod_failure_backoff, self.max_pod_failure_backoff)
        if wait > 0:
            ctx.requeue.append(max(wait, self.batch_period))
            return active, None
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        indexes: list[int] = []
        if is_indexed(job):
            indexes = self._first_pending_indexes(ctx, diff, _int(completions))
            diff = len(indexes)
            if diff == 0:
                return active, None

        self.expectations.expect_creations(key, diff)
        self.log.debug("too few pods running for job", job=key, need=want, creating=diff)
        template = pod_template_for(job)
        namespace = _meta(job).get("namespace") or ""
        job_name = _meta(job).get("name") or ""
        pending = list(indexes)

        async def create() -> None:
            if pending:
                index = pending.pop(0)
                await self._create_pod(namespace, indexed_template(template, job_name, index), job,
                                       indexed_generate_name(job_name, index))
            else:
                await self._create_pod(namespace, template, job, None)

        created, error = await slow_start_batch(diff, SLOW_START_INITIAL_BATCH_SIZE, create)
        if created < diff:
            # Failed and skipped creations will never be observed.
            self.expectations.lower_expectations(key, diff - created, 0)
        return active + created, error

    async def _create_pod(self, namespace: str, template: Object, job: Object, generate_name: str | None) -> None:
        """Create one pod of the Job; SuccessfulCreate / FailedCreate events as PodControl
        records them. A terminating namespace is not an error (nothing could be created)."""
        pod = pod_from_template(template, job, controller_ref(job, API_VERSION, KIND), namespace=namespace)
        if generate_name:
            pod["metadata"]["generateName"] = generate_name
        try:
            created = await self.client.create("pods", pod, namespace=namespace)
        except APIError as exc:
            if has_status_cause(exc, NAMESPACE_TERMINATING_CAUSE):
                return
            self._event(job, WARNING, FAILED_CREATE, f"Error creating: {exc.message}")
            raise
        self._event(job, NORMAL, SUCCESSFUL_CREATE, f"Created pod: {_meta(created).get('name')}")

    def _first_pending_indexes(self, ctx: _SyncContext, count: int, completions: int) -> list[int]:
        """The lowest `count` indexes with no succeeded pod and no active (or, when only failed
        pods are replaced, terminating) pod."""
        busy = {completion_index(p) for p in ctx.active_pods}
        if only_replace_failed_pods(ctx.job):
            busy |= {completion_index(p) for p in ctx.pods if is_pod_terminating(p)}
        taken = ctx.succeeded_indexes.with_indexes(sorted(i for i in busy if i >= 0))
        result: list[int] = []
        candidate = 0
        for lo, hi in taken.intervals:
            while candidate < min(lo, completions) and len(result) < count:
                result.append(candidate)
                candidate += 1
            candidate = max(candidate, hi + 1)
            if len(result) >= count:
                return result
        while candidate < completions and len(result) < count:
            result.append(candidate)
            candidate += 1
        return result

    async def _delete_job_pods(self, key: str, job: Object, pods: list[Object]) -> tuple[int, int, Exception | None]:
        """Remove the finalizer (so the pod is not counted as failed), then delete, each pod;
        returns (pods deleted, ready pods among them, the first failure)."""
        errors: list[Exception] = []
        counts = [0, 0]
        namespace = _meta(job).get("namespace") or ""

        async def remove(pod: Object) -> None:
            name = _meta(pod)["name"]
            try:
                if has_tracking_finalizer(pod):
                    await self.pod_control.patch_pod(namespace, name, _REMOVE_FINALIZER_PATCH)
                await self.pod_control.delete_pod(namespace, name, job)
            except Exception as exc:
                # Not going to be observed as deleted by us: stop waiting for it.
                self.expectations.pod_deletion_observed(key, object_key(pod))
                if not (isinstance(exc, APIError) and exc.code == 404):
                    errors.append(exc)
                    return
            counts[0] += 1
            if is_pod_ready(pod):
                counts[1] += 1

        async with anyio.create_task_group() as tg:
            for pod in pods:
                tg.start_soon(remove, pod)
        return counts[0], counts[1], errors[0] if errors else None

    async def _delete_active_pods(self, job: Object, pods: list[Object]) -> tuple[int, int, Exception | None]:
        """Delete the active pods of a finishing Job, keeping their finalizers (they are then
        counted as failed); returns (pods deleted, ready pods among them, the first failure)."""
        errors: list[Exception] = []
        counts = [0, 0]
        namespace = _meta(job).get("namespace") or ""

        async def remove(pod: Object) -> None:
            try:
                await self.pod_control.delete_pod(namespace, _meta(pod)["name"], job)
            except Exception as exc:
                if not (isinstance(exc, APIError) and exc.code == 404):
                    errors.append(exc)
                    return
            counts[0] += 1
            if is_pod_ready(pod):
                counts[1] += 1

        async with anyio.create_task_group() as tg:
            for pod in pods:
                tg.start_soon(remove, pod)
        return counts[0], counts[1], errors[0] if errors else None

    # ------------------------------------------------------------------ status: the finalizer protocol

    async def _track_status_and_remove_finalizers(self, ctx: _SyncContext, needs_flush: bool) -> None:
        """Step 6 of the module doc. Raises on a failed status write or finalizer removal."""
        job = ctx.job
        spec = _spec(job)
        indexed = is_indexed(job)
        completions = _int(spec.get("completions"))
        pods = sorted(ctx.pods, key=completion_index) if indexed else ctx.pods
        uids_with_finalizer = {
            _uid(p) for p in pods if has_tracking_finalizer(p) and _uid(p) not in ctx.expected_rm_finalizers
        }
        if _count_uncounted_without_finalizers(ctx.status, uids_with_finalizer):
            needs_flush = True
        to_remove: list[Object] = []
        new_indexes: list[int] = []
        reached_max = False
        finishing_failure = ctx.finished is not None and ctx.finished.get("type") != SUCCESS_CRITERIA_MET
        for pod in pods:
            uid = _uid(pod)
            if not has_tracking_finalizer(pod) or uid in ctx.expected_rm_finalizers:
                continue  # dealt with by an earlier sync
            failed = is_pod_failed(pod, job)
            if not (_meta(job).get("deletionTimestamp") or ctx.finished is not None or _phase(pod) == "Succeeded" or failed):
                continue  # still running: its finalizer stays
            to_remove.append(pod)
            if _phase(pod) == "Succeeded" and uid not in ctx.uncounted_failed:
                if indexed:
                    ix = completion_index(pod)
                    if 0 <= ix < completions and not ctx.prev_succeeded_indexes.has(ix):
                        new_indexes.append(ix)
                        needs_flush = True
                elif uid not in ctx.uncounted_succeeded:
                    ctx.uncounted["succeeded"].append(uid)
                    needs_flush = True
            elif failed or finishing_failure:
                # A Job failing counts every pod not finished as failed.
                ix = completion_index(pod)
                if uid not in ctx.uncounted_failed and (not indexed or 0 <= ix < completions):
                    if match_pod_failure_policy(spec.get("podFailurePolicy"), pod)[1]:
                        ctx.uncounted["failed"].append(uid)
                        needs_flush = True
            if len(new_indexes) + len(ctx.uncounted["succeeded"]) + len(ctx.uncounted["failed"]) >= MAX_UNCOUNTED_PODS:
                # Keep the status small and let other Jobs have a turn; events will bring us back.
                reached_max = True
                break
        if indexed:
            ctx.succeeded_indexes = ctx.succeeded_indexes.with_indexes(new_indexes)
            text = str(ctx.succeeded_indexes)
            if text != (ctx.status.get("completedIndexes") or ""):
                needs_flush = True
            ctx.status["succeeded"] = ctx.succeeded_indexes.total()
            ctx.status["completedIndexes"] = text
        now = self._now()
        if ctx.finished is not None and ctx.finished.get("type") == FAILURE_TARGET:
            # The reason is recorded before the finalizers (which let the pods go) are removed.
            ctx.status.setdefault("conditions", []).append(ctx.finished)
            needs_flush = True
            ctx.finished = new_condition(FAILED, "True", ctx.finished.get("reason") or "", ctx.finished.get("message") or "", now)
        if ctx.finished is not None and ctx.finished.get("type") == SUCCESS_CRITERIA_MET:
            if find_condition(job, SUCCESS_CRITERIA_MET) is None:
                ctx.status.setdefault("conditions", []).append(ctx.finished)
                needs_flush = True
            ctx.finished = new_condition(COMPLETE, "True", ctx.finished.get("reason") or "", ctx.finished.get("message") or "", now)

        needs_flush = await self._flush_and_remove_finalizers(ctx, to_remove, uids_with_finalizer, needs_flush)
        finished = not reached_max and self._enact_finished(ctx)
        if finished or needs_flush:
            await self._update_status(ctx)
            if finished:
                assert ctx.finished is not None
                if ctx.finished["type"] == COMPLETE:
                    succeeded = _int(ctx.status.get("succeeded"))
                    if spec.get("completions") is not None and succeeded > _int(spec.get("completions")):
                        self._event(job, WARNING, "TooManySucceededPods", "Too many succeeded pods running after completion count reached")
                    self._event(job, NORMAL, "Completed", "Job completed")
                else:
                    self._event(job, WARNING, ctx.finished.get("reason") or FAILED, ctx.finished.get("message") or "")

    async def _flush_and_remove_finalizers(
        self, ctx: _SyncContext, pods: list[Object], uids_with_finalizer: set[str], needs_flush: bool,
    ) -> bool:
        """Write the status (new uncounted uids, interim conditions), then remove the
        finalizers, then count the uids whose finalizer is gone. Returns whether the status
        still needs writing; raises a failed write or (after saving progress) removal."""
        if needs_flush:
            await self._update_status(ctx)
            if ctx.backoff is not None:
                self.backoff.update(ctx.backoff)
            needs_flush = False
        error: Exception | None = None
        if pods:
            removed, error = await self._remove_tracking_finalizers(ctx.key, pods)
            for pod, ok in zip(pods, removed, strict=True):
                if ok:
                    uids_with_finalizer.discard(_uid(pod))
        if _count_uncounted_without_finalizers(ctx.status, uids_with_finalizer):
            needs_flush = True
        if error is not None:
            if needs_flush:
                await self._update_status(ctx)
            raise error
        return needs_flush

    async def _remove_tracking_finalizers(self, key: str, pods: list[Object]) -> tuple[list[bool], Exception | None]:
        """Patch the finalizer out of each pod; [removed (or pod gone)] per pod, first error."""
        self.finalizer_expectations.expect(key, (_uid(p) for p in pods))
        done = [False] * len(pods)
        errors: list[Exception] = []

        async def remove(i: int, pod: Object) -> None:
            try:
                await self.pod_control.patch_pod(_meta(pod).get("namespace") or "", _meta(pod)["name"], _REMOVE_FINALIZER_PATCH)
            except APIError as exc:
                # No update will come for this one: stop expecting it.
                self.finalizer_expectations.observed(key, _uid(pod))
                if exc.code != 404:
                    errors.append(exc)
                    return
            except Exception as exc:
                self.finalizer_expectations.observed(key, _uid(pod))
                errors.append(exc)
                return
            done[i] = True

        async with anyio.create_task_group() as tg:
            for i, pod in enumerate(pods):
                tg.start_soon(remove, i, pod)
        return done, errors[0] if errors else None

    def _enact_finished(self, ctx: _SyncContext) -> bool:
        """Add the final Complete / Failed condition (and completionTime) once no pod is
        uncounted or terminating. Returns whether it did."""
        if ctx.finished is None:
            return False
        if ctx.uncounted["succeeded"] or ctx.uncounted["failed"]:
            return False
        if ctx.terminating > 0:
            return False
        cond = ctx.finished
        conditions = ctx.status.setdefault("conditions", [])
        ensure_condition(conditions, cond["type"], cond["status"], cond.get("reason") or "", cond.get("message") or "", self._now())
        if cond["type"] == COMPLETE:
            ctx.status["completionTime"] = find_condition(ctx.job, COMPLETE)["lastTransitionTime"]  # type: ignore[index]
        return True

    async def _update_status(self, ctx: _SyncContext) -> None:
        """Write the status, conditional on the resourceVersion this sync read (a conflict
        raises: the sync runs again on fresh data rather than count twice)."""
        body = copy.deepcopy(ctx.job)
        body["status"] = _wire_status(ctx.status)
        updated = await self.client.update_status("jobs", body)
        ctx.job["metadata"]["resourceVersion"] = _meta(updated).get("resourceVersion")
        for type_, reason, message in ctx.deferred_events:
            self._event(ctx.job, type_, reason, message)
        ctx.deferred_events.clear()


def _count_uncounted_without_finalizers(status: Object, uids_with_finalizer: set[str]) -> bool:
    """Move the uncounted uids whose pod no longer holds the finalizer into the counters.
    Returns whether anything moved."""
    changed = False
    uncounted = status["uncountedTerminatedPods"]
    for name in ("succeeded", "failed"):
        keep = [uid for uid in uncounted[name] if uid in uids_with_finalizer]
        if len(keep) != len(uncounted[name]):
            status[name] = _int(status.get(name)) + len(uncounted[name]) - len(keep)
            uncounted[name] = keep
            changed = True
    return changed


def _wire_status(status: Object) -> Object:
    """The status as Kubernetes serialises it: zero counters and empty strings omitted (ready
    and terminating are pointers: kept), uncountedTerminatedPods always present."""
    out = copy.deepcopy(status)
    for name in ("active", "succeeded", "failed"):
        if not out.get(name):
            out.pop(name, None)
    for name in ("completedIndexes", "failedIndexes"):
        if not out.get(name):
            out.pop(name, None)
    if not out.get("conditions"):
        out.pop("conditions", None)
    uncounted = out.get("uncountedTerminatedPods") or {}
    out["uncountedTerminatedPods"] = {k: list(v) for k, v in uncounted.items() if v}
    return out


# ---------------------------------------------------------------------------------- TTL after finished


def job_finish_time(job: Object) -> float | None:
    """When the Job finished: its Complete / Failed condition's lastTransitionTime."""
    cond = finished_condition(job)
    return None if cond is None else parse_time(cond.get("lastTransitionTime"))


def needs_ttl_cleanup(job: Object) -> bool:
    return _spec(job).get("ttlSecondsAfterFinished") is not None and is_job_finished(job)


class TTLAfterFinishedController(Controller):
    """Deletes finished Jobs ttlSecondsAfterFinished after they finished."""

    name = "ttl-after-finished"
    event_source = "ttl-after-finished-controller"
    workers = 5  # --concurrent-ttl-after-finished-syncs

    def __init__(
        self, client: Client, clock: Clock | None = None, recorder: EventRecorder | None = None, *,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.jobs = self.informer("jobs")
        self.jobs.add_handler(self._on_job, lambda old, new: self._on_job(new))

    def _on_job(self, job: Object) -> None:
        if not _meta(job).get("deletionTimestamp") and needs_ttl_cleanup(job):
            self.enqueue(object_key(job))

    def _expires_in(self, job: Object) -> float | None:
        """Seconds until the Job's TTL expires (<= 0: expired), or None if it has none (not
        finished, no TTL, being deleted). Raises ValueError when the finish time is unknown."""
        if _meta(job).get("deletionTimestamp") or not needs_ttl_cleanup(job):
            return None
        finished = job_finish_time(job)
        if finished is None:
            raise ValueError(f"unable to find the time when the Job {object_key(job)} finished")
        return finished + float(_spec(job)["ttlSecondsAfterFinished"]) - self.clock.time()

    async def reconcile(self, key: str) -> float | None:
        job = self.jobs.get(key)
        if job is None:
            return None
        remaining = self._expires_in(job)
        if remaining is None:
            return None
        if remaining > 0:
            return remaining
        namespace, name = split_key(key)
        # The cache may be stale (the TTL changed, or the Job was re-created): check afresh.
        try:
            fresh = await self.client.get("jobs", name, namespace=namespace)
        except APIError as exc:
            if exc.code == 404:
                return None
            raise
        remaining = self._expires_in(fresh)
        if remaining is None:
            return None
        if remaining > 0:
            return remaining
        self.log.info("cleaning up finished Job", job=key)
        try:
            await self.client.delete(
                "jobs", name, namespace=namespace, propagation_policy="Foreground", preconditions={"uid": _uid(fresh)},
            )
        except APIError as exc:
            if exc.code in (404, 409):
                return None
            raise
        return None


__all__ = [
    "JOB_COMPLETION_INDEX",
    "JOB_TRACKING_FINALIZER",
    "BackoffRecord",
    "BackoffStore",
    "JobController",
    "OrderedIntervals",
    "TTLAfterFinishedController",
    "completion_index",
    "ensure_condition",
    "is_job_finished",
    "match_pod_failure_policy",
    "match_success_policy",
    "past_backoff_limit_on_failure",
    "pod_finished_time",
]
