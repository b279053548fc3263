"""The CronJob controller.

Schedule arithmetic is tested as pure functions; reconcile units run the controller against
fake informers and a recording fake client; scenarios run it with the Job controller against
an in-process Cluster on a VirtualClock, one virtual minute at a time.
"""

from __future__ import annotations

import copy
import datetime as dt
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
from kube_lite.controllers.cronjob import (
    OWNER_INDEX,
    SCHEDULED_TIMESTAMP_ANNOTATION,
    CronJobController,
    EverySchedule,
    ScheduleError,
    _owner_index,
    job_from_template,
    job_name_for,
    most_recent_schedule_time,
    next_schedule_delay,
    parse_schedule,
    schedule_for,
)
from kube_lite.controllers.job import JobController
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
START = 1_767_225_600.0  # VirtualClock's default start: 2026-01-01T00:00:00Z (a Thursday)
UTC = dt.UTC


def at(minutes: float = 0, seconds: float = 0) -> dt.datetime:
    return dt.datetime.fromtimestamp(START + minutes * 60 + seconds, UTC)


def ts(minutes: float = 0, seconds: float = 0) -> str:
    return at(minutes, seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------- schedules


def test_five_fields_and_descriptors() -> None:
    start = at()
    assert parse_schedule("*/1 * * * *", UTC).next(start) == at(1)
    assert parse_schedule("*/15 * * * *", UTC).next(at(1)) == at(15)
    assert parse_schedule("@hourly", UTC).next(start) == at(60)
    assert parse_schedule("@daily", UTC).next(start) == at(24 * 60)
    assert parse_schedule("@midnight", UTC).next(start) == at(24 * 60)
    assert parse_schedule("@weekly", UTC).next(start) == dt.datetime(2026, 1, 4, tzinfo=UTC)  # Sunday
    assert parse_schedule("@monthly", UTC).next(start) == dt.datetime(2026, 2, 1, tzinfo=UTC)
    assert parse_schedule("@yearly", UTC).next(start) == dt.datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_schedule("@annually", UTC).next(start) == dt.datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_schedule("0 9 ? * MON-FRI", UTC).next(start) == dt.datetime(2026, 1, 1, 9, tzinfo=UTC)
    # Strictly after: a time that matches is not its own next.
    assert parse_schedule("*/1 * * * *", UTC).next(at(1)) == at(2)


def test_every_is_a_constant_delay_in_whole_seconds() -> None:
    every = parse_schedule("@every 1h30m", UTC)
    assert every == EverySchedule(5400)
    assert every.next(at(0, 0.7)) == at(90)
    assert parse_schedule("@every 100ms", UTC) == EverySchedule(1)


def test_unparseable_schedules_say_why_as_kubernetes_does() -> None:
    with pytest.raises(ScheduleError, match="expected exactly 5 fields, found 6"):
        parse_schedule("0 0 * * * *", UTC)
    with pytest.raises(ScheduleError, match="unrecognized descriptor: @fortnightly"):
        parse_schedule("@fortnightly", UTC)
    with pytest.raises(ScheduleError, match="above maximum"):
        parse_schedule("61 * * * *", UTC)
    with pytest.raises(ScheduleError, match="provided bad location Mars/Base"):
        parse_schedule("TZ=Mars/Base 0 * * * *", UTC)


def test_time_zones_from_the_field_and_from_a_tz_prefix() -> None:
    berlin = {"metadata": {}, "spec": {"schedule": "0 9 * * *", "timeZone": "Europe/Berlin"}}
    assert schedule_for(berlin, UTC).next(at()) == dt.datetime(2026, 1, 1, 8, tzinfo=UTC)  # 09:00 CET
    prefixed = parse_schedule("CRON_TZ=America/New_York 0 9 * * *", UTC)
    assert prefixed.next(at()) == dt.datetime(2026, 1, 1, 14, tzinfo=UTC)  # 09:00 EST
    # Without a zone, the controller's zone.
    assert schedule_for({"spec": {"schedule": "0 9 * * *"}}, dt.timezone(dt.timedelta(hours=2))).next(at()) == (
        dt.datetime(2026, 1, 1, 7, tzinfo=UTC)
    )


def cron_job(name: str = "hello", *, uid: str = "cj-uid", created: float = 0, status: Object | None = None, **spec: Any) -> Object:
    full = {
        "schedule": "*/1 * * * *", "concurrencyPolicy": "Allow", "suspend": False,
        "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
        "jobTemplate": {"metadata": {"labels": {"app": "hello"}, "annotations": {"team": "a"}},
                        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}},
        **spec,
    }
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "resourceVersion": "7", "creationTimestamp": ts(created)},
        "spec": full, "status": status or {},
    }


