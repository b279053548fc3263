"""The Deployment controller.

Unit tests call `reconcile` directly on informer caches filled by hand, against a fake client
that records every write (and keeps the objects, so that a test can feed them back into the
caches and play a rollout step by step, standing in for the ReplicaSet controller). Scenario
tests run the controller with the ReplicaSet controller on an in-process Cluster (fake runtime,
virtual clock) and drive it the way kubectl does.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
import structlog

from kube_lite.api.errors import APIError
from kube_lite.api.patch import PatchError, json_patch
from kube_lite.client.informer import object_key
from kube_lite.clock import VirtualClock
from kube_lite.cluster import Cluster
from kube_lite.controllers import deploymentutil as du
from kube_lite.controllers.deployment import CONFLICT_RETRY, DeploymentController, replicaset_patch
from kube_lite.controllers.replicaset import ReplicaSetController
from tests.unit.controllers.fakes import FakeRecorder

Object = dict[str, Any]

pytestmark = pytest.mark.timeout(60)

KINDS = {"deployments": ("apps/v1", "Deployment"), "replicasets": ("apps/v1", "ReplicaSet"), "pods": ("v1", "Pod")}


@pytest.fixture(autouse=True)
def plain_exception_logs() -> Iterator[None]:
    """Plain-text tracebacks while these tests run: structlog's default renders each with rich
    and every frame's locals, and the components of a cluster log a few dozen (write conflicts
    of stale caches, bindings of pods deleted meanwhile), which costs seconds."""
    saved = structlog.get_config()
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.format_exc_info, structlog.dev.ConsoleRenderer(colors=False)]
    )
    try:
        yield
    finally:
        structlog.configure(**saved)


# ---------------------------------------------------------------------------------- fakes


class FakeClient:
    """Keeps objects by (resource, namespace, name), records writes as (verb, resource, name),
    and checks resourceVersions as the API server does."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.objects: dict[tuple[str, str, str], Object] = {}
        self.actions: list[tuple[str, str, str]] = []
        self._rv = itertools.count(100)
        self._uid = itertools.count(1)
        self.fail_create: APIError | None = None

    def _key(self, kind: str, namespace: str | None, name: str) -> tuple[str, str, str]:
        return (kind, namespace or "default", name)

    def put(self, kind: str, obj: Object) -> Object:
        """Store an object as the API server would have (uid, resourceVersion, ...)."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("namespace", "default")
        meta.setdefault("uid", f"uid-{next(self._uid)}")
        meta.setdefault("generation", 1)
        meta.setdefault("creationTimestamp", du.format_time(self.clock.now()))
        meta["resourceVersion"] = str(next(self._rv))
        obj["apiVersion"], obj["kind"] = KINDS[kind]
        self.objects[self._key(kind, meta["namespace"], meta["name"])] = obj
        return copy.deepcopy(obj)

    def stored(self, kind: str, name: str) -> Object:
        return self.objects[self._key(kind, "default", name)]

    def all(self, kind: str) -> list[Object]:
        return [o for (k, _, _), o in self.objects.items() if k == kind]

    def _existing(self, kind: str, namespace: str | None, name: str) -> Object:
        try:
            return self.objects[self._key(kind, namespace, name)]
        except KeyError:
            raise APIError(404, "NotFound", f'{kind} "{name}" not found') from None

    def _check_rv(self, old: Object, new: Object) -> None:
        rv = (new.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise APIError(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again")

    async def get(self, kind: str, name: str, *, namespace: str | None = None) -> Object:
        return copy.deepcopy(self._existing(kind, namespace, name))

    async def create(self, kind: str, obj: Object, *, namespace: str | None = None) -> Object:
        name = obj["metadata"]["name"]
        self.actions.append(("create", kind, name))
        if self.fail_create is not None:
            raise self.fail_create
        if self._key(kind, namespace, name) in self.objects:
            raise APIError(409, "AlreadyExists", f'{kind} "{name}" already exists')
        obj = copy.deepcopy(obj)
        obj.pop("status", None)
        return self.put(kind, obj)

    async def update(self, kind: str, obj: Object, *, namespace: str | None = None) -> Object:
        old = self._existing(kind, namespace, obj["metadata"]["name"])
        self.actions.append(("update", kind, obj["metadata"]["name"]))
        self._check_rv(old, obj)
        new = copy.deepcopy(obj)
        new["status"] = copy.deepcopy(old.get("status") or {})
        if new.get("spec") != old.get("spec"):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        return self.put(kind, new)

    async def update_status(self, kind: str, obj: Object, *, namespace: str | None = None) -> Object:
        old = self._existing(kind, namespace, obj["metadata"]["name"])
        self.actions.append(("update_status", kind, obj["metadata"]["name"]))
        self._check_rv(old, obj)
        new = copy.deepcopy(old)
        new["status"] = copy.deepcopy(obj.get("status") or {})
        for field in ("labels", "annotations"):
            if field in obj["metadata"]:
                new["metadata"][field] = copy.deepcopy(obj["metadata"][field])
        return self.put(kind, new)

    async def patch(self, kind: str, name: str, patch: Object, *, namespace: str | None = None,
                    patch_type: str = "merge") -> Object:
        old = self._existing(kind, namespace, name)
        self.actions.append(("patch", kind, name))
        if patch_type == "json":
            # Scaling and annotating a ReplicaSet: tests, then changes of metadata and spec.
            try:
                new = json_patch(old, patch)
            except PatchError as exc:
                raise APIError(422, "Invalid", "the server rejected our request due to an error in our request",
                               details={"causes": [{"reason": "UnexpectedServerResponse", "message": exc.message}]}) from None
            new["status"] = copy.deepcopy(old.get("status") or {})
            if new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            return self.put(kind, new)
        new = copy.deepcopy(old)
        refs = new["metadata"].setdefault("ownerReferences", [])
        for ref in patch["metadata"].get("ownerReferences", []):
            refs[:] = [r for r in refs if r.get("uid") != ref["uid"]]
            if ref.get("$patch") != "delete":
                refs.append(ref)
        return self.put(kind, new)

    async def delete(self, kind: str, name: str, *, namespace: str | None = None) -> Object:
        self.actions.append(("delete", kind, name))
        return self.objects.pop(self._key(kind, namespace, name))

    def writes(self, verb: str | None = None, kind: str | None = None) -> list[tuple[str, str, str]]:
        return [a for a in self.actions if (verb is None or a[0] == verb) and (kind is None or a[1] == kind)]


class Env:
    """A controller whose caches mirror a FakeClient's objects when `refresh()` is called."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.client = FakeClient(self.clock)
        self.recorder = FakeRecorder()
        self.controller = DeploymentController(self.client, self.clock, self.recorder)  # type: ignore[arg-type]
        self.enqueued: list[str] = []

    def add(self, kind: str, obj: Object) -> Object:
        stored = self.client.put(kind, obj)
        self.refresh()
        return stored

    def refresh(self) -> None:
        """Make every informer's cache what the fake API holds now."""
        for kind, informer in (("deployments", self.controller.deployments), ("replicasets", self.controller.replicasets),
                               ("pods", self.controller.pods)):
            fresh = {object_key(o): o for o in self.client.all(kind)}
            for key in list(informer.keys()):
                if key not in fresh:
                    informer._remove(key)
            for key, obj in fresh.items():
                informer._upsert(key, copy.deepcopy(obj))

    async def sync(self, name: str = "web") -> float | None:
        try:
            return await self.controller.reconcile(f"default/{name}")
        finally:
            self.refresh()

    def deployment(self, name: str = "web") -> Object:
        return self.client.stored("deployments", name)

    def rss(self) -> list[Object]:
        return du.by_creation(self.client.all("replicasets"))

    def rs_by_revision(self, revision: int) -> Object:
        [rs] = [rs for rs in self.rss() if du.revision(rs) == revision]
        return rs

    def run_replicasets(self, ready: Callable[[Object], int] | None = None) -> None:
        """Play the ReplicaSet controller: every ReplicaSet has its replicas, `ready(rs)` of
        them (all, by default) ready and available."""
        for rs in self.client.all("replicasets"):
            want = du.replicas(rs)
            up = want if ready is None else ready(rs)
            rs["status"] = {"replicas": want, "readyReplicas": up, "availableReplicas": up,
                            "observedGeneration": rs["metadata"].get("generation", 1)}
            rs["metadata"]["resourceVersion"] = str(next(self.client._rv))
        self.refresh()

    def edit(self, name: str, change: Callable[[Object], None]) -> None:
        """A user's write to the Deployment's spec (generation moves)."""
        d = self.client.stored("deployments", name)
        change(d)
        d["metadata"]["generation"] += 1
        d["metadata"]["resourceVersion"] = str(next(self.client._rv))
        self.refresh()


