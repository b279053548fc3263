"""The Deployment controller: rolls a Deployment's pod template out through ReplicaSets, as
kube-controller-manager's deployment controller does.

Each Deployment owns ReplicaSets named `<deployment>-<pod-template-hash>`: the new one (whose
template is the Deployment's) and old ones (earlier templates). A sync reads the caches and:

- claims ReplicaSets: adopts orphans its selector matches, releases owned ones it no longer
  matches (ownerReferences, by strategic merge patch);
- keeps revisions: the new ReplicaSet's `deployment.kubernetes.io/revision` is one more than
  any old one's (a ReplicaSet that becomes new again, as after `kubectl rollout undo`, moves to
  the new revision and remembers its earlier ones in `revision-history`); the Deployment carries
  the revision of its new ReplicaSet;
- when the Deployment is paused, or was only scaled: shares replicas out among its
  ReplicaSets in proportion (`desired-replicas`/`max-replicas` annotations say what each was
  sized for), and nothing else;
- RollingUpdate: scales the new ReplicaSet up within maxSurge, then old ones down within
  maxUnavailable (unhealthy replicas first); Recreate: scales every old ReplicaSet to 0, waits
  until their pods are gone, then creates and scales the new one;
- once the rollout is complete, deletes the oldest unused ReplicaSets beyond
  revisionHistoryLimit;
- writes the status: counts, observedGeneration, the Available condition and the Progressing
  one (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
  ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed), and looks again when the
  progress deadline would pass.

Every write is conditional on what the sync read, so a stale cache costs a retry, never a wrong
write: the Deployment's status by its resourceVersion (a 409); a ReplicaSet's scale and
annotations by a JSON patch that first tests the uid and metadata.generation the sync read.
Kubernetes' controller sends a whole-object Update there, guarded by the resourceVersion, which
fails whenever the ReplicaSet controller has written the status since the informer last
delivered it (every pod that becomes ready does): during a rollout nearly every scale attempt
met a 409. The generation moves exactly when the spec does, so the patch still refuses to act
on a spec it has not seen, while status writes no longer stand in its way; where both succeed,
they store the same object. Events: ScalingReplicaSet ("Scaled up replica set
web-5d8f6c from 0 to 3"), SelectingAll, ReplicaSetCreateError.
"""

from __future__ import annotations

import copy
from typing import Any

from kube_lite.api.errors import APIError
from kube_lite.api.selectors import LabelSelector, SelectorError, from_label_selector
from kube_lite.client.client import Client
from kube_lite.client.events import NORMAL, WARNING, EventRecorder
from kube_lite.client.informer import MutationCache, SharedInformerFactory, object_key
from kube_lite.clock import Clock
from kube_lite.controllers import deploymentutil as du
from kube_lite.controllers.base import Controller
from kube_lite.controllers.podcontrol import ControllerRefManager, controller_ref

Object = dict[str, Any]

CONTROLLER_KIND = "Deployment"
CONTROLLER_API_VERSION = "apps/v1"
# Seconds before looking again at a Deployment whose write met a newer version (409).
CONFLICT_RETRY = 1.0


class StaleReplicaSet(Exception):
    """A ReplicaSet's spec (or uid) is no longer the one the sync read: its patch was refused."""