def test_most_recent_schedule_time_counts_missed_times() -> None:
    every_minute = parse_schedule("*/1 * * * *", UTC)
    cj = cron_job()
    assert most_recent_schedule_time(cj, at(0, 30), every_minute, True) == (at(), None, 0)
    assert most_recent_schedule_time(cj, at(1, 5), every_minute, True) == (at(), at(1), 1)
    _, recent, missed = most_recent_schedule_time(cj, at(5, 30), every_minute, True)
    assert recent == at(5) and missed == 5
    # From the last schedule time, not the creation.
    ran = cron_job(status={"lastScheduleTime": ts(4)})
    assert most_recent_schedule_time(ran, at(5, 30), every_minute, True)[1:] == (at(5), 1)
    # startingDeadlineSeconds bounds how far back to look (only when asked to).
    late = cron_job(startingDeadlineSeconds=90)
    earliest, recent, missed = most_recent_schedule_time(late, at(500, 30), every_minute, True)
    assert earliest == at(499) and recent == at(500) and missed == 1
    assert most_recent_schedule_time(late, at(500, 30), every_minute, False)[2] == 500
    # Irregular schedules still find the right time.
    weekdays = parse_schedule("30 6-16/4 * * 1-5", UTC)
    assert most_recent_schedule_time(cj, dt.datetime(2026, 1, 12, 12, tzinfo=UTC), weekdays, True)[1] == (
        dt.datetime(2026, 1, 12, 10, 30, tzinfo=UTC)
    )


def test_next_schedule_delay_pads_the_next_time() -> None:
    every_minute = parse_schedule("*/1 * * * *", UTC)
    assert next_schedule_delay(cron_job(), at(0, 20), every_minute) == pytest.approx(40.1)
    # With an unmet time pending (Forbid skipped it), the next one after it.
    assert next_schedule_delay(cron_job(), at(3, 20), every_minute) == pytest.approx(40.1)


def test_jobs_are_named_by_minute_and_carry_the_scheduled_time() -> None:
    cj = cron_job()
    assert job_name_for(cj, at(1)) == f"hello-{int(START) // 60 + 1}"
    job = job_from_template(cj, at(1))
    assert job["metadata"]["name"] == f"hello-{int(START) // 60 + 1}"
    assert job["metadata"]["annotations"] == {"team": "a", SCHEDULED_TIMESTAMP_ANNOTATION: "2026-01-01T00:01:00Z"}
    assert job["metadata"]["labels"] == {"app": "hello"}
    assert job["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "hello",
                                                   "uid": "cj-uid", "controller": True, "blockOwnerDeletion": True}]
    assert job["spec"] == cj["spec"]["jobTemplate"]["spec"]
    zoned = job_from_template(cron_job(timeZone="Asia/Kolkata"), at(1))
    assert zoned["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION] == "2026-01-01T05:31:00+05:30"


# ---------------------------------------------------------------------------------- fakes


class FakeInformer:
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
    def __init__(self, objects: dict[str, Object] | None = None) -> None:
        self.actions: list[tuple[Any, ...]] = []
        self.objects = objects or {}
        self.fail: dict[str, APIError] = {}
        self._seq = itertools.count(1)

    async def create(self, kind: str, obj: Object, *, namespace: str | None = None) -> Object:
        self.actions.append(("create", kind, copy.deepcopy(obj)))
        if "create" in self.fail:
            raise self.fail["create"]
        out = copy.deepcopy(obj)
        out["metadata"]["uid"] = f"uid-{out['metadata']['name']}"
        out["metadata"]["resourceVersion"] = str(100 + next(self._seq))
        return out

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Object:
        self.actions.append(("get", kind, name))
        obj = self.objects.get(f"{kind}/{namespace}/{name}")
        if obj is None:
            raise APIError(404, "NotFound", f'{kind} "{name}" not found')
        return copy.deepcopy(obj)

    async def delete(self, kind: str, name: str, *, namespace: str | None = None, **options: Any) -> Object:
        self.actions.append(("delete", kind, name, options))
        return {}

    async def update_status(self, kind: str, obj: Object) -> Object:
        self.actions.append(("status", kind, copy.deepcopy(obj)))
        if "status" in self.fail:
            raise self.fail["status"]
        return copy.deepcopy(obj)

    def of(self, verb: str) -> list[tuple[Any, ...]]:
        return [a for a in self.actions if a[0] == verb]


def owned_job(cj: Object, minute: int, *, finished: str | None = None, started: float | None = None,
              completed: float | None = None, manual: bool = False) -> Object:
    name = f"{cj['metadata']['name']}-manual-x" if manual else job_name_for(cj, at(minute))
    status: Object = {}
    if started is not None:
        status["startTime"] = ts(0, started)
    if finished:
        status["conditions"] = [{"type": finished, "status": "True"}]
    if completed is not None:
        status["completionTime"] = ts(0, completed)
    annotations = {"cronjob.kubernetes.io/instantiate": "manual"} if manual else {SCHEDULED_TIMESTAMP_ANNOTATION: ts(minute)}
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": "3",
                     "annotations": annotations,
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cj["metadata"]["name"],
                                          "uid": cj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": {}, "status": status,
    }