def template(image: str = "nginx:1.27", **annotations: str) -> Object:
    meta: Object = {"labels": {"app": "web"}}
    if annotations:
        meta["annotations"] = annotations
    return {"metadata": meta, "spec": {"containers": [{"name": "web", "image": image}]}}


def deployment(name: str = "web", replicas: int = 3, *, strategy: Object | None = None, image: str = "nginx:1.27",
               **spec: Any) -> Object:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(image),
            "strategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            **spec,
        },
    }


def cond(obj: Object, type_: str) -> Object | None:
    return du.get_condition(du.status(obj), type_)


async def converge(env: Env, steps: int = 30, check: Callable[[Env], None] | None = None) -> int:
    """Alternate controller syncs and ReplicaSet "controller" passes until two syncs in a row
    write nothing."""
    quiet = 0
    for step in range(steps):
        before = len(env.client.actions)
        await env.sync()
        if check is not None:
            check(env)
        env.run_replicasets()
        quiet = quiet + 1 if len(env.client.actions) == before else 0
        if quiet == 2:
            return step
    raise AssertionError(f"no convergence: {env.client.actions[-10:]}")


# ---------------------------------------------------------------------------------- helpers


def test_hash_is_stable_safe_and_moves_with_the_collision_count() -> None:
    a, b = template(), template()
    assert du.compute_hash(a) == du.compute_hash(b)
    assert du.compute_hash(a) != du.compute_hash(template("nginx:1.28"))
    assert du.compute_hash(a, 1) != du.compute_hash(a) != du.compute_hash(a, 2)
    assert set(du.compute_hash(a)) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert 1 <= len(du.compute_hash(a)) <= 10
    # Empty and absent are the same template (Go's semantic equality).
    c = template()
    c["spec"]["volumes"] = []
    c["metadata"]["annotations"] = {}
    assert du.compute_hash(c) == du.compute_hash(a)
    with_label = template()
    with_label["metadata"]["labels"]["pod-template-hash"] = "xyz"
    assert du.equal_ignore_hash(with_label, a)
    assert not du.equal_ignore_hash(template("nginx:1.28"), a)


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        ("25%", "25%", 3, (1, 0)),  # surge rounds up, unavailable down
        ("25%", "25%", 10, (3, 2)),
        (0, "10%", 5, (0, 1)),  # both 0 after rounding: unavailable becomes 1
        (2, 1, 4, (2, 1)),
        ("100%", 0, 3, (3, 0)),
    ],
)
def test_fenceposts(surge: Any, unavailable: Any, replicas: int, expected: tuple[int, int]) -> None:
    assert du.resolve_fenceposts(surge, unavailable, replicas) == expected