def _pointer(*tokens: str) -> str:
    """An RFC 6901 JSON pointer to the member named by `tokens`."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


def replicaset_patch(current: Object, desired: Object) -> list[Object]:
    """The JSON patch (RFC 6902) that turns `current`'s annotations and spec into `desired`'s,
    its first operations testing that the stored object still has `current`'s uid and
    generation (its resourceVersion if it has no generation), so that it applies to the spec
    this sync read and to nothing else. Empty when nothing differs."""
    ops: list[Object] = []
    old_notes, new_notes = du.annotations(current), du.annotations(desired)
    if old_notes != new_notes:
        if not old_notes:
            # No map to add members to yet: add the map, unless another writer made one meanwhile.
            ops.append({"op": "test", "path": "/metadata/annotations", "value": du.meta(current).get("annotations")})
            ops.append({"op": "add", "path": "/metadata/annotations", "value": dict(new_notes)})
        else:
            for key, value in new_notes.items():
                if old_notes.get(key) != value:
                    ops.append({"op": "add", "path": _pointer("metadata", "annotations", key), "value": value})
            ops.extend({"op": "remove", "path": _pointer("metadata", "annotations", key)} for key in old_notes if key not in new_notes)
    old_spec, new_spec = du.spec(current), du.spec(desired)
    for key in sorted({*old_spec, *new_spec}):
        if key not in new_spec:
            ops.append({"op": "remove", "path": _pointer("spec", key)})
        elif old_spec.get(key) != new_spec[key] or key not in old_spec:
            ops.append({"op": "add", "path": _pointer("spec", key), "value": new_spec[key]})
    if not ops:
        return []
    meta = du.meta(current)
    guard = ("generation", meta["generation"]) if meta.get("generation") is not None else ("resourceVersion", meta.get("resourceVersion"))
    return [
        {"op": "test", "path": "/metadata/uid", "value": meta.get("uid")},
        {"op": "test", "path": _pointer("metadata", guard[0]), "value": guard[1]},
        *ops,
    ]


def _test_failed(exc: APIError) -> bool:
    """Whether a 422 answer to a JSON patch says one of its tests failed (Kubernetes puts the
    patch library's "testing value ... failed: test failed" in the first cause)."""
    if exc.code != 422:
        return False
    causes = (exc.details or {}).get("causes") or []
    return any("test failed" in str(c.get("message") or "") for c in causes if isinstance(c, dict)) or "test failed" in exc.message


def _editable(rs: Object) -> Object:
    """A copy of a ReplicaSet whose annotations and spec (top level) may be changed."""
    meta = du.meta(rs)
    return {**rs, "metadata": {**meta, "annotations": dict(meta.get("annotations") or {})}, "spec": dict(du.spec(rs))}


class DeploymentController(Controller):
    """Rolls Deployments out through ReplicaSets; see the module doc."""

    name = "deployment"
    event_source = "deployment-controller"
    workers = 5  # kube-controller-manager's --concurrent-deployment-syncs

    def __init__(
        self, client: Client, clock: Clock | None = None, recorder: EventRecorder | None = None, *,
        informers: SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(client, clock, recorder, informers=informers)
        self.deployments = self.informer("deployments")
        self.replicasets = self.informer("replicasets")
        self.pods = self.informer("pods")
        # Its own writes, read back until the informers deliver them (no 409 on every other sync).
        self.deployment_writes = MutationCache(self.deployments)
        self.replicaset_writes = MutationCache(self.replicasets)
        self.deployments.add_handler(
            on_add=self._enqueue_deployment, on_update=self._on_deployment_update, on_delete=self._enqueue_deployment,
        )
        self.replicasets.add_handler(on_add=self._on_rs_add, on_update=self._on_rs_update, on_delete=self._on_rs_delete)
        self.pods.add_handler(on_delete=self._on_pod_delete)

    # ------------------------------------------------------------------ event handlers

    def _enqueue_deployment(self, deployment: Object) -> None:
        self.enqueue(object_key(deployment))

    def _on_deployment_update(self, old: Object, new: Object) -> None:
        # The echo of its own status write tells the sync that wrote it nothing new.
        if not self.deployment_writes.echo(new):
            self._enqueue_deployment(new)

    def _resolve(self, namespace: str, ref: Object | None) -> Object | None:
        """The cached Deployment a controller reference points at, if it is one of ours."""
        if ref is None or ref.get("kind") != CONTROLLER_KIND or (ref.get("apiVersion") or "").split("/")[0] != "apps":
            return None
        deployment = self.deployments.get(f"{namespace}/{ref.get('name')}")
        if deployment is None or du.uid(deployment) != ref.get("uid"):
            return None
        return deployment

    def _deployments_selecting(self, rs: Object) -> list[Object]:
        """The Deployments in the ReplicaSet's namespace whose selector matches it."""
        labels = du.meta(rs).get("labels")
        if not labels:
            return []
        found = []
        for deployment in self.deployments.by_index("namespace", du.meta(rs).get("namespace") or ""):
            try:
                selector = from_label_selector(du.spec(deployment).get("selector"))
            except SelectorError:
                continue
            if not selector.empty and selector.matches(labels):
                found.append(deployment)
        return found

    def _on_rs_add(self, rs: Object) -> None:
        namespace = du.meta(rs).get("namespace") or ""
        ref = du.controller_ref(rs)
        if ref is not None:
            deployment = self._resolve(namespace, ref)
            if deployment is not None:
                self._enqueue_deployment(deployment)
            return
        for deployment in self._deployments_selecting(rs):  # an orphan: whoever may adopt it
            self._enqueue_deployment(deployment)

    def _on_rs_update(self, old: Object, new: Object) -> None:
        if self.replicaset_writes.echo(new):
            return  # the echo of its own scaling or annotation write
        namespace = du.meta(new).get("namespace") or ""
        old_ref, new_ref = du.controller_ref(old), du.controller_ref(new)
        ref_changed = (old_ref or {}).get("uid") != (new_ref or {}).get("uid")
        if ref_changed and old_ref is not None:
            deployment = self._resolve(namespace, old_ref)
            if deployment is not None:
                self._enqueue_deployment(deployment)
        if new_ref is not None:
            deployment = self._resolve(namespace, new_ref)
            if deployment is not None:
                self._enqueue_deployment(deployment)
            return
        if ref_changed or du.meta(old).get("labels") != du.meta(new).get("labels"):
            for deployment in self._deployments_selecting(new):
                self._enqueue_deployment(deployment)

    def _on_rs_delete(self, rs: Object) -> None:
        deployment = self._resolve(du.meta(rs).get("namespace") or "", du.controller_ref(rs))
        if deployment is not None:
            self._enqueue_deployment(deployment)

    def _on_pod_delete(self, pod: Object) -> None:
        # Only Recreate waits for pods to go: a gone pod may let it create the new ReplicaSet.
        namespace = du.meta(pod).get("namespace") or ""
        ref = du.controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replicasets.get(f"{namespace}/{ref.get('name')}")
        if rs is None or du.uid(rs) != ref.get("uid"):
            return
        deployment = self._resolve(namespace, du.controller_ref(rs))
        if deployment is not None and du.strategy_type(deployment) == du.RECREATE:
            self._enqueue_deployment(deployment)

    # ------------------------------------------------------------------ sync

    async def reconcile(self, key: str) -> float | None:
        """Converge one Deployment. Returns seconds after which to look again (the progress
        deadline, or soon after a write conflict), or None; raises (so the key is retried with
        backoff) on other API errors."""
        try:
            return await self._sync_deployment(key)
        except StaleReplicaSet as exc:
            self.log.debug("replica set changed meanwhile; looking again", deployment=key, error=str(exc))
            return CONFLICT_RETRY
        except APIError as exc:
            if exc.code != 409 or exc.reason != "Conflict":
                raise
            # A cache behind the server: the newer object is on its way through the informer,
            # whose event queues the key again; the retry is only a safety net.
            self.log.debug("write conflict; looking again", deployment=key, error=exc.message)
            return CONFLICT_RETRY

    async def _sync_deployment(self, key: str) -> float | None:
        cached = self.deployment_writes.get(key)
        if cached is None:
            return None  # deleted: its ReplicaSets are the garbage collector's
        # The working copy: its metadata and status change during the sync; its spec is only
        # read, so it stays the cached (read-only) one.
        d = {**cached, "metadata": copy.deepcopy(du.meta(cached)), "status": copy.deepcopy(du.status(cached))}
        d.setdefault("apiVersion", CONTROLLER_API_VERSION)
        d.setdefault("kind", CONTROLLER_KIND)
        raw_selector = du.spec(d).get("selector")
        if raw_selector is not None and not raw_selector.get("matchLabels") and not raw_selector.get("matchExpressions"):
            self._event(d, WARNING, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
            generation = int(du.meta(d).get("generation") or 0)
            if int(du.status(d).get("observedGeneration") or 0) < generation:
                d["status"]["observedGeneration"] = generation
                await self._update_status(d)
            return None
        try:
            selector = from_label_selector(raw_selector)
        except SelectorError as exc:
            self.log.warning("invalid deployment selector; not retrying", deployment=key, error=str(exc))
            return None

        rss = await self._claim_replicasets(d, selector)
        if du.meta(d).get("deletionTimestamp"):
            return await self._sync_status_only(d, rss)
        await self._check_paused_conditions(d)
        if du.spec(d).get("paused"):
            return await self._sync(d, rss)
        if await self._is_scaling_event(d, rss):
            return await self._sync(d, rss)
        kind = du.strategy_type(d)
        if kind == du.RECREATE:
            return await self._rollout_recreate(d, rss, self._pod_map(d, selector, rss))
        if kind == du.ROLLING_UPDATE:
            return await self._rollout_rolling(d, rss)
        raise ValueError(f"unexpected deployment strategy type: {kind}")

    # ------------------------------------------------------------------ ownership

    async def _claim_replicasets(self, d: Object, selector: LabelSelector) -> list[Object]:
        """The ReplicaSets the Deployment controls (working copies: `_write_rs` replaces their
        top level; what they hold is the cache's, read-only), after adopting matching orphans
        and releasing owned ones that no longer match, through the shared ControllerRefManager
        (Kubernetes' ClaimReplicaSets). Raises the first failure, after trying every one."""
        manager = ControllerRefManager(
            self.client, d, selector, api_version=CONTROLLER_API_VERSION, kind=CONTROLLER_KIND,
            owner_resource="deployments", resource="replicasets",
        )
        claimed = await manager.claim(self.replicaset_writes.by_index("namespace", du.meta(d).get("namespace") or ""))
        return [dict(rs) for rs in claimed]

    def _controller_ref(self, d: Object) -> Object:
        return controller_ref(d, CONTROLLER_API_VERSION, CONTROLLER_KIND)

    def _pod_map(self, d: Object, selector: LabelSelector, rss: list[Object]) -> dict[str, list[Object]]:
        """The Deployment's pods by the uid of the ReplicaSet controlling them (also inactive
        pods: Recreate must know that no old pod is left)."""
        pods: dict[str, list[Object]] = {du.uid(rs): [] for rs in rss}
        for pod in self.pods.by_index("namespace", du.meta(d).get("namespace") or ""):
            if not selector.matches_object(pod):
                continue
            ref = du.controller_ref(pod)
            if ref is not None and ref.get("uid") in pods:
                pods[ref["uid"]].append(pod)
        return pods

    # ------------------------------------------------------------------ writes

    def _now(self) -> str:
        return du.format_time(self.clock.now())

    async def _update_status(self, d: Object) -> None:
        """Write the Deployment's status (and its annotations, which the status subresource
        takes too); the working copy takes the new resourceVersion so that a second write in
        the same sync does not conflict with the first."""
        result = await self.client.update_status("deployments", d, namespace=du.meta(d).get("namespace"))
        self.deployment_writes.mutation(result, echo=True)
        d["metadata"]["resourceVersion"] = du.meta(result).get("resourceVersion")

    async def _write_rs(self, rs: Object, body: Object) -> Object:
        """Give the ReplicaSet `body`'s annotations and spec (see `replicaset_patch`) and make
        the working copy `rs` the stored object. Raises StaleReplicaSet when its uid or spec is
        no longer the one read (the informer brings the news and queues the Deployment)."""
        ops = replicaset_patch(rs, body)
        if not ops:
            return rs
        meta = du.meta(rs)
        try:
            result = await self.client.patch("replicasets", meta["name"], ops, namespace=meta.get("namespace"), patch_type="json")
        except APIError as exc:
            if _test_failed(exc):
                raise StaleReplicaSet(f"replica set {meta.get('namespace')}/{meta.get('name')} changed since it was read") from exc
            raise
        # Its echo carries nothing for this sync: what the patch did not write (status) came
        # with versions of its own, whose events queue the Deployment.
        self.replicaset_writes.mutation(result, echo=True)
        rs.clear()
        rs.update(result)
        return rs

    async def _scale_rs(self, rs: Object, new_scale: int, d: Object, operation: str) -> bool:
        """Set the ReplicaSet's replicas (and its desired/max-replicas annotations). Returns
        whether the size changed; records ScalingReplicaSet when it did."""
        size_changes = du.replicas(rs) != new_scale
        want = du.replicas(d)
        most = want + du.max_surge(d)
        if not size_changes and not du.replicas_annotations_need_update(rs, want, most):
            return False
        old_scale = du.replicas(rs)
        body = _editable(rs)
        body["spec"]["replicas"] = new_scale
        du.set_replicas_annotations(body, want, most)
        await self._write_rs(rs, body)
        if size_changes:
            self._event(d, NORMAL, "ScalingReplicaSet",
                        f"Scaled {operation} replica set {du.meta(rs).get('name')} from {old_scale} to {new_scale}")
        return size_changes

    async def _scale_rs_and_record(self, rs: Object, new_scale: int, d: Object) -> bool:
        if du.replicas(rs) == new_scale:
            return False
        operation = "up" if du.replicas(rs) < new_scale else "down"
        return await self._scale_rs(rs, new_scale, d, operation)

    # ------------------------------------------------------------------ the new ReplicaSet

    async def _all_rss_and_sync_revision(self, d: Object, rss: list[Object], create: bool) -> tuple[Object | None, list[Object]]:
        """(new ReplicaSet or None, every old one); with `create`, the new one is created when
        missing. Brings the new one's annotations and the Deployment's revision up to date."""
        old_rss = du.find_old_rss(d, rss)
        new_rs = await self._new_rs(d, rss, old_rss, create)
        return new_rs, old_rss

    async def _new_rs(self, d: Object, rss: list[Object], old_rss: list[Object], create: bool) -> Object | None:
        existing = du.find_new_rs(d, rss)
        new_revision = str(du.max_revision(old_rss) + 1)
        min_ready = int(du.spec(d).get("minReadySeconds") or 0)
        if existing is not None:
            body = _editable(existing)
            annotations_changed = du.set_new_rs_annotations(d, body, new_revision, True)
            if annotations_changed or int(du.spec(existing).get("minReadySeconds") or 0) != min_ready:
                self._set_min_ready(body, min_ready)
                return await self._write_rs(existing, body)
            needs_update = du.set_deployment_revision(d, du.annotations(existing).get(du.REVISION_ANNOTATION, ""))
            if du.has_progress_deadline(d) and du.get_condition(d["status"], du.PROGRESSING) is None:
                du.set_condition(d["status"], du.new_condition(
                    du.PROGRESSING, "True", du.FOUND_NEW_RS_REASON, f'Found new replica set "{du.meta(existing)["name"]}"', self._now()))
                needs_update = True
            if needs_update:
                await self._update_status(d)
            return existing
        if not create:
            return None
        return await self._create_new_rs(d, old_rss, new_revision, min_ready)

    @staticmethod
    def _set_min_ready(rs: Object, min_ready: int) -> None:
        if min_ready:
            rs.setdefault("spec", {})["minReadySeconds"] = min_ready
        else:
            rs.setdefault("spec", {}).pop("minReadySeconds", None)

    async def _create_new_rs(self, d: Object, old_rss: list[Object], new_revision: str, min_ready: int) -> Object:
        namespace = du.meta(d).get("namespace")
        template = copy.deepcopy(du.spec(d).get("template") or {})
        collision_count = du.status(d).get("collisionCount")
        template_hash = du.compute_hash(template, collision_count)
        labels = {**((template.get("metadata") or {}).get("labels") or {}), du.POD_TEMPLATE_HASH_LABEL: template_hash}
        template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy(du.spec(d).get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), du.POD_TEMPLATE_HASH_LABEL: template_hash}
        name = f"{du.meta(d)['name']}-{template_hash}"
        new_rs: Object = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels),
                         "ownerReferences": [self._controller_ref(d)]},
            "spec": {"replicas": 0, "selector": selector, "template": template},
        }
        self._set_min_ready(new_rs, min_ready)
        count = du.new_rs_new_replicas(d, [*old_rss, new_rs], new_rs)
        new_rs["spec"]["replicas"] = count
        du.set_new_rs_annotations(d, new_rs, new_revision, False)

        already_exists = False
        try:
            created = await self.client.create("replicasets", new_rs, namespace=namespace)
            self.replicaset_writes.mutation(created, created=True)
        except APIError as exc:
            if exc.code == 409 and exc.reason == "AlreadyExists":
                created = await self._existing_or_collision(d, name, exc)
                already_exists = True
            elif exc.code == 403 and _namespace_terminating(exc):
                raise
            else:
                message = f'Failed to create new replica set "{name}": {exc.message}'
                if du.has_progress_deadline(d):
                    du.set_condition(d["status"], du.new_condition(du.PROGRESSING, "False", du.FAILED_RS_CREATE_REASON, message, self._now()))
                    try:
                        await self._update_status(d)
                    except APIError:
                        pass  # the failure to create is the news; this one can wait
                self._event(d, WARNING, du.FAILED_RS_CREATE_REASON, message)
                raise
        if not already_exists and count > 0:
            self._event(d, NORMAL, "ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {count}")
        needs_update = du.set_deployment_revision(d, new_revision)
        if not already_exists and du.has_progress_deadline(d):
            du.set_condition(d["status"], du.new_condition(
                du.PROGRESSING, "True", du.NEW_RS_REASON, f'Created new replica set "{name}"', self._now()))
            needs_update = True
        if needs_update:
            await self._update_status(d)
        return dict(created)  # a working copy: the mutation cache keeps `created` as written

    async def _existing_or_collision(self, d: Object, name: str, exc: APIError) -> Object:
        """The ReplicaSet named as the new one exists: it is ours if we control it and its
        template is ours (a slow cache); otherwise the hash collides with another template, so
        bump status.collisionCount (which changes the hash) and fail this sync."""
        namespace = du.meta(d).get("namespace")
        rs = self.replicasets.get(f"{namespace}/{name}")
        if rs is None:
            rs = await self.client.get("replicasets", name, namespace=namespace)
        ref = du.controller_ref(rs)
        if ref is not None and ref.get("uid") == du.uid(d) and du.equal_ignore_hash(du.spec(d).get("template"), du.spec(rs).get("template")):
            return dict(rs)
        d["status"]["collisionCount"] = int(du.status(d).get("collisionCount") or 0) + 1
        await self._update_status(d)
        self.log.info("hash collision; bumped collisionCount", deployment=object_key(d),
                      collision_count=d["status"]["collisionCount"])
        raise exc

    # ------------------------------------------------------------------ paused and scaled

    async def _check_paused_conditions(self, d: Object) -> None:
        """Progressing Unknown/DeploymentPaused while paused, DeploymentResumed once resumed
        (unless the deadline already passed: that news stays)."""
        if not du.has_progress_deadline(d):
            return
        cond = du.get_condition(d["status"], du.PROGRESSING)
        if cond is not None and cond.get("reason") == du.TIMED_OUT_REASON:
            return
        paused_cond = cond is not None and cond.get("reason") == du.PAUSED_REASON
        paused = bool(du.spec(d).get("paused"))
        if paused and not paused_cond:
            du.set_condition(d["status"], du.new_condition(du.PROGRESSING, "Unknown", du.PAUSED_REASON, "Deployment is paused", self._now()))
        elif not paused and paused_cond:
            du.set_condition(d["status"], du.new_condition(du.PROGRESSING, "Unknown", du.RESUMED_REASON, "Deployment is resumed", self._now()))
        else:
            return
        await self._update_status(d)

    async def _is_scaling_event(self, d: Object, rss: list[Object]) -> bool:
        """Whether spec.replicas differs from what an active ReplicaSet was sized for."""
        new_rs, old_rss = await self._all_rss_and_sync_revision(d, rss, False)
        want = du.replicas(d)
        for rs in du.filter_active([*old_rss, new_rs]):
            desired = du.desired_replicas_annotation(rs)
            if desired is not None and desired != want:
                return True
        return False

    async def _sync(self, d: Object, rss: list[Object]) -> float | None:
        """Scale (proportionally if need be) without rolling anything out; for paused and
        scaled Deployments."""
        new_rs, old_rss = await self._all_rss_and_sync_revision(d, rss, False)
        await self._scale(d, new_rs, old_rss)
        if du.spec(d).get("paused"):
            await self._cleanup(d, old_rss)
        await self._sync_deployment_status([*old_rss, new_rs], new_rs, d)
        return None

    async def _scale(self, d: Object, new_rs: Object | None, old_rss: list[Object]) -> None:
        want = du.replicas(d)
        only = du.find_active_or_latest(new_rs, old_rss)
        if only is not None:
            if du.replicas(only) != want:
                await self._scale_rs_and_record(only, want, d)
            return
        if du.is_saturated(d, new_rs):
            for old in du.filter_active(old_rss):
                await self._scale_rs_and_record(old, 0, d)
            return
        if not du.is_rolling_update(d):
            return
        active = du.filter_active([*old_rss, new_rs])
        allowed = want + du.max_surge(d) if want > 0 else 0
        to_add = allowed - du.total_spec_replicas(active)
        operation = ""
        if to_add > 0:
            active = du.by_size_newer(active)
            operation = "up"
        elif to_add < 0:
            active = du.by_size_older(active)
            operation = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in active:
            name = du.meta(rs)["name"]
            if to_add:
                part = du.proportion(rs, d, to_add, added)
                sizes[name] = du.replicas(rs) + part
                added += part
            else:
                sizes[name] = du.replicas(rs)
        for index, rs in enumerate(active):
            name = du.meta(rs)["name"]
            if index == 0 and to_add:
                sizes[name] = max(sizes[name] + to_add - added, 0)  # leftovers go to the largest
            await self._scale_rs(rs, sizes[name], d, operation)

    async def _sync_status_only(self, d: Object, rss: list[Object]) -> float | None:
        new_rs, old_rss = await self._all_rss_and_sync_revision(d, rss, False)
        await self._sync_deployment_status([*old_rss, new_rs], new_rs, d)
        return None

    async def _sync_deployment_status(self, all_rss: list[Object | None], new_rs: Object | None, d: Object) -> None:
        new_status = du.calculate_status(all_rss, new_rs, d, self._now())
        if new_status == _comparable(d["status"]):
            return
        d["status"] = new_status
        await self._update_status(d)

    # ------------------------------------------------------------------ rollouts

    async def _rollout_rolling(self, d: Object, rss: list[Object]) -> float | None:
        new_rs, old_rss = await self._all_rss_and_sync_revision(d, rss, True)
        assert new_rs is not None
        all_rss: list[Object] = [*old_rss, new_rs]
        if await self._reconcile_new_rs(all_rss, new_rs, d):
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if await self._reconcile_old_rss(all_rss, du.filter_active(old_rss), new_rs, d):
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if du.deployment_complete(d, d["status"]):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(all_rss, new_rs, d)

    async def _reconcile_new_rs(self, all_rss: list[Object], new_rs: Object, d: Object) -> bool:
        want = du.replicas(d)
        if du.replicas(new_rs) == want:
            return False
        if du.replicas(new_rs) > want:
            return await self._scale_rs_and_record(new_rs, want, d)
        return await self._scale_rs_and_record(new_rs, du.new_rs_new_replicas(d, all_rss, new_rs), d)

    async def _reconcile_old_rss(self, all_rss: list[Object], old_rss: list[Object], new_rs: Object, d: Object) -> bool:
        """Scale old ReplicaSets down as far as maxUnavailable allows: first the replicas that
        are not available anyway (they would block the rollout), then available ones."""
        if du.total_spec_replicas(old_rss) == 0:
            return False
        min_available = du.replicas(d) - du.max_unavailable(d)
        new_unavailable = du.replicas(new_rs) - du.status_int(new_rs, "availableReplicas")
        max_scaled_down = du.total_spec_replicas(all_rss) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = await self._cleanup_unhealthy(old_rss, d, max_scaled_down)
        scaled = await self._scale_down_old_for_rolling([*old_rss, new_rs], old_rss, d)
        return cleaned + scaled > 0

    async def _cleanup_unhealthy(self, old_rss: list[Object], d: Object, max_cleanup: int) -> int:
        total = 0
        for rs in du.by_creation(old_rss):
            if total >= max_cleanup:
                break
            unhealthy = du.replicas(rs) - du.status_int(rs, "availableReplicas")
            if du.replicas(rs) == 0 or unhealthy <= 0:
                continue
            count = min(max_cleanup - total, unhealthy)
            await self._scale_rs_and_record(rs, du.replicas(rs) - count, d)
            total += count
        return total

    async def _scale_down_old_for_rolling(self, all_rss: list[Object], old_rss: list[Object], d: Object) -> int:
        min_available = du.replicas(d) - du.max_unavailable(d)
        available = du.total_status(all_rss, "availableReplicas")
        if available <= min_available:
            return 0
        budget = available - min_available
        total = 0
        for rs in du.by_creation(old_rss):
            if total >= budget:
                break
            if du.replicas(rs) == 0:
                continue
            count = min(du.replicas(rs), budget - total)
            await self._scale_rs_and_record(rs, du.replicas(rs) - count, d)
            total += count
        return total

    async def _rollout_recreate(self, d: Object, rss: list[Object], pod_map: dict[str, list[Object]]) -> float | None:
        new_rs, old_rss = await self._all_rss_and_sync_revision(d, rss, False)
        all_rss: list[Object | None] = [*old_rss, new_rs]
        scaled_down = False
        for rs in du.filter_active(old_rss):
            if await self._scale_rs_and_record(rs, 0, d):
                scaled_down = True
        if scaled_down:
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if _old_pods_running(new_rs, old_rss, pod_map):
            return await self._sync_rollout_status(all_rss, new_rs, d)
        if new_rs is None:
            new_rs, old_rss = await self._all_rss_and_sync_revision(d, rss, True)
            all_rss = [*old_rss, new_rs]
        assert new_rs is not None
        await self._scale_rs_and_record(new_rs, du.replicas(d), d)
        if du.deployment_complete(d, d["status"]):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(all_rss, new_rs, d)

    # ------------------------------------------------------------------ history and status

    async def _cleanup(self, d: Object, old_rss: list[Object]) -> None:
        """Delete the oldest revisions beyond revisionHistoryLimit that run nothing."""
        if not du.has_revision_history_limit(d):
            return
        alive = [rs for rs in old_rss if not du.meta(rs).get("deletionTimestamp")]
        excess = len(alive) - int(du.spec(d)["revisionHistoryLimit"])
        if excess <= 0:
            return
        for rs in du.by_revision(alive)[:excess]:
            if (du.status_int(rs, "replicas") != 0 or du.replicas(rs) != 0
                    or int(du.meta(rs).get("generation") or 0) > du.status_int(rs, "observedGeneration")):
                continue
            self.log.info("deleting old replica set", deployment=object_key(d), replicaset=du.meta(rs)["name"])
            try:
                await self.client.delete("replicasets", du.meta(rs)["name"], namespace=du.meta(rs).get("namespace"))
            except APIError as exc:
                if exc.code != 404:
                    raise

    async def _sync_rollout_status(self, all_rss: list[Object | None], new_rs: Object | None, d: Object) -> float | None:
        """Write the status with the Progressing condition brought up to date; returns when to
        look again if the rollout may yet miss its deadline."""
        now = self.clock.now()
        stamp = du.format_time(now)
        new_status = du.calculate_status(all_rss, new_rs, d, stamp)
        if not du.has_progress_deadline(d):
            du.remove_condition(new_status, du.PROGRESSING)
        current = du.get_condition(d["status"], du.PROGRESSING)
        complete = (int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
                    and current is not None and current.get("reason") == du.NEW_RS_AVAILABLE_REASON)
        if du.has_progress_deadline(d) and not complete:
            rs_name = du.meta(new_rs).get("name") if new_rs is not None else None
            if du.deployment_complete(d, new_status):
                message = (f'ReplicaSet "{rs_name}" has successfully progressed.' if rs_name
                           else f'Deployment "{du.meta(d)["name"]}" has successfully progressed.')
                du.set_condition(new_status, du.new_condition(du.PROGRESSING, "True", du.NEW_RS_AVAILABLE_REASON, message, stamp))
            elif du.deployment_progressing(d, new_status):
                message = (f'ReplicaSet "{rs_name}" is progressing.' if rs_name
                           else f'Deployment "{du.meta(d)["name"]}" is progressing.')
                condition = du.new_condition(du.PROGRESSING, "True", du.RS_UPDATED_REASON, message, stamp)
                if current is not None:
                    # Progress moves lastUpdateTime even when the reason stays the same.
                    if current.get("status") == "True":
                        condition["lastTransitionTime"] = current.get("lastTransitionTime")
                    du.remove_condition(new_status, du.PROGRESSING)
                du.set_condition(new_status, condition)
            elif du.deployment_timed_out(d, new_status, now):
                message = (f'ReplicaSet "{rs_name}" has timed out progressing.' if rs_name
                           else f'Deployment "{du.meta(d)["name"]}" has timed out progressing.')
                du.set_condition(new_status, du.new_condition(du.PROGRESSING, "False", du.TIMED_OUT_REASON, message, stamp))
        failures = _replica_failures(all_rss, new_rs)
        if failures:
            du.set_condition(new_status, failures[0])
        else:
            du.remove_condition(new_status, du.REPLICA_FAILURE)
        if new_status == _comparable(d["status"]):
            return self._requeue_stuck(d, new_status)
        d["status"] = new_status
        await self._update_status(d)
        return None

    def _requeue_stuck(self, d: Object, new_status: Object) -> float | None:
        """When a rollout has not finished: how long until its progress deadline passes (a
        little after, so that the next look sees it passed)."""
        current = du.get_condition(d["status"], du.PROGRESSING)
        if not du.has_progress_deadline(d) or current is None:
            return None
        if du.deployment_complete(d, new_status) or current.get("reason") == du.TIMED_OUT_REASON:
            return None
        updated = du.parse_time(current.get("lastUpdateTime"))
        if updated is None:
            return None
        deadline = updated.timestamp() + int(du.spec(d)["progressDeadlineSeconds"])
        after = deadline - self.clock.time()
        if after < 1.0:
            return max(after, 0.0) + 0.1
        return after + 1.0