def ref(job: Object) -> Object:
    return {"kind": "Job", "apiVersion": "batch/v1", "namespace": "default", "name": job["metadata"]["name"], "uid": job["metadata"]["uid"]}


def make_controller(cron_jobs: list[Object], jobs: list[Object], *, now: float,
                    objects: dict[str, Object] | None = None) -> tuple[CronJobController, FakeClient, FakeRecorder]:
    clock = VirtualClock(start=START + now)
    client = FakeClient(objects)
    recorder = FakeRecorder()
    controller = CronJobController(client, clock, recorder, time_zone="UTC")  # type: ignore[arg-type]
    controller.cron_jobs = FakeInformer(cron_jobs)  # type: ignore[assignment]
    controller.jobs = FakeInformer(jobs, {OWNER_INDEX: _owner_index})  # type: ignore[assignment]
    return controller, client, recorder


# ---------------------------------------------------------------------------------- reconcile units


async def test_nothing_before_the_first_schedule_time_then_a_job_at_it() -> None:
    cj = cron_job()
    controller, client, _ = make_controller([cj], [], now=20)
    assert await controller.reconcile("default/hello") == pytest.approx(40.1)
    assert client.actions == []

    controller, client, recorder = make_controller([cj], [], now=60.1)
    assert await controller.reconcile("default/hello") == pytest.approx(60.0)
    (create,) = client.of("create")
    assert create[2]["metadata"]["name"] == job_name_for(cj, at(1))
    (status,) = client.of("status")
    assert status[2]["status"] == {
        "active": [{"kind": "Job", "namespace": "default", "name": job_name_for(cj, at(1)), "uid": f"uid-{job_name_for(cj, at(1))}",
                    "apiVersion": "batch/v1", "resourceVersion": "101"}],
        "lastScheduleTime": ts(1),
    }
    assert status[2]["metadata"]["resourceVersion"] == "7"  # conditional on what was read
    assert recorder.events == [("Normal", "SuccessfulCreate", f"Created job {job_name_for(cj, at(1))}")]


async def test_a_time_already_run_is_not_run_again() -> None:
    cj = cron_job(status={"lastScheduleTime": ts(1)})
    controller, client, _ = make_controller([cj], [owned_job(cj, 1, finished="Complete")], now=61)
    assert await controller.reconcile("default/hello") == pytest.approx(59.1)
    assert client.of("create") == []


async def test_forbid_skips_while_a_job_is_active() -> None:
    running = owned_job(cron_job(), 1)
    cj = cron_job(concurrencyPolicy="Forbid", status={"lastScheduleTime": ts(1), "active": [ref(running)]})
    controller, client, recorder = make_controller([cj], [running], now=120.1)
    assert await controller.reconcile("default/hello") == pytest.approx(60.0)
    assert client.of("create") == [] and client.of("delete") == []
    assert recorder.events == [("Normal", "JobAlreadyActive",
                                "Not starting job because prior execution is running and concurrency policy is Forbid")]