def test_max_unavailable_is_capped_and_zero_for_recreate() -> None:
    d = deployment(replicas=2, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 5}})
    assert du.max_unavailable(d) == 2
    assert du.max_unavailable(deployment(strategy={"type": "Recreate"})) == 0
    assert du.max_surge(deployment(strategy={"type": "Recreate"})) == 0


def test_revision_history_is_kept_within_its_length_limit() -> None:
    rs = {"metadata": {"annotations": {du.REVISION_ANNOTATION: "4", du.REVISION_HISTORY_ANNOTATION: "1,2"}}}
    assert du.set_new_rs_annotations(deployment(), rs, "7", True)
    assert rs["metadata"]["annotations"][du.REVISION_ANNOTATION] == "7"
    assert rs["metadata"]["annotations"][du.REVISION_HISTORY_ANNOTATION] == "1,2,4"
    assert du.set_new_rs_annotations(deployment(), rs, "9", True, history_limit=5)
    assert rs["metadata"]["annotations"][du.REVISION_HISTORY_ANNOTATION] == "2,4,7"
    # A revision never goes down.
    assert not du.set_new_rs_annotations(deployment(), rs, "3", True)
    assert rs["metadata"]["annotations"][du.REVISION_ANNOTATION] == "9"


# ---------------------------------------------------------------------------------- reconcile