_POINTER_COUNTS = frozenset({"collisionCount", "terminatingReplicas"})


def _comparable(stored: Object) -> Object:
    """A stored status in the form calculate_status builds (zero counts left out)."""
    return {k: v for k, v in stored.items() if not (v == 0 and k not in _POINTER_COUNTS) and v is not None and v != []}


def _namespace_terminating(exc: APIError) -> bool:
    causes = (exc.details or {}).get("causes") or []
    return any(c.get("reason") == "NamespaceTerminating" for c in causes if isinstance(c, dict))


def _replica_failures(all_rss: list[Object | None], new_rs: Object | None) -> list[Object]:
    """ReplicaFailure conditions of the new ReplicaSet, else of any other, as Deployment ones."""
    def of(rs: Object | None) -> list[Object]:
        return [du.rs_to_deployment_condition(c) for c in du.status(rs).get("conditions") or [] if c.get("type") == du.REPLICA_FAILURE]

    found = of(new_rs)
    if found:
        return found
    return [c for rs in all_rss if rs is not None for c in of(rs)]


def _old_pods_running(new_rs: Object | None, old_rss: list[Object], pod_map: dict[str, list[Object]]) -> bool:
    """Whether any old ReplicaSet still has pods, or any pod not of the new ReplicaSet is not
    finished (Succeeded or Failed)."""
    if du.total_status(old_rss, "replicas") > 0:
        return True
    new_uid = du.uid(new_rs) if new_rs is not None else None
    for rs_uid, pods in pod_map.items():
        if rs_uid == new_uid:
            continue
        for pod in pods:
            if du.status(pod).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False