async def test_replace_deletes_the_active_job_then_creates() -> None:
    running = owned_job(cron_job(), 1)
    cj = cron_job(concurrencyPolicy="Replace", status={"lastScheduleTime": ts(1), "active": [ref(running)]})
    controller, client, recorder = make_controller(
        [cj], [running], now=120.1, objects={f"jobs/default/{running['metadata']['name']}": running},
    )
    await controller.reconcile("default/hello")
    verbs = [a[0] for a in client.actions if a[0] in ("delete", "create")]
    assert verbs == ["delete", "create"]
    assert client.of("delete")[0][2:] == (running["metadata"]["name"], {"propagation_policy": "Background"})
    status = client.of("status")[0][2]["status"]
    assert [r["name"] for r in status["active"]] == [job_name_for(cj, at(2))]
    assert recorder.reasons() == ["SuccessfulDelete", "SuccessfulCreate"]


async def test_finished_jobs_leave_active_and_set_last_successful_time() -> None:
    done = owned_job(cron_job(), 1, finished="Complete", started=60, completed=70)
    cj = cron_job(status={"lastScheduleTime": ts(1), "active": [ref(done)]})
    controller, client, recorder = make_controller([cj], [done], now=80)
    await controller.reconcile("default/hello")
    status = client.of("status")[0][2]["status"]
    assert "active" not in status
    assert recorder.events == [("Normal", "SawCompletedJob", f"Saw completed job: {done['metadata']['name']}, condition: Complete")]
    # The next pass (the Job is no longer listed) records when it succeeded.
    cj2 = cron_job(status={"lastScheduleTime": ts(1)})
    controller, client, _ = make_controller([cj2], [done], now=81)
    await controller.reconcile("default/hello")
    assert client.of("status")[0][2]["status"]["lastSuccessfulTime"] == ts(0, 70)


async def test_history_limits_delete_the_oldest_finished_jobs() -> None:
    base = cron_job()
    complete = [owned_job(base, m, finished="Complete", started=m * 60) for m in range(1, 6)]
    failed = [owned_job(base, m, finished="Failed", started=m * 60) for m in range(6, 8)]
    cj = cron_job(status={"lastScheduleTime": ts(7)})
    controller, client, recorder = make_controller([cj], complete + failed, now=7 * 60 + 30)
    await controller.reconcile("default/hello")
    deleted = [a[2] for a in client.of("delete")]
    assert deleted == [complete[0]["metadata"]["name"], complete[1]["metadata"]["name"], failed[0]["metadata"]["name"]]
    assert recorder.reasons().count("SuccessfulDelete") == 3


async def test_suspended_cron_jobs_run_nothing() -> None:
    cj = cron_job(suspend=True)
    controller, client, _ = make_controller([cj], [], now=600)
    assert await controller.reconcile("default/hello") is None
    assert client.actions == []


async def test_missing_the_starting_deadline_is_reported_not_run() -> None:
    cj = cron_job(schedule="0 * * * *", startingDeadlineSeconds=10)
    # The hourly run at 01:00 is 30 s late: past its 10 s deadline.
    controller, client, recorder = make_controller([cj], [], now=3630)
    await controller.reconcile("default/hello")
    assert client.of("create") == []
    # Nothing later than now - 10 s is unmet, so nothing is reported either.
    assert recorder.events == []
    cj = cron_job(schedule="0 * * * *", startingDeadlineSeconds=40)
    controller, client, recorder = make_controller([cj], [], now=3630)
    await controller.reconcile("default/hello")
    assert len(client.of("create")) == 1


async def test_too_many_missed_times_warn_and_run_the_latest() -> None:
    cj = cron_job()
    controller, client, recorder = make_controller([cj], [], now=200 * 60 + 5)
    await controller.reconcile("default/hello")
    assert ("Warning", "TooManyMissedTimes",
            "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew") in recorder.events
    (create,) = client.of("create")
    assert create[2]["metadata"]["name"] == job_name_for(cj, at(200))