async def test_first_sync_creates_the_new_replicaset() -> None:
    env = Env()
    d = deployment()
    d["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first", du.LAST_APPLIED_ANNOTATION: "{}"}
    env.add("deployments", d)
    await env.sync()

    stored = env.deployment()
    hash_ = du.compute_hash(stored["spec"]["template"])
    name = f"web-{hash_}"
    assert env.client.writes("create") == [("create", "replicasets", name)]
    rs = env.client.stored("replicasets", name)
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": hash_}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": hash_}}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": hash_}
    assert rs["spec"]["template"]["spec"] == stored["spec"]["template"]["spec"]
    assert rs["spec"]["replicas"] == 3
    assert rs["metadata"]["ownerReferences"] == [{
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": stored["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True,
    }]
    # 25% of 3: surge 1 (up), so max-replicas 4; the Deployment's own annotations stay its own.
    assert rs["metadata"]["annotations"] == {
        du.REVISION_ANNOTATION: "1", du.DESIRED_REPLICAS_ANNOTATION: "3", du.MAX_REPLICAS_ANNOTATION: "4",
        "kubernetes.io/change-cause": "first",
    }
    assert stored["metadata"]["annotations"][du.REVISION_ANNOTATION] == "1"
    assert env.recorder.events == [("Normal", "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to 3")]
    assert env.recorder.sources == ["deployment-controller"]
    status = stored["status"]
    assert status["observedGeneration"] == 1
    assert status.get("replicas") is None and status["unavailableReplicas"] == 3
    progressing, available = cond(stored, "Progressing"), cond(stored, "Available")
    assert progressing is not None and available is not None
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True", "NewReplicaSetCreated", f'Created new replica set "{name}"')
    assert (available["status"], available["reason"], available["message"]) == (
        "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
    assert progressing["lastUpdateTime"] == "2026-01-01T00:00:00Z"

    # Pods come up: the rollout completes, conditions say so, in Kubernetes' order.
    env.run_replicasets()
    assert await env.sync() is None
    stored = env.deployment()
    assert {k: stored["status"].get(k) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")} == {
        "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}
    assert "unavailableReplicas" not in stored["status"]
    assert [c["type"] for c in stored["status"]["conditions"]] == ["Available", "Progressing"]
    progressing = cond(stored, "Progressing")
    assert progressing is not None
    assert (progressing["reason"], progressing["message"]) == ("NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.')
    # Idempotent: another sync writes nothing.
    before = list(env.client.actions)
    await env.sync()
    assert env.client.actions == before


async def test_rolling_update_respects_surge_and_unavailable() -> None:
    env = Env()
    env.add("deployments", deployment(replicas=4, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}))
    await converge(env)
    [old] = env.rss()
    env.edit("web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.28"))

    # The first step: the new ReplicaSet gets the one surge pod, the old one loses one.
    await env.sync()
    new_name = f"web-{du.compute_hash(env.deployment()['spec']['template'])}"
    assert env.client.stored("replicasets", new_name)["spec"]["replicas"] == 1
    assert env.client.stored("replicasets", old["metadata"]["name"])["spec"]["replicas"] == 3
    assert ("Normal", "ScalingReplicaSet", f"Scaled down replica set {old['metadata']['name']} from 4 to 3") in env.recorder.events
    assert env.deployment()["metadata"]["annotations"][du.REVISION_ANNOTATION] == "2"

    def within_bounds(env: Env) -> None:
        rss = env.client.all("replicasets")
        assert du.total_spec_replicas(rss) <= 5  # replicas + maxSurge
        assert du.total_status(rss, "availableReplicas") >= 3  # replicas - maxUnavailable

    await converge(env, check=within_bounds)
    new = env.client.stored("replicasets", new_name)
    old = env.client.stored("replicasets", old["metadata"]["name"])
    assert (new["spec"]["replicas"], old["spec"]["replicas"]) == (4, 0)
    assert new["metadata"]["annotations"][du.REVISION_ANNOTATION] == "2"
    assert old["metadata"]["annotations"][du.REVISION_ANNOTATION] == "1"
    d = env.deployment()
    assert d["status"]["updatedReplicas"] == 4 and d["status"]["replicas"] == 4
    progressing = cond(d, "Progressing")
    assert progressing is not None and progressing["reason"] == "NewReplicaSetAvailable"


def test_replicaset_patch_tests_uid_and_generation_then_changes_only_what_differs() -> None:
    rs = {"metadata": {"name": "web-1", "uid": "u1", "generation": 4, "resourceVersion": "17",
                       "annotations": {du.DESIRED_REPLICAS_ANNOTATION: "3", "a/b~c": "x"}},
          "spec": {"replicas": 3, "minReadySeconds": 5, "template": {"spec": {}}}, "status": {"replicas": 3}}
    body = {**rs, "metadata": {**rs["metadata"], "annotations": {du.DESIRED_REPLICAS_ANNOTATION: "4", "new": "y"}},
            "spec": {"replicas": 4, "template": {"spec": {}}}}
    assert replicaset_patch(rs, body) == [
        {"op": "test", "path": "/metadata/uid", "value": "u1"},
        {"op": "test", "path": "/metadata/generation", "value": 4},
        {"op": "add", "path": "/metadata/annotations/deployment.kubernetes.io~1desired-replicas", "value": "4"},
        {"op": "add", "path": "/metadata/annotations/new", "value": "y"},
        {"op": "remove", "path": "/metadata/annotations/a~1b~0c"},
        {"op": "remove", "path": "/spec/minReadySeconds"},
        {"op": "add", "path": "/spec/replicas", "value": 4},
    ]
    assert replicaset_patch(rs, rs) == []
    # No annotations yet: the map is added whole, if still absent.
    bare = {"metadata": {"name": "web-1", "uid": "u1", "generation": 1}, "spec": {"replicas": 1}}
    assert replicaset_patch(bare, {**bare, "metadata": {**bare["metadata"], "annotations": {"k": "v"}}})[2:] == [
        {"op": "test", "path": "/metadata/annotations", "value": None},
        {"op": "add", "path": "/metadata/annotations", "value": {"k": "v"}},
    ]


async def test_scaling_a_replicaset_ignores_its_status_but_not_its_spec_moving_meanwhile() -> None:
    env = Env()
    env.add("deployments", deployment(replicas=4, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}))
    await converge(env)
    [old] = env.rss()
    old_name = old["metadata"]["name"]
    env.edit("web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.28"))

    # The ReplicaSet controller writes the old ReplicaSet's status after the informer last
    # delivered it (a pod restarted, say): Kubernetes' Update would meet a 409 here.
    stored = env.client.stored("replicasets", old_name)
    stored["status"] = {**stored["status"], "readyReplicas": 4}
    stored["metadata"]["resourceVersion"] = str(next(env.client._rv))
    assert await env.sync() is None
    assert env.client.stored("replicasets", old_name)["spec"]["replicas"] == 3
    assert env.client.stored("replicasets", old_name)["status"]["readyReplicas"] == 4  # its status is not written

    # A spec the sync has not seen (someone scaled the ReplicaSet): the patch is refused, the
    # key comes back soon, and nothing is written over the newer spec.
    env.run_replicasets()
    new_name = f"web-{du.compute_hash(env.deployment()['spec']['template'])}"
    stored = env.client.stored("replicasets", new_name)
    assert stored["spec"]["replicas"] == 1  # the sync would scale it up to 2
    stored["spec"]["replicas"] = 0
    stored["metadata"]["generation"] += 1
    stored["metadata"]["resourceVersion"] = str(next(env.client._rv))
    assert await env.controller.reconcile("default/web") == CONFLICT_RETRY
    assert env.client.stored("replicasets", new_name)["spec"]["replicas"] == 0
    assert env.recorder.events[-1][2].startswith("Scaled down replica set")  # no "Scaled up" recorded
    env.refresh()
    await converge(env)
    assert env.client.stored("replicasets", old_name)["spec"]["replicas"] == 0
    assert env.client.stored("replicasets", new_name)["spec"]["replicas"] == 4


async def test_rolling_update_scales_unhealthy_old_replicas_down_first() -> None:
    env = Env()
    env.add("deployments", deployment(replicas=4, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}))
    await converge(env)
    [old] = env.rss()
    env.run_replicasets(ready=lambda rs: 2)  # two of the old pods crash
    env.edit("web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.28"))
    await env.sync()
    # No surge, so no new pod yet; 4 - maxUnavailable = 3 must stay: one old replica can go,
    # and it is a broken one (2 are available, so an available one could not go).
    new_name = f"web-{du.compute_hash(env.deployment()['spec']['template'])}"
    assert env.client.stored("replicasets", new_name)["spec"]["replicas"] == 0
    assert env.client.stored("replicasets", old["metadata"]["name"])["spec"]["replicas"] == 3
    assert env.recorder.events[-1] == ("Normal", "ScalingReplicaSet", f"Scaled down replica set {old['metadata']['name']} from 4 to 3")


