"""The CronJob controller: creates a Job from `spec.jobTemplate` at each time of `spec.schedule`,
as Kubernetes' cronjob controller (v2) does.

Schedules are robfig/cron's standard ones, as Kubernetes parses them: five fields (minute hour
day-of-month month day-of-week, with names and `?`), the descriptors @yearly / @annually,
@monthly, @weekly, @daily / @midnight, @hourly, and @every <Go duration>; evaluated with
croniter in `spec.timeZone` (an IANA zone), else a `TZ=` / `CRON_TZ=` prefix of the schedule,
else the controller's local zone. The Job for scheduled time T is named
"<cronjob>-<T in minutes since the epoch>", so that one time is never run twice, and carries the
annotation batch.kubernetes.io/cronjob-scheduled-timestamp and the CronJob as its controller.

reconcile(key), in order:

1. The CronJob is gone: done.
2. Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted, oldest
   (by startTime) first (SuccessfulDelete "Deleted job NAME").
3. status.active is reconciled with the owned Jobs: a finished Job leaves it (SawCompletedJob),
   an unfinished owned Job missing from it is reported (UnexpectedJob: `kubectl create job
   --from=cronjob/...` makes one), a listed Job that no longer exists leaves it (MissingJob);
   lastSuccessfulTime follows the latest completionTime of a Complete Job.
4. Being deleted, an invalid timeZone (UnknownTimeZone), suspend, an unparseable schedule
   (UnparseableSchedule): stop here (status still written).
5. The most recent unmet schedule time since lastScheduleTime (or creation), limited by
   startingDeadlineSeconds; more than 100 missed times: a TooManyMissedTimes warning. None:
   look again at the next one. Too late for startingDeadlineSeconds: MissSchedule.
   Already run (lastScheduleTime, or its Job listed active): look again at the next one.
6. concurrencyPolicy Forbid with a Job active: JobAlreadyActive, skip this time; Replace: delete
   the active Jobs first (background propagation).
7. Create the Job (SuccessfulCreate "Created job NAME"; AlreadyExists of our own Job is taken as
   created), add it to status.active, set lastScheduleTime; requeue at the next schedule time
   (+100 ms, as Kubernetes pads it).

The status is written once per pass, through the status subresource, conditional on the cached
resourceVersion (a conflict retries the pass).
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any, Protocol

from croniter import croniter

from kube_lite.api.errors import APIError
from kube_lite.api.validation import cron_schedule_error
from kube_lite.client.client import Client
from kube_lite.client.events import NORMAL, WARNING, EventRecorder
from kube_lite.client.informer import SharedInformerFactory, object_key
from kube_lite.clock import Clock
from kube_lite.controllers.base import Controller
from kube_lite.controllers.objects import meta as _meta
from kube_lite.controllers.objects import spec as _spec
from kube_lite.controllers.objects import status as _status
from kube_lite.controllers.objects import uid as _uid
from kube_lite.controllers.podcontrol import (
    NAMESPACE_TERMINATING_CAUSE,
    controller_of,
    controller_ref,
    has_status_cause,
    parse_time,
)

Object = dict[str, Any]

API_VERSION = "batch/v1"
KIND = "CronJob"
SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
# Kubernetes pads each requeue so that a clock a little behind does not wake it too early.
NEXT_SCHEDULE_DELTA = 0.1
# A status write that lost to our own previous one (the cache had not seen it yet): look again
# soon, without the log noise and backoff of a failure.
CONFLICT_RETRY = 0.1
TOO_MANY_MISSED = 100
OWNER_INDEX = "cronjob-owner"

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}






# ---------------------------------------------------------------------------------- schedules


class ScheduleError(ValueError):
    """A schedule that cannot be parsed or evaluated."""


class Schedule(Protocol):
    def next(self, after: _dt.datetime) -> _dt.datetime:
        """The first activation strictly after `after` (an aware datetime), in UTC."""
        ...


@dataclass(frozen=True)
class CronSchedule:
    """A five-field cron expression evaluated in `zone`."""

    expression: str
    zone: _dt.tzinfo

    def next(self, after: _dt.datetime) -> _dt.datetime:
        start = after.astimezone(self.zone)
        try:
            found = croniter(self.expression, start).get_next(_dt.datetime)
        except Exception as exc:  # croniter raises several types, e.g. for "31 2"
            raise ScheduleError(str(exc)) from exc
        return found.astimezone(_dt.UTC)


@dataclass(frozen=True)
class EverySchedule:
    """@every <duration>: a constant delay (whole seconds, at least one) after the previous
    activation, as robfig/cron's ConstantDelaySchedule."""

    seconds: int

    def next(self, after: _dt.datetime) -> _dt.datetime:
        whole = after.replace(microsecond=0)
        return (whole + _dt.timedelta(seconds=self.seconds)).astimezone(_dt.UTC)


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration ("1h30m", "90s", "1.5h"). Raises ScheduleError."""
    rest, total, sign = text, 0.0, 1.0
    if rest[:1] in "+-" and rest:
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise ScheduleError(f"time: invalid duration {text!r}")
    pos = 0
    while pos < len(rest):
        match = _GO_DURATION_PART.match(rest, pos)
        if match is None:
            raise ScheduleError(f"time: invalid duration {text!r}")
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def local_zone() -> _dt.tzinfo:
    """The zone a schedule without one runs in: the controller's local zone ($TZ, else
    /etc/localtime), UTC when neither can be read."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as fh:
            return zoneinfo.ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError):
        return _dt.UTC