async def test_a_vanished_active_job_is_dropped() -> None:
    gone = owned_job(cron_job(), 1)
    cj = cron_job(status={"lastScheduleTime": ts(1), "active": [ref(gone)]})
    controller, client, recorder = make_controller([cj], [], now=90)
    await controller.reconcile("default/hello")
    assert "active" not in client.of("status")[0][2]["status"]
    assert recorder.events == [("Normal", "MissingJob", f"Active job went missing: {gone['metadata']['name']}")]


async def test_a_manual_job_from_kubectl_is_reported_and_does_not_block_the_schedule() -> None:
    cj = cron_job(concurrencyPolicy="Forbid", status={"lastScheduleTime": ts(1)})
    manual = owned_job(cj, 0, manual=True)
    controller, client, recorder = make_controller([cj], [manual], now=120.1, objects={"cronjobs/default/hello": cj})
    await controller.reconcile("default/hello")
    assert ("Warning", "UnexpectedJob", "Saw a job that the controller did not create or forgot: hello-manual-x") in recorder.events
    assert [a[2]["metadata"]["name"] for a in client.of("create")] == [job_name_for(cj, at(2))]


async def test_our_own_job_already_existing_is_taken_as_created() -> None:
    cj = cron_job()
    existing = owned_job(cj, 1)
    controller, client, recorder = make_controller(
        [cj], [], now=61, objects={f"jobs/default/{existing['metadata']['name']}": existing},
    )
    client.fail["create"] = APIError(409, "AlreadyExists", "already exists")
    await controller.reconcile("default/hello")
    status = client.of("status")[0][2]["status"]
    assert [r["uid"] for r in status["active"]] == [existing["metadata"]["uid"]]
    assert status["lastScheduleTime"] == ts(1)
    assert "SuccessfulCreate" not in recorder.reasons()


async def test_bad_schedules_and_zones_are_reported_not_retried() -> None:
    cj = cron_job(schedule="@fortnightly")
    controller, _, recorder = make_controller([cj], [], now=60)
    assert await controller.reconcile("default/hello") is None
    assert recorder.events == [("Warning", "UnparseableSchedule", 'unparseable schedule: "@fortnightly" : unrecognized descriptor: @fortnightly')]
    cj = cron_job(timeZone="Mars/Base")
    controller, _, recorder = make_controller([cj], [], now=60)
    assert await controller.reconcile("default/hello") is None
    assert recorder.reasons() == ["UnknownTimeZone"]


async def test_a_status_conflict_retries_soon_and_reports_once() -> None:
    done = owned_job(cron_job(), 1, finished="Complete")
    cj = cron_job(status={"lastScheduleTime": ts(1), "active": [ref(done)]})
    controller, client, recorder = make_controller([cj], [done], now=70)
    client.fail["status"] = APIError(409, "Conflict", "the object has been modified")
    assert await controller.reconcile("default/hello") == pytest.approx(0.1)
    assert recorder.events == []  # what was seen is reported with the status that records it


# ---------------------------------------------------------------------------------- scenarios


@asynccontextmanager
async def running_cluster() -> AsyncIterator[tuple[Cluster, VirtualClock]]:
    clock = VirtualClock()
    # This test runs the batch controllers itself: the manager must not run a second copy.
    async with Cluster(nodes=2, runtime="fake", backend="memory:", clock=clock, exclude_controllers=BATCH_CONTROLLERS) as cluster:
        with anyio.fail_after(30):
            await cluster.wait_ready()
        async with anyio.create_task_group() as tg:
            recorder = EventRecorder(cluster.client, "cronjob-controller", clock=clock)
            await tg.start(recorder.run)
            await tg.start(JobController(cluster.client, clock, recorder).run)
            await tg.start(CronJobController(cluster.client, clock, recorder, time_zone="UTC").run)
            yield cluster, clock
            tg.cancel_scope.cancel()