async def test_recreate_scales_old_to_zero_and_waits_for_their_pods() -> None:
    env = Env()
    env.add("deployments", deployment(strategy={"type": "Recreate"}))
    await converge(env)
    [old] = env.rss()
    pod = {"metadata": {"name": "web-old-1", "labels": {"app": "web"}, "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": old["metadata"]["name"], "uid": old["metadata"]["uid"], "controller": True}]},
        "status": {"phase": "Running"}}
    env.add("pods", pod)
    env.edit("web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.28"))

    await env.sync()
    assert env.client.stored("replicasets", old["metadata"]["name"])["spec"]["replicas"] == 0
    assert env.client.writes("create") == [("create", "replicasets", old["metadata"]["name"])]  # no new one yet
    # The old ReplicaSet reports no replicas, but a pod of it still runs: still no new one.
    env.run_replicasets()
    await env.sync()
    assert len(env.rss()) == 1
    # The pod is gone: the new ReplicaSet is created at full size.
    del env.client.objects[("pods", "default", "web-old-1")]
    env.refresh()
    await env.sync()
    new_name = f"web-{du.compute_hash(env.deployment()['spec']['template'])}"
    assert env.client.stored("replicasets", new_name)["spec"]["replicas"] == 3
    assert env.recorder.events[-1] == ("Normal", "ScalingReplicaSet", f"Scaled up replica set {new_name} from 0 to 3")
    await converge(env)
    assert cond(env.deployment(), "Available")["status"] == "True"  # type: ignore[index]


async def test_history_beyond_the_limit_is_deleted_once_complete() -> None:
    env = Env()
    env.add("deployments", deployment(revisionHistoryLimit=1))
    for image in ("nginx:1", "nginx:2", "nginx:3"):
        env.edit("web", lambda d, image=image: d["spec"]["template"]["spec"]["containers"][0].update(image=image))
        await converge(env)
        env.clock._now += 1  # distinct creation times
    revisions = sorted(du.revision(rs) or 0 for rs in env.rss())
    # Revisions 1..3 are old; the limit keeps only the newest old one (2) with the current (3).
    assert revisions == [2, 3]
    deleted = env.client.writes("delete")
    assert len(deleted) == 1


async def test_old_replicasets_with_replicas_are_never_cleaned_up() -> None:
    env = Env()
    d = env.add("deployments", deployment(revisionHistoryLimit=0))
    owner = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d["metadata"]["uid"], "controller": True}]
    for i, image in enumerate(("nginx:1", "nginx:2")):
        env.add("replicasets", {
            "metadata": {"name": f"web-old{i}", "labels": {"app": "web"}, "ownerReferences": owner,
                         "annotations": {du.REVISION_ANNOTATION: str(i + 1)}},
            "spec": {"replicas": 0 if i == 0 else 1, "selector": {"matchLabels": {"app": "web"}}, "template": template(image)},
        })
    env.run_replicasets()
    await converge(env)
    # The busy old one was scaled to 0 by the rollout and only then deleted.
    assert [rs["metadata"]["name"] for rs in env.rss()] == [f"web-{du.compute_hash(env.deployment()['spec']['template'])}"]


async def test_progress_deadline_exceeded_and_requeue_before_it() -> None:
    env = Env()
    env.add("deployments", deployment(progressDeadlineSeconds=60))
    await env.sync()
    env.run_replicasets(ready=lambda rs: 0)  # pods never become ready
    await env.sync()  # the pods are progress: ReplicaSetUpdated
    after = await env.sync()  # nothing new: look again when the deadline passes
    assert after is not None and 60 <= after <= 62
    await env.clock.advance(61)
    assert await env.sync() is None
    d = env.deployment()
    progressing = cond(d, "Progressing")
    assert progressing is not None
    name = env.rss()[0]["metadata"]["name"]
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.')
    # Timed out stays timed out (no further requeue) until progress is made.
    assert await env.sync() is None
    env.run_replicasets()
    await env.sync()
    progressing = cond(env.deployment(), "Progressing")
    assert progressing is not None and progressing["reason"] == "NewReplicaSetAvailable"