def load_zone(name: str) -> _dt.tzinfo:
    """An IANA zone ("" and "UTC": UTC). Raises ScheduleError for an unknown one."""
    if name in ("", "UTC"):
        return _dt.UTC
    if name.lower() == "local":
        return local_zone()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name}") from exc


def parse_schedule(schedule: str, default_zone: _dt.tzinfo | None = None) -> Schedule:
    """A robfig/cron standard schedule (with an optional `TZ=zone ` / `CRON_TZ=zone ` prefix).
    Raises ScheduleError with the parser's message."""
    spec = schedule.strip()
    zone = default_zone if default_zone is not None else local_zone()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, spec = spec.partition(" ")
        try:
            zone = load_zone(head.split("=", 1)[1])
        except ScheduleError as exc:
            name = head.split("=", 1)[1]
            raise ScheduleError(f"provided bad location {name}: {exc}") from exc
        spec = spec.strip()
    if spec.startswith("@every "):
        seconds = parse_go_duration(spec[len("@every "):].strip())
        return EverySchedule(max(int(seconds), 1))
    problem = cron_schedule_error(spec)
    if problem is not None:
        raise ScheduleError(problem)
    return CronSchedule(_DESCRIPTORS.get(spec, spec), zone)


def schedule_for(cron_job: Object, default_zone: _dt.tzinfo | None = None) -> Schedule:
    """The CronJob's schedule in its spec.timeZone (which wins over the controller's zone)."""
    spec = _spec(cron_job)
    text = spec.get("schedule") or ""
    zone_name = spec.get("timeZone")
    if zone_name is not None and "TZ" not in text:
        return parse_schedule(text, load_zone(zone_name))
    return parse_schedule(text, default_zone)


def most_recent_schedule_time(
    cron_job: Object, now: _dt.datetime, schedule: Schedule, include_starting_deadline: bool,
) -> tuple[_dt.datetime, _dt.datetime | None, int]:
    """(the time unmet schedules are counted from, the most recent schedule time at or before
    `now` after it or None, how many were missed (an estimate past two)).

    Counting starts at lastScheduleTime, else the creation time, or (with
    `include_starting_deadline`) no earlier than now - startingDeadlineSeconds. Raises
    ScheduleError for schedules less than a second apart."""
    earliest = _parse_dt(_status(cron_job).get("lastScheduleTime")) or _parse_dt(_meta(cron_job).get("creationTimestamp")) or now
    deadline = _spec(cron_job).get("startingDeadlineSeconds")
    if include_starting_deadline and deadline is not None:
        floor = now - _dt.timedelta(seconds=int(deadline))
        if floor > earliest:
            earliest = floor
    t1 = schedule.next(earliest)
    if now < t1:
        return earliest, None, 0
    t2 = schedule.next(t1)
    if now < t2:
        return earliest, t1, 1
    interval = round((t2 - t1).total_seconds())
    if interval < 1:
        raise ScheduleError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // interval + 1
    # Jump close to now by whole intervals, then walk: exact for regular schedules, and
    # correct for irregular ones ("30 6-16/4 * * 1-5") since the walk starts early enough.
    t = schedule.next(t1 + _dt.timedelta(seconds=(missed - 2) * interval))
    most_recent: _dt.datetime | None = None
    while t <= now:
        most_recent = t
        t = schedule.next(t)
    return earliest, most_recent, missed