def manifest(name: str, annotations: dict[str, str], **spec: Any) -> Object:
    return {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
        "spec": {"schedule": "*/1 * * * *", **spec, "jobTemplate": {"spec": {"backoffLimit": 0, "template": {
            "metadata": {"annotations": annotations},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}},
    }


def finished_type(job: Object) -> str | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond["type"] in ("Complete", "Failed") and cond["status"] == "True":
            return str(cond["type"])
    return None


async def minutes(cluster: Cluster, clock: VirtualClock, count: int, each: Callable[[], Any] | None = None) -> None:
    """Run `count` virtual minutes and 30 s more (the run of the last minute has time to
    start and, if short, finish), 5 s at a time, calling `each` after every step."""
    for _ in range(count * 12 + 6):
        await clock.advance(5)
        await cluster.settle()
        if each is not None:
            await each()


async def cron_events(cluster: Cluster, name: str) -> list[tuple[str, str]]:
    events = (await cluster.client.list("events", namespace="default"))["items"]
    return [
        (e["reason"], e["message"]) for e in events
        if e["involvedObject"].get("kind") == "CronJob" and e["involvedObject"].get("name") == name
        for _ in range(int(e.get("count") or 1))
    ]


async def test_scenario_a_job_each_minute_keeping_three_successful() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("cronjobs", manifest("tick", {"fake.kube-lite.dev/run-seconds": "5"}))
        names: set[str] = set()

        async def collect() -> None:
            names.update(j["metadata"]["name"] for j in (await client.list("jobs", namespace="default"))["items"])

        await minutes(cluster, clock, 5, collect)
        expected = {f"tick-{int(START) // 60 + m}" for m in range(1, 6)}
        assert names == expected
        jobs = (await client.list("jobs", namespace="default"))["items"]
        assert sorted(j["metadata"]["name"] for j in jobs) == sorted(expected)[-3:]
        assert all(finished_type(j) == "Complete" for j in jobs)
        for job in jobs:
            minute = int(job["metadata"]["name"].rsplit("-", 1)[1])
            assert job["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION] == (
                dt.datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
        cj = await client.get("cronjobs", "tick")
        assert cj["status"]["lastScheduleTime"] == ts(5)
        assert ts(5) < cj["status"]["lastSuccessfulTime"] < ts(5, 30)
        assert "active" not in cj["status"]
        reasons = [r for r, _ in await cron_events(cluster, "tick")]
        assert reasons.count("SuccessfulCreate") == 5 and reasons.count("SuccessfulDelete") == 2
        assert reasons.count("SawCompletedJob") == 5


async def test_scenario_forbid_never_runs_two_at_once() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("cronjobs", manifest("slow", {"fake.kube-lite.dev/run-seconds": "90"}, concurrencyPolicy="Forbid"))
        most = 0

        async def count_active() -> None:
            nonlocal most
            jobs = (await client.list("jobs", namespace="default"))["items"]
            most = max(most, sum(1 for j in jobs if finished_type(j) is None))
            cj = await client.get("cronjobs", "slow")
            assert len((cj.get("status") or {}).get("active") or []) <= 1

        await minutes(cluster, clock, 5, count_active)
        assert most == 1
        jobs = (await client.list("jobs", namespace="default"))["items"]
        assert 2 <= len(jobs) <= 3  # each run takes 90 s, so every other time is skipped
        assert any(r == "JobAlreadyActive" for r, _ in await cron_events(cluster, "slow"))


async def test_scenario_replace_deletes_the_running_job() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("cronjobs", manifest("swap", {"fake.kube-lite.dev/run-seconds": "90"}, concurrencyPolicy="Replace"))
        most = 0

        async def count_jobs() -> None:
            nonlocal most
            most = max(most, len((await client.list("jobs", namespace="default"))["items"]))

        await minutes(cluster, clock, 4, count_jobs)
        jobs = (await client.list("jobs", namespace="default"))["items"]
        assert [j["metadata"]["name"] for j in jobs] == [f"swap-{int(START) // 60 + 4}"]
        assert most == 1
        events = await cron_events(cluster, "swap")
        assert sorted(m for r, m in events if r == "SuccessfulDelete") == [f"Deleted job swap-{int(START) // 60 + m}" for m in (1, 2, 3)]


async def test_scenario_failed_jobs_history_limit() -> None:
    async with running_cluster() as (cluster, clock):
        client = cluster.client
        await client.create("cronjobs", manifest("oops", {"fake.kube-lite.dev/exit-code": "1"}, failedJobsHistoryLimit=1))
        await minutes(cluster, clock, 3)
        jobs = (await client.list("jobs", namespace="default"))["items"]
        assert [(j["metadata"]["name"], finished_type(j)) for j in jobs] == [(f"oops-{int(START) // 60 + 3}", "Failed")]
        assert "lastSuccessfulTime" not in (await client.get("cronjobs", "oops"))["status"]