async def test_progress_moves_last_update_time_but_not_transition() -> None:
    env = Env()
    env.add("deployments", deployment(replicas=4))
    await env.sync()
    env.run_replicasets(ready=lambda rs: 1)
    await env.clock.advance(30)
    await env.sync()
    first = cond(env.deployment(), "Progressing")
    assert first is not None and first["reason"] == "ReplicaSetUpdated"
    assert first["message"] == f'ReplicaSet "{env.rss()[0]["metadata"]["name"]}" is progressing.'
    env.run_replicasets(ready=lambda rs: 2)
    await env.clock.advance(30)
    await env.sync()
    second = cond(env.deployment(), "Progressing")
    assert second is not None
    assert second["lastTransitionTime"] == first["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert second["lastUpdateTime"] == "2026-01-01T00:01:00Z"


async def test_paused_deployment_does_not_roll_out_but_scales_proportionally() -> None:
    env = Env()
    env.add("deployments", deployment(replicas=10, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}))
    await converge(env)
    [old] = env.rss()
    # Start a rollout, let it take one step (new 3 of 13 surge... then pause mid-way.
    env.edit("web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.28"))
    await env.sync()
    env.run_replicasets(ready=lambda rs: 0 if rs["metadata"]["name"] != old["metadata"]["name"] else du.replicas(rs))
    await env.sync()
    env.edit("web", lambda d: d["spec"].update(paused=True))
    await env.sync()
    progressing = cond(env.deployment(), "Progressing")
    assert progressing is not None and (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown", "DeploymentPaused", "Deployment is paused")
    sizes = {rs["metadata"]["name"]: du.replicas(rs) for rs in env.rss()}
    assert sum(sizes.values()) == 13

    # A template change while paused creates nothing.
    env.edit("web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.29"))
    creates = len(env.client.writes("create"))
    await env.sync()
    assert len(env.client.writes("create")) == creates

    # Scaled while paused: every active ReplicaSet grows in proportion (10+3 -> 20+3).
    env.edit("web", lambda d: d["spec"].update(replicas=20))
    await env.sync()
    after = {rs["metadata"]["name"]: du.replicas(rs) for rs in env.rss()}
    assert sum(after.values()) == 23
    for name, size in sizes.items():
        assert after[name] == round(size * 23 / 13)
    for rs in env.rss():
        assert rs["metadata"]["annotations"][du.DESIRED_REPLICAS_ANNOTATION] == "20"
        assert rs["metadata"]["annotations"][du.MAX_REPLICAS_ANNOTATION] == "23"

    env.edit("web", lambda d: d["spec"].update(paused=False))
    await env.sync()
    progressing = cond(env.deployment(), "Progressing")
    assert progressing is not None
    # Resumed, then the rollout of the latest template starts in the same sync.
    assert progressing["reason"] in ("DeploymentResumed", "NewReplicaSetCreated")
    await converge(env)
    assert [du.replicas(rs) for rs in env.rss()][-1] == 20


async def test_proportional_scaling_during_a_rollout() -> None:
    env = Env()
    d = env.add("deployments", deployment(replicas=10, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}))
    owner = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d["metadata"]["uid"], "controller": True}]
    notes = {du.DESIRED_REPLICAS_ANNOTATION: "10", du.MAX_REPLICAS_ANNOTATION: "13"}
    env.add("replicasets", {"metadata": {"name": "web-old", "labels": {"app": "web"}, "ownerReferences": owner,
                                         "annotations": {**notes, du.REVISION_ANNOTATION: "1"}},
                            "spec": {"replicas": 8, "selector": {"matchLabels": {"app": "web"}}, "template": template("nginx:1")}})
    env.clock._now += 1
    new_template = copy.deepcopy(d["spec"]["template"])
    env.add("replicasets", {"metadata": {"name": "web-new", "labels": {"app": "web"}, "ownerReferences": owner,
                                         "annotations": {**notes, du.REVISION_ANNOTATION: "2"}},
                            "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "web"}}, "template": new_template}})
    env.run_replicasets()
    env.edit("web", lambda d: d["spec"].update(replicas=20))
    await env.sync()
    # 13 -> 23: old 8*23/13 = 14.15 -> 14, new gets the rest, 9.
    assert du.replicas(env.client.stored("replicasets", "web-old")) == 14
    assert du.replicas(env.client.stored("replicasets", "web-new")) == 9
    assert ("Normal", "ScalingReplicaSet", "Scaled up replica set web-old from 8 to 14") in env.recorder.events
    # And back down to 5 (+3): 10 replicas to take away, larger (older first) first.
    env.edit("web", lambda d: d["spec"].update(replicas=5))
    await env.sync()
    sizes = [du.replicas(env.client.stored("replicasets", n)) for n in ("web-old", "web-new")]
    assert sum(sizes) == 8
    assert sizes == [5, 3]


async def test_rollback_reuses_the_old_replicaset_with_a_new_revision() -> None:
    env = Env()
    env.add("deployments", deployment())
    await converge(env)
    first = env.rss()[0]
    first_template = copy.deepcopy(env.deployment()["spec"]["template"])
    env.clock._now += 1
    env.edit("web", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.28"))
    await converge(env)
    assert env.deployment()["metadata"]["annotations"][du.REVISION_ANNOTATION] == "2"
    creates = len(env.client.writes("create"))

    # kubectl rollout undo: the Deployment's template becomes the first ReplicaSet's, without the hash.
    env.edit("web", lambda d: d["spec"].update(template=first_template))
    await converge(env)
    assert len(env.client.writes("create")) == creates  # no new ReplicaSet
    reused = env.client.stored("replicasets", first["metadata"]["name"])
    assert reused["metadata"]["annotations"][du.REVISION_ANNOTATION] == "3"
    assert reused["metadata"]["annotations"][du.REVISION_HISTORY_ANNOTATION] == "1"
    assert du.replicas(reused) == 3
    assert env.deployment()["metadata"]["annotations"][du.REVISION_ANNOTATION] == "3"
    assert sorted(du.revision(rs) or 0 for rs in env.rss()) == [2, 3]


async def test_orphans_are_adopted_and_mismatches_released() -> None:
    env = Env()
    d = env.add("deployments", deployment())
    orphan = env.add("replicasets", {"metadata": {"name": "stray", "labels": {"app": "web"}},
                                     "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}}, "template": template("nginx:0")}})
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d["metadata"]["uid"], "controller": True}
    env.add("replicasets", {"metadata": {"name": "moved", "labels": {"app": "other"}, "ownerReferences": [owner]},
                            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}}, "template": template("nginx:0")}})
    await env.sync()
    assert ("patch", "replicasets", "stray") in env.client.actions
    assert ("patch", "replicasets", "moved") in env.client.actions
    refs = env.client.stored("replicasets", "stray")["metadata"]["ownerReferences"]
    assert refs[0]["uid"] == d["metadata"]["uid"] and refs[0]["controller"] is True
    assert env.client.stored("replicasets", "moved")["metadata"]["ownerReferences"] == []
    assert orphan["metadata"]["uid"] != d["metadata"]["uid"]


async def test_hash_collision_bumps_collision_count() -> None:
    env = Env()
    d = env.add("deployments", deployment())
    name = f"web-{du.compute_hash(d['spec']['template'])}"
    env.add("replicasets", {"metadata": {"name": name, "labels": {"app": "other"}},
                            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}}, "template": template("other")}})
    with pytest.raises(APIError):
        await env.sync()
    assert env.deployment()["status"]["collisionCount"] == 1
    await env.sync()
    other = f"web-{du.compute_hash(d['spec']['template'], 1)}"
    assert other != name
    assert env.client.stored("replicasets", other)["spec"]["replicas"] == 3