def next_schedule_delay(cron_job: Object, now: _dt.datetime, schedule: Schedule) -> float:
    """Seconds until the next schedule time after the most recent one (+100 ms)."""
    try:
        earliest, most_recent, _ = most_recent_schedule_time(cron_job, now, schedule, False)
        base = most_recent or earliest
    except ScheduleError:
        base = now
    return (schedule.next(base) - now).total_seconds() + NEXT_SCHEDULE_DELTA


def job_name_for(cron_job: Object, scheduled: _dt.datetime) -> str:
    """"<cronjob>-<scheduled time in minutes since the epoch>"."""
    return f"{_meta(cron_job).get('name')}-{int(scheduled.timestamp()) // 60}"


def _parse_dt(value: Any) -> _dt.datetime | None:
    t = parse_time(value)
    return None if t is None else _dt.datetime.fromtimestamp(t, _dt.UTC)


def format_time(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rfc3339_in(moment: _dt.datetime, zone: _dt.tzinfo) -> str:
    """RFC 3339 as Go prints it: "Z" for a zero offset, else ±hh:mm."""
    local = moment.astimezone(zone)
    offset = local.utcoffset() or _dt.timedelta(0)
    if offset == _dt.timedelta(0):
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = local.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text[:-2] + ":" + text[-2:]


def _rfc1123z(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def job_from_template(cron_job: Object, scheduled: _dt.datetime) -> Object:
    """The Job a CronJob runs for `scheduled`: the template's labels, annotations (plus the
    scheduled time, in spec.timeZone or UTC) and spec, the CronJob as controller."""
    template = _spec(cron_job).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    zone_name = _spec(cron_job).get("timeZone") or ""
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = _rfc3339_in(scheduled, load_zone(zone_name))
    meta: Object = {
        "name": job_name_for(cron_job, scheduled),
        "namespace": _meta(cron_job).get("namespace"),
        "annotations": annotations,
        "ownerReferences": [controller_ref(cron_job, API_VERSION, KIND)],
    }
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    return {"apiVersion": API_VERSION, "kind": "Job", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}


# ---------------------------------------------------------------------------------- job state


def job_finished_type(job: Object) -> str | None:
    """"Complete" or "Failed" when that condition is True, else None."""
    for cond in _status(job).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


def _job_ref(job: Object) -> Object:
    meta = _meta(job)
    ref = {
        "kind": "Job",
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": API_VERSION,
        "resourceVersion": meta.get("resourceVersion"),
    }
    return {k: v for k, v in ref.items() if v}


def _in_active(status: Object, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in status.get("active") or [])


def _remove_from_active(status: Object, uid: str) -> None:
    status["active"] = [ref for ref in status.get("active") or [] if ref.get("uid") != uid]


def _start_order(job: Object) -> tuple[int, float, str]:
    """Oldest startTime first; Jobs never started last; then by name."""
    start = parse_time(_status(job).get("startTime"))
    return (1, 0.0, _meta(job).get("name") or "") if start is None else (0, start, _meta(job).get("name") or "")


def _owner_index(job: Object) -> list[str]:
    ref = controller_of(job)
    if ref is None or ref.get("kind") != KIND:
        return []
    return [f"{_meta(job).get('namespace') or ''}/{ref.get('name')}"]


# ---------------------------------------------------------------------------------- the controller


class CronJobController(Controller):
    """Runs the Jobs of every CronJob; see the module doc."""

    name = "cronjob"
    event_source = "cronjob-controller"
    workers = 5  # --concurrent-cron-job-syncs

    def __init__(
        self,
        client: Client,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        *,
        time_zone: str | None = None,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        """`time_zone`: where schedules without spec.timeZone run (default: the local zone,
        as kube-controller-manager's)."""
        super().__init__(client, clock, recorder, informers=informers)
        self.default_zone = load_zone(time_zone) if time_zone is not None else local_zone()
        self.cron_jobs = self.informer("cronjobs")
        self.jobs = self.informer("jobs")
        self.jobs.add_indexer(OWNER_INDEX, _owner_index)
        self.cron_jobs.add_handler(self._on_cron_job_add, self._on_cron_job_update, self._on_cron_job_add)
        self.jobs.add_handler(self._on_job_add, self._on_job_update, self._on_job_delete)

    # ------------------------------------------------------------------ event handlers

    def _on_cron_job_add(self, cron_job: Object) -> None:
        self.enqueue(object_key(cron_job))

    def _on_cron_job_update(self, old: Object, cur: Object) -> None:
        key = object_key(cur)
        if _spec(old).get("schedule") != _spec(cur).get("schedule") or _spec(old).get("timeZone") != _spec(cur).get("timeZone"):
            # A new schedule: look again at its next time (warnings come from the sync).
            try:
                schedule = schedule_for(cur, self.default_zone)
            except ScheduleError as exc:
                self.log.info("unparseable schedule", cronjob=key, schedule=_spec(cur).get("schedule"), error=str(exc))
                return
            self.queue.add_after(key, next_schedule_delay(cur, self.clock.now(), schedule))
            return
        self.enqueue(key)

    def _resolve(self, namespace: str, ref: Object) -> Object | None:
        if ref.get("kind") != KIND:
            return None
        cron_job = self.cron_jobs.get(f"{namespace}/{ref.get('name')}")
        if cron_job is None or _uid(cron_job) != ref.get("uid"):
            return None
        return cron_job

    def _enqueue_owner(self, job: Object, ref: Object | None = None) -> None:
        ref = ref if ref is not None else controller_of(job)
        if ref is None:
            return
        cron_job = self._resolve(_meta(job).get("namespace") or "", ref)
        if cron_job is not None:
            self.enqueue(object_key(cron_job))

    def _on_job_add(self, job: Object) -> None:
        self._enqueue_owner(job)

    def _on_job_update(self, old: Object, cur: Object) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        old_ref, cur_ref = controller_of(old), controller_of(cur)
        if old_ref != cur_ref and old_ref is not None:
            self._enqueue_owner(old, old_ref)
        self._enqueue_owner(cur, cur_ref)

    def _on_job_delete(self, job: Object) -> None:
        self._enqueue_owner(job)

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: str) -> float | None:
        cron_job = self.cron_jobs.get(key)
        if cron_job is None:
            return None
        jobs = self.jobs.by_index(OWNER_INDEX, key)
        cj = copy.deepcopy(cron_job)
        cj.setdefault("status", {})
        # Events that report what was seen (not done) wait for the status that records it, so
        # that a pass retried after a conflict does not report them twice.
        seen: list[tuple[str, str, str]] = []
        changed = await self._cleanup_finished_jobs(cj, jobs)
        requeue, synced_change, error = await self._sync(cj, jobs, seen)
        if changed or synced_change:
            try:
                await self._update_status(cj)
            except APIError as exc:
                if exc.code != 409:
                    raise
                self.log.debug("cronjob status conflict; syncing again", cronjob=key)
                return CONFLICT_RETRY
        for type_, reason, message in seen:
            self._event(cj, type_, reason, message)
        if requeue is not None:
            return requeue
        if error is not None:
            raise error
        return None

    async def _update_status(self, cj: Object) -> None:
        body = copy.deepcopy(cj)
        status = body["status"]
        if not status.get("active"):
            status.pop("active", None)
        await self.client.update_status("cronjobs", body)

    async def _cleanup_finished_jobs(self, cj: Object, jobs: list[Object]) -> bool:
        """Step 2: delete the oldest finished Jobs beyond the history limits."""
        spec = _spec(cj)
        successful = [j for j in jobs if job_finished_type(j) == "Complete"]
        failed = [j for j in jobs if job_finished_type(j) == "Failed"]
        changed = False
        for finished, limit in ((successful, spec.get("successfulJobsHistoryLimit")), (failed, spec.get("failedJobsHistoryLimit"))):
            if limit is None or len(finished) <= int(limit):
                continue
            for job in sorted(finished, key=_start_order)[: len(finished) - int(limit)]:
                if await self._delete_job(cj, job):
                    changed = True
        return changed

    async def _delete_job(self, cj: Object, job: Object) -> bool:
        """Delete a Job (its pods in the background) and drop it from status.active."""
        meta = _meta(job)
        try:
            await self.client.delete("jobs", meta["name"], namespace=meta.get("namespace"), propagation_policy="Background")
        except APIError as exc:
            self._event(cj, WARNING, "FailedDelete", f"Deleted job: {exc.message}")
            self.log.warning("error deleting job from cronjob", job=object_key(job), error=exc.message)
            return False
        _remove_from_active(cj["status"], _uid(job))
        self._event(cj, NORMAL, "SuccessfulDelete", f"Deleted job {meta['name']}")
        return True

    async def _sync(
        self, cj: Object, jobs: list[Object], seen: list[tuple[str, str, str]],
    ) -> tuple[float | None, bool, Exception | None]:
        """Steps 3 to 7 on the private copy `cj`: (requeue after, status changed, error).
        Observation events are appended to `seen`; events about actions are recorded now."""
        status = cj["status"]
        namespace = _meta(cj).get("namespace") or ""
        name = _meta(cj).get("name") or ""
        now = self.clock.now()
        changed = False

        children: set[str] = set()
        refreshed = False
        pending = list(jobs)
        while pending:
            job = pending.pop(0)
            uid = _uid(job)
            children.add(uid)
            finished = job_finished_type(job)
            listed = _in_active(status, uid)
            if not listed and finished is None:
                fresh: Object | None = None
                if not refreshed:
                    try:
                        fresh = await self.client.get("cronjobs", name, namespace=namespace)
                    except APIError as exc:
                        return None, changed, exc
                if fresh is not None and _in_active(_status(fresh), uid):
                    # Our cache was behind our own last write: start this step again from the
                    # fresh object, forgetting what was concluded from the stale one.
                    refreshed = True
                    cj.clear()
                    cj.update(copy.deepcopy(fresh))
                    cj.setdefault("status", {})
                    status = cj["status"]
                    seen.clear()
                    changed = False
                    children.clear()
                    pending = list(jobs)
                    continue
                seen.append((WARNING, "UnexpectedJob", f"Saw a job that the controller did not create or forgot: {_meta(job).get('name')}"))
            elif listed and finished is not None:
                _remove_from_active(status, uid)
                seen.append((NORMAL, "SawCompletedJob", f"Saw completed job: {_meta(job).get('name')}, condition: {finished}"))
                changed = True
            elif finished == "Complete":
                completed = _status(job).get("completionTime")
                last = parse_time(status.get("lastSuccessfulTime"))
                done = parse_time(completed)
                if completed and (last is None or (done is not None and done > last)):
                    status["lastSuccessfulTime"] = completed
                    changed = True

        for ref in list(status.get("active") or []):
            if ref.get("uid") in children:
                continue
            # The cache may just be slow: ask the API before calling the Job missing.
            try:
                await self.client.get("jobs", ref.get("name") or "", namespace=ref.get("namespace") or namespace)
            except APIError as exc:
                if exc.code != 404:
                    return None, changed, exc
                seen.append((NORMAL, "MissingJob", f"Active job went missing: {ref.get('name')}"))
                _remove_from_active(status, ref.get("uid") or "")
                changed = True

        if _meta(cj).get("deletionTimestamp"):
            return None, changed, None
        spec = _spec(cj)
        zone_name = spec.get("timeZone")
        if zone_name is not None:
            try:
                load_zone(zone_name)
            except ScheduleError as exc:
                self._event(cj, WARNING, "UnknownTimeZone", f'invalid timeZone: "{zone_name}": {exc}')
                return None, changed, None
        if spec.get("suspend"):
            return None, changed, None
        text = spec.get("schedule") or ""
        if "TZ" in text:
            self._event(
                cj, WARNING, "UnsupportedSchedule",
                f'CRON_TZ or TZ used in schedule "{text}" is not officially supported, see '
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
            )
        try:
            schedule = schedule_for(cj, self.default_zone)
        except ScheduleError as exc:
            self._event(cj, WARNING, "UnparseableSchedule", f'unparseable schedule: "{text}" : {exc}')
            return None, changed, None

        try:
            _, scheduled, missed = most_recent_schedule_time(cj, now, schedule, True)
        except ScheduleError as exc:
            self._event(cj, WARNING, "InvalidSchedule", f"invalid schedule: {text} : {exc}")
            return None, changed, None
        if scheduled is not None and missed > TOO_MANY_MISSED:
            self._event(
                cj, WARNING, "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
            )
            self.log.info("too many missed times", cronjob=object_key(cj), missed=missed)
        if scheduled is None:
            return next_schedule_delay(cj, now, schedule), changed, None

        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + _dt.timedelta(seconds=int(deadline)) < now:
            self._event(cj, WARNING, "MissSchedule", f"Missed scheduled time to start a job: {_rfc1123z(scheduled)}")
            return next_schedule_delay(cj, now, schedule), changed, None
        job_name = job_name_for(cj, scheduled)
        if any(ref.get("name") == job_name for ref in status.get("active") or []) or (
            _parse_dt(status.get("lastScheduleTime")) == scheduled
        ):
            return next_schedule_delay(cj, now, schedule), changed, None
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and status.get("active"):
            # The cache may miss a Job just created, so Forbid is best-effort, as in Kubernetes.
            self._event(cj, NORMAL, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
            return next_schedule_delay(cj, now, schedule), changed, None
        if policy == "Replace":
            for ref in list(status.get("active") or []):
                try:
                    job = await self.client.get("jobs", ref.get("name") or "", namespace=ref.get("namespace") or namespace)
                except APIError as exc:
                    self._event(cj, WARNING, "FailedGet", f"Get job: {exc.message}")
                    return None, changed, exc
                if not await self._delete_job(cj, job):
                    return None, changed, RuntimeError(f"could not replace job {namespace}/{_meta(job).get('name')}")
                changed = True

        request = job_from_template(cj, scheduled)
        try:
            created = await self.client.create("jobs", request, namespace=namespace)
        except APIError as exc:
            if exc.reason == "AlreadyExists":
                # Created by us before the status write was lost, or by someone else.
                try:
                    created = await self.client.get("jobs", job_name, namespace=namespace)
                except APIError as get_exc:
                    return None, changed, get_exc
                ref = controller_of(created)
                if ref is None or ref.get("uid") != _uid(cj) or _in_active(status, _uid(created)):
                    return None, changed, None
            elif has_status_cause(exc, NAMESPACE_TERMINATING_CAUSE):
                return None, changed, exc
            else:
                self._event(cj, WARNING, "FailedCreate", f"Error creating job: {exc.message}")
                return None, changed, exc
        else:
            self._event(cj, NORMAL, "SuccessfulCreate", f"Created job {_meta(created).get('name')}")
        status.setdefault("active", []).append(_job_ref(created))
        status["lastScheduleTime"] = format_time(scheduled)
        return next_schedule_delay(cj, now, schedule), True, None


__all__ = [
    "SCHEDULED_TIMESTAMP_ANNOTATION",
    "CronJobController",
    "CronSchedule",
    "EverySchedule",
    "ScheduleError",
    "job_from_template",
    "job_name_for",
    "most_recent_schedule_time",
    "next_schedule_delay",
    "parse_schedule",
    "schedule_for",
]