async def test_failed_create_sets_progressing_false_and_warns() -> None:
    env = Env()
    env.add("deployments", deployment())
    env.client.fail_create = APIError(403, "Forbidden", 'exceeded quota: compute-resources')
    with pytest.raises(APIError):
        await env.sync()
    progressing = cond(env.deployment(), "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("False", "ReplicaSetCreateError")
    assert progressing["message"].startswith('Failed to create new replica set "web-')
    assert env.recorder.events[-1][:2] == ("Warning", "ReplicaSetCreateError")


async def test_selecting_all_is_refused_with_an_event() -> None:
    env = Env()
    d = deployment()
    d["spec"]["selector"] = {}
    env.add("deployments", d)
    await env.sync()
    assert env.client.writes("create") == []
    assert env.recorder.events == [("Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")]
    assert env.deployment()["status"]["observedGeneration"] == 1


async def test_handlers_enqueue_the_owning_deployment() -> None:
    env = Env()
    d = env.add("deployments", deployment())
    await env.sync()
    while not env.controller.queue.is_idle():
        key = await env.controller.queue.get()
        env.controller.queue.done(key)
    rs = env.rss()[0]
    env.controller._on_rs_update(rs, {**rs, "metadata": {**rs["metadata"], "resourceVersion": "999"}})
    assert env.controller.queue.queued == 1
    key = await env.controller.queue.get()
    assert key == "default/web"
    env.controller.queue.done(key)
    assert d["metadata"]["uid"] == du.controller_ref(rs)["uid"]  # type: ignore[index]


async def test_terminating_replicas_are_counted_when_every_replicaset_counts_them() -> None:
    env = Env()
    env.add("deployments", deployment())
    await converge(env)
    assert "terminatingReplicas" not in env.deployment()["status"]
    [rs] = env.client.all("replicasets")
    rs["status"]["terminatingReplicas"] = 2
    rs["metadata"]["resourceVersion"] = "5000"
    env.refresh()
    await env.sync()
    assert env.deployment()["status"]["terminatingReplicas"] == 2
    rs["status"]["terminatingReplicas"] = 0
    rs["metadata"]["resourceVersion"] = "5001"
    env.refresh()
    await env.sync()
    assert env.deployment()["status"]["terminatingReplicas"] == 0
    before = list(env.client.actions)
    await env.sync()
    assert env.client.actions == before


async def test_deleted_deployment_is_done() -> None:
    env = Env()
    assert await env.controller.reconcile("default/gone") is None
    assert env.client.actions == []


# ---------------------------------------------------------------------------------- on a cluster


@asynccontextmanager
async def running_cluster() -> AsyncIterator[Cluster]:
    """A two-node Cluster on a virtual clock with the Deployment and ReplicaSet controllers
    running (each started here unless the controller manager already runs it)."""
    clock = VirtualClock()
    async with Cluster(nodes=2, runtime="fake", backend="memory:", clock=clock) as cluster:
        with anyio.fail_after(30):
            await cluster.wait_ready()
            await cluster.controller_manager.leading.wait()
        running = {type(c) for c in cluster.controller_manager.controllers}
        recorder = cluster.controller_manager.recorder
        async with anyio.create_task_group() as tg:
            for controller_class in (DeploymentController, ReplicaSetController):
                if controller_class not in running:
                    await tg.start(controller_class(cluster.client, clock, recorder).run)
            yield cluster
            tg.cancel_scope.cancel()


async def wait_for(cluster: Cluster, predicate: Callable[[Object], bool], what: str, name: str = "web") -> Object:
    d: Object = {}
    for _ in range(3000):
        d = await cluster.client.get("deployments", name)
        if predicate(d):
            return d
        await cluster._pause()
    raise AssertionError(f"timed out waiting for {what}: {d.get('status')}")


def rolled_out(replicas: int) -> Callable[[Object], bool]:
    """kubectl rollout status's test: spec observed, every replica updated and available."""
    def check(d: Object) -> bool:
        s = d.get("status") or {}
        return (s.get("observedGeneration", 0) >= d["metadata"]["generation"] and s.get("updatedReplicas") == replicas
                and s.get("replicas") == replicas and s.get("availableReplicas") == replicas)
    return check


async def replicasets(cluster: Cluster) -> list[Object]:
    return du.by_revision((await cluster.client.list("replicasets", namespace="default"))["items"])


async def test_rollout_update_and_rollback_on_a_cluster() -> None:
    async with running_cluster() as cluster:
        client = cluster.client
        body = deployment(image="nginx:1.27")
        del body["spec"]["strategy"], body["spec"]["revisionHistoryLimit"], body["spec"]["progressDeadlineSeconds"]
        await client.create("deployments", body, namespace="default")
        d = await wait_for(cluster, rolled_out(3), "3 available")
        assert d["metadata"]["annotations"][du.REVISION_ANNOTATION] == "1"
        [first] = await replicasets(cluster)
        hash_ = first["metadata"]["labels"]["pod-template-hash"]
        assert first["metadata"]["name"] == f"web-{hash_}"
        pods = (await client.list("pods", namespace="default"))["items"]
        assert len(pods) == 3 and all(p["metadata"]["labels"]["pod-template-hash"] == hash_ for p in pods)
        available = cond(d, "Available")
        assert available is not None and available["reason"] == "MinimumReplicasAvailable"

        # kubectl set image
        await client.patch("deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
                           namespace="default", patch_type="strategic")
        d = await wait_for(cluster, lambda d: rolled_out(3)(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == "2", "revision 2")
        rss = await replicasets(cluster)
        assert [du.replicas(rs) for rs in rss] == [0, 3]
        assert [du.revision(rs) for rs in rss] == [1, 2]
        progressing = cond(d, "Progressing")
        assert progressing is not None
        assert progressing["message"] == f'ReplicaSet "{rss[1]["metadata"]["name"]}" has successfully progressed.'

        # kubectl rollout undo: the template of revision 1, without the hash label, by JSON patch.
        old = await client.get("replicasets", first["metadata"]["name"], namespace="default")
        tmpl = copy.deepcopy(old["spec"]["template"])
        del tmpl["metadata"]["labels"]["pod-template-hash"]
        notes = {k: v for k, v in d["metadata"]["annotations"].items() if k in du.SKIP_COPY_ANNOTATIONS}
        notes.update({k: v for k, v in (old["metadata"].get("annotations") or {}).items() if k not in du.SKIP_COPY_ANNOTATIONS})
        await client.patch("deployments", "web", [
            {"op": "replace", "path": "/spec/template", "value": tmpl},
            {"op": "replace", "path": "/metadata/annotations", "value": notes},
        ], namespace="default", patch_type="json")
        d = await wait_for(cluster, lambda d: rolled_out(3)(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == "3", "revision 3")
        rss = await replicasets(cluster)
        assert len(rss) == 2
        assert rss[1]["metadata"]["uid"] == first["metadata"]["uid"]
        assert rss[1]["metadata"]["annotations"][du.REVISION_ANNOTATION] == "3"
        assert rss[1]["metadata"]["annotations"][du.REVISION_HISTORY_ANNOTATION] == "1"
        assert [du.replicas(rs) for rs in rss] == [0, 3]

        events = (await client.list("events", namespace="default"))["items"]
        messages = {e["message"] for e in events if e["reason"] == "ScalingReplicaSet"}
        assert f"Scaled up replica set {first['metadata']['name']} from 0 to 3" in messages
        assert f"Scaled down replica set {first['metadata']['name']} from 1 to 0" in messages


async def test_recreate_scale_and_pause_on_a_cluster() -> None:
    async with running_cluster() as cluster:
        client = cluster.client
        await client.create("deployments", deployment(strategy={"type": "Recreate"}), namespace="default")
        await wait_for(cluster, rolled_out(3), "3 available")

        # kubectl scale: the scale subresource.
        await client.patch("deployments", "web", {"spec": {"replicas": 5}}, namespace="default", subresource="scale")
        await wait_for(cluster, rolled_out(5), "5 available")

        # Recreate: every old pod is gone before the first new one exists.
        async with client.watch("pods", namespace="default", resource_version=(await client.list("pods", namespace="default"))["metadata"]["resourceVersion"]) as events:
            await client.patch("deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
                               namespace="default", patch_type="strategic")
            await wait_for(cluster, lambda d: rolled_out(5)(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == "2", "revision 2")
            new_hash = (await replicasets(cluster))[-1]["metadata"]["labels"]["pod-template-hash"]
            old_left = {p["metadata"]["name"] for p in (await client.list("pods", namespace="default"))["items"]
                        if p["metadata"]["labels"]["pod-template-hash"] != new_hash}
            assert not old_left
            alive_old = 5
            with anyio.move_on_after(0.2):  # the events are all in the stream already
                async for event in events:
                    labels = event.object["metadata"]["labels"]
                    if labels["pod-template-hash"] != new_hash and event.type == "DELETED":
                        alive_old -= 1
                    elif labels["pod-template-hash"] == new_hash and event.type == "ADDED":
                        assert alive_old == 0, "a new pod was created while old ones still existed"
            assert alive_old == 0

        # Paused: a template change rolls nothing out; resumed, it does.
        await client.patch("deployments", "web", {"spec": {"paused": True}}, namespace="default")
        await wait_for(cluster, lambda d: (cond(d, "Progressing") or {}).get("reason") == "DeploymentPaused", "paused")
        await client.patch("deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.29"}]}}}},
                           namespace="default", patch_type="strategic")
        for _ in range(100):
            await cluster._pause()
        assert len(await replicasets(cluster)) == 2
        await client.patch("deployments", "web", {"spec": {"paused": False}}, namespace="default")
        await wait_for(cluster, lambda d: rolled_out(5)(d) and d["metadata"]["annotations"].get(du.REVISION_ANNOTATION) == "3", "revision 3")
        assert [du.replicas(rs) for rs in await replicasets(cluster)] == [0, 0, 5]
